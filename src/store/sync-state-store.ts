/**
 * Sync progress and health per tenant and stream (DESIGN.md sections 3 and 5): cursors, last attempt and success,
 * last error, consecutive failures and the health `/readyz`, `/status` and `/metrics` report.
 */
import type { Store, StoreTransaction } from './database.js';
import type { SyncStateTable } from './schema.js';

/** How current a stream is. */
export type SyncHealth = 'fresh' | 'lagging' | 'failing';

/** The sync state of one stream (e.g. `appointments-hot`, `patients`) of one tenant. */
export interface SyncState {
  tenantId: string;
  stream: string;
  /** Opaque to the store: whatever the poller needs to resume (a `modifiedSince` wall time, a page token). */
  cursor: string | null;
  /** ISO-8601 UTC. */
  lastAttemptAt: string | null;
  /** ISO-8601 UTC. */
  lastSuccessAt: string | null;
  /** Safe to show (no PHI). */
  lastError: string | null;
  consecutiveFailures: number;
  health: SyncHealth;
  /** ISO-8601 UTC of the last change to this row. */
  updatedAt: string;
}

/** Fields to change; absent fields keep their value (or their default on the first write), null clears. */
export type SyncStatePatch = Partial<
  Pick<
    SyncState,
    'cursor' | 'lastAttemptAt' | 'lastSuccessAt' | 'lastError' | 'consecutiveFailures' | 'health'
  >
>;

/**
 * The state of one stream, or undefined before its first write.
 *
 * @see DESIGN.md section 3
 */
export async function getSyncState(
  store: Store,
  tenantId: string,
  stream: string,
): Promise<SyncState | undefined> {
  const row = await store.db
    .selectFrom('sync_state')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('stream', '=', stream)
    .executeTakeFirst();
  return row ? toSyncState(row) : undefined;
}

/**
 * Every stream of a tenant, by stream name.
 *
 * @see DESIGN.md section 3
 */
export async function listSyncStates(store: Store, tenantId: string): Promise<SyncState[]> {
  const rows = await store.db
    .selectFrom('sync_state')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .orderBy('stream')
    .execute();
  return rows.map(toSyncState);
}

/**
 * Creates or updates one stream's state and returns it. A new row starts with no cursor, no failures and health
 * `lagging` (nothing synced yet) unless the patch says otherwise.
 *
 * @see DESIGN.md section 3
 */
export function upsertSyncState(
  store: Store,
  tenantId: string,
  stream: string,
  patch: SyncStatePatch,
  options: { now?: Date } = {},
): Promise<SyncState> {
  const now = options.now ?? store.now();
  return store.write((trx) => upsertSyncStateInTransaction(trx, tenantId, stream, patch, now));
}

/**
 * {@link upsertSyncState} inside a write transaction the caller already holds, so a cursor can advance in the
 * same transaction as the changes it covers.
 *
 * @see DESIGN.md section 3
 */
export async function upsertSyncStateInTransaction(
  trx: StoreTransaction,
  tenantId: string,
  stream: string,
  patch: SyncStatePatch,
  now: Date,
): Promise<SyncState> {
  const changes: Partial<SyncStateTable> = { updated_at: now.toISOString() };
  if (patch.cursor !== undefined) changes.cursor = patch.cursor;
  if (patch.lastAttemptAt !== undefined) changes.last_attempt_at = patch.lastAttemptAt;
  if (patch.lastSuccessAt !== undefined) changes.last_success_at = patch.lastSuccessAt;
  if (patch.lastError !== undefined) changes.last_error = patch.lastError;
  if (patch.consecutiveFailures !== undefined) changes.consecutive_failures = patch.consecutiveFailures;
  if (patch.health !== undefined) changes.health = patch.health;
  const row = await trx
    .insertInto('sync_state')
    .values({
      tenant_id: tenantId,
      stream,
      cursor: null,
      last_attempt_at: null,
      last_success_at: null,
      last_error: null,
      consecutive_failures: 0,
      health: 'lagging',
      updated_at: now.toISOString(),
      ...changes,
    })
    .onConflict((oc) => oc.columns(['tenant_id', 'stream']).doUpdateSet(changes))
    .returningAll()
    .executeTakeFirstOrThrow();
  return toSyncState(row);
}

function toSyncState(row: SyncStateTable): SyncState {
  return {
    tenantId: row.tenant_id,
    stream: row.stream,
    cursor: row.cursor,
    lastAttemptAt: row.last_attempt_at,
    lastSuccessAt: row.last_success_at,
    lastError: row.last_error,
    consecutiveFailures: row.consecutive_failures,
    health: row.health as SyncHealth,
    updatedAt: row.updated_at,
  };
}
