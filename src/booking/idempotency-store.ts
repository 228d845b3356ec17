/**
 * Idempotency records (DESIGN.md section 4 step 1; draft-ietf-httpapi-idempotency-key-header-07, standards.md 6):
 * one row per (tenant, client, key) in `idempotency_records`, holding the request's fingerprint and, once the first
 * request finished, its response. Keys are scoped per client so one client's key can never replay another's
 * response, and per tenant like every row.
 *
 * Life of a key: {@link claimIdempotencyKey} inserts it `in-flight` (the primary key makes exactly one of
 * concurrent claims win); {@link completeIdempotencyKey} stores the response; {@link forgetIdempotencyKey} drops
 * the claim of a request whose outcome must not be replayed (a transient failure the client should retry). Rows
 * expire {@link IDEMPOTENCY_RETENTION_MS} after the claim and are purged on the next claim of the tenant (and by
 * {@link purgeExpiredIdempotencyRecords}); an `in-flight` claim older than {@link IN_FLIGHT_LEASE_MS} was left by a
 * crashed process and may be taken over.
 */
import type { Store } from '../store/database.js';
import { isUniqueViolation } from '../store/dialect-capabilities.js';

/** How long a key and its response are kept: 24 hours, as published in the CapabilityStatement. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 3600_000;

/** An in-flight claim older than this is abandoned (its process died): longer than any booking saga step runs. */
export const IN_FLIGHT_LEASE_MS = 5 * 60_000;

export interface IdempotencyScope {
  tenantId: string;
  /** The authenticated client; keys of different clients never meet. */
  clientId: string;
  key: string;
}

/** What a finished request answered, as replayed to a retry. */
export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

export type IdempotencyClaim =
  /** The caller runs the request and then completes or forgets the key. */
  | { kind: 'claimed' }
  /** The key finished with the same request: answer the stored response. */
  | { kind: 'replay'; response: StoredResponse }
  /** The first request with this key is still running. */
  | { kind: 'in-flight' }
  /** The key was used with a different request. */
  | { kind: 'mismatch' };

interface RecordRow {
  fingerprint: string;
  state: string;
  status: number | null;
  response: string | null;
  created_at: string;
}

/**
 * Claims `scope.key` for a request with this fingerprint, or says why not. Purges the tenant's expired records
 * in the same transaction.
 */
export async function claimIdempotencyKey(
  store: Store,
  scope: IdempotencyScope,
  fingerprint: string,
  now: Date,
): Promise<IdempotencyClaim> {
  const nowIso = now.toISOString();
  try {
    return await store.write(async (trx) => {
      await trx
        .deleteFrom('idempotency_records')
        .where('tenant_id', '=', scope.tenantId)
        .where('expires_at', '<=', nowIso)
        .execute();
      const row = await trx
        .selectFrom('idempotency_records')
        .select(['fingerprint', 'state', 'status', 'response', 'created_at'])
        .where('tenant_id', '=', scope.tenantId)
        .where('client_id', '=', scope.clientId)
        .where('idempotency_key', '=', scope.key)
        .executeTakeFirst();
      if (row) {
        const abandoned =
          row.state === 'in-flight' && Date.parse(row.created_at) <= now.getTime() - IN_FLIGHT_LEASE_MS;
        if (!abandoned) return decide(row, fingerprint);
        await trx
          .deleteFrom('idempotency_records')
          .where('tenant_id', '=', scope.tenantId)
          .where('client_id', '=', scope.clientId)
          .where('idempotency_key', '=', scope.key)
          .execute();
      }
      await trx
        .insertInto('idempotency_records')
        .values({
          tenant_id: scope.tenantId,
          client_id: scope.clientId,
          idempotency_key: scope.key,
          fingerprint,
          state: 'in-flight',
          status: null,
          response: null,
          created_at: nowIso,
          expires_at: new Date(now.getTime() + IDEMPOTENCY_RETENTION_MS).toISOString(),
        })
        .execute();
      return { kind: 'claimed' } as const;
    });
  } catch (err) {
    // PostgreSQL: a concurrent claim inserted the same key first.
    if (!isUniqueViolation(store.capabilities, err)) throw err;
    const row = await store.db
      .selectFrom('idempotency_records')
      .select(['fingerprint', 'state', 'status', 'response', 'created_at'])
      .where('tenant_id', '=', scope.tenantId)
      .where('client_id', '=', scope.clientId)
      .where('idempotency_key', '=', scope.key)
      .executeTakeFirst();
    return row ? decide(row, fingerprint) : { kind: 'in-flight' };
  }
}

/** Stores the response of a claimed key, for replays until the record expires. */
export async function completeIdempotencyKey(
  store: Store,
  scope: IdempotencyScope,
  response: StoredResponse,
): Promise<void> {
  await store.write((trx) =>
    trx
      .updateTable('idempotency_records')
      .set({
        state: 'completed',
        status: response.status,
        response: JSON.stringify({ headers: response.headers, body: response.body }),
      })
      .where('tenant_id', '=', scope.tenantId)
      .where('client_id', '=', scope.clientId)
      .where('idempotency_key', '=', scope.key)
      .where('state', '=', 'in-flight')
      .execute(),
  );
}

/** Drops a claim whose request should run again when retried with the same key. */
export async function forgetIdempotencyKey(store: Store, scope: IdempotencyScope): Promise<void> {
  await store.write((trx) =>
    trx
      .deleteFrom('idempotency_records')
      .where('tenant_id', '=', scope.tenantId)
      .where('client_id', '=', scope.clientId)
      .where('idempotency_key', '=', scope.key)
      .where('state', '=', 'in-flight')
      .execute(),
  );
}

/** Deletes every expired record of every tenant; returns how many. For a periodic clean-up. */
export async function purgeExpiredIdempotencyRecords(store: Store, now: Date): Promise<number> {
  const result = await store.write((trx) =>
    trx.deleteFrom('idempotency_records').where('expires_at', '<=', now.toISOString()).executeTakeFirst(),
  );
  return Number(result.numDeletedRows);
}

function decide(row: RecordRow, fingerprint: string): IdempotencyClaim {
  if (row.fingerprint !== fingerprint) return { kind: 'mismatch' };
  if (row.state !== 'completed' || row.status === null) return { kind: 'in-flight' };
  const stored = JSON.parse(row.response ?? '{}') as { headers?: Record<string, string>; body?: unknown };
  return {
    kind: 'replay',
    response: { status: row.status, headers: stored.headers ?? {}, body: stored.body },
  };
}
