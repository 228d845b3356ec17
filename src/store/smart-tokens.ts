/**
 * Access tokens of SMART Backend Services clients and the assertion ids they used (standards.md 7.2), shared by
 * every instance on one database: a token issued by one instance is accepted by all, and a `jti` seen by one is a
 * replay at all. Tokens are kept as SHA-256 only.
 */
import type { Store } from './database.js';

export interface IssuedAccessToken {
  tokenSha256: string;
  tenantId: string;
  clientId: string;
  scopes: string[];
  issuedAt: Date;
  expiresAt: Date;
}

/** Records a token the token endpoint issued (and drops tokens expired before `now`). */
export async function insertAccessToken(store: Store, token: IssuedAccessToken, now: Date): Promise<void> {
  await store.db.deleteFrom('smart_access_tokens').where('expires_at', '<', now.toISOString()).execute();
  await store.db
    .insertInto('smart_access_tokens')
    .values({
      token_sha256: token.tokenSha256,
      tenant_id: token.tenantId,
      client_id: token.clientId,
      scopes: token.scopes.join(' '),
      issued_at: token.issuedAt.toISOString(),
      expires_at: token.expiresAt.toISOString(),
    })
    .execute();
}

/** The unexpired token with this SHA-256, if any. */
export async function readAccessToken(
  store: Store,
  tokenSha256: string,
  now: Date,
): Promise<IssuedAccessToken | undefined> {
  const row = await store.db
    .selectFrom('smart_access_tokens')
    .selectAll()
    .where('token_sha256', '=', tokenSha256)
    .where('expires_at', '>', now.toISOString())
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    tokenSha256: row.token_sha256,
    tenantId: row.tenant_id,
    clientId: row.client_id,
    scopes: row.scopes.split(' ').filter((s) => s !== ''),
    issuedAt: new Date(row.issued_at),
    expiresAt: new Date(row.expires_at),
  };
}

/**
 * Records that `clientId` used assertion `jti` (kept until the assertion expires): true the first time, false for
 * a replay. Ids of assertions expired before `now` are dropped first, so the table stays small.
 */
export async function recordAssertionJti(
  store: Store,
  clientId: string,
  jti: string,
  expiresAt: Date,
  now: Date,
): Promise<boolean> {
  await store.db.deleteFrom('smart_assertion_jtis').where('expires_at', '<', now.toISOString()).execute();
  const result = await store.db
    .insertInto('smart_assertion_jtis')
    .values({ client_id: clientId, jti, expires_at: expiresAt.toISOString() })
    .onConflict((oc) => oc.columns(['client_id', 'jti']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}
