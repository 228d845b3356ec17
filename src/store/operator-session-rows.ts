/**
 * Operator console sessions (`operator_sessions`, issue 15), shared by every instance on the store. Rows hold the
 * SHA-256 of the session id, so reading the table signs no one in.
 */
import type { Store } from './database.js';

/** Records a session until `expiresAt`, and forgets the expired ones. */
export async function insertOperatorSession(
  store: Store,
  row: { sessionSha256: string; clientId: string; expiresAt: string; now: string },
): Promise<void> {
  await store.write(async (trx) => {
    await trx.deleteFrom('operator_sessions').where('expires_at', '<=', row.now).execute();
    await trx
      .insertInto('operator_sessions')
      .values({ session_sha256: row.sessionSha256, client_id: row.clientId, expires_at: row.expiresAt })
      .execute();
  });
}

/** The client of a live session, or undefined. */
export async function operatorSessionClient(
  store: Store,
  sessionSha256: string,
  now: string,
): Promise<string | undefined> {
  const row = await store.db
    .selectFrom('operator_sessions')
    .select('client_id')
    .where('session_sha256', '=', sessionSha256)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return row?.client_id;
}

/** Ends a session. */
export async function deleteOperatorSession(store: Store, sessionSha256: string): Promise<void> {
  await store.write((trx) =>
    trx.deleteFrom('operator_sessions').where('session_sha256', '=', sessionSha256).execute(),
  );
}
