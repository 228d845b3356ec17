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
 * {@link purgeExpiredIdempotencyRecords}).
 *
 * A claim names the process that made it (`owner`) and the booking saga it will run (`sagaId`, fixed before the
 * saga starts), so a replay while the key is `in-flight` can tell what became of it when its process has died:
 * the saga's outcome once the saga was recorded, else nothing was sent and {@link takeOverIdempotencyKey} lets the
 * replay run it afresh. A claim of a process nobody can vouch for (made before migration 0020, or by an instance
 * whose liveness is unknown) is taken over once older than {@link IN_FLIGHT_LEASE_MS}.
 */
import type { Store, StoreTransaction } from '../store/database.js';
import { isUniqueViolation } from '../store/dialect-capabilities.js';
import { idempotencyKeyColumns } from '../store/idempotency-settle.js';

/** How long a key and its response are kept: 24 hours, as published in the CapabilityStatement. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 3600_000;

/**
 * An in-flight claim older than this, whose saga was never recorded, is abandoned (its process died): longer than
 * any request runs before its saga is recorded.
 */
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

/** Who claims a key, and for which saga. */
export interface ClaimBinding {
  /** The saga the request will run under, if it books (the saga may never be recorded). */
  sagaId?: string;
  /** The claiming process (`BookingService.owner`). */
  owner: string;
}

export type IdempotencyClaim =
  /** The caller runs the request and then completes or forgets the key. */
  | { kind: 'claimed' }
  /** The key finished with the same request: answer the stored response. */
  | { kind: 'replay'; response: StoredResponse }
  /** The first request with this key has not finished: it runs (or ran) saga `sagaId` in process `owner`. */
  | { kind: 'in-flight'; sagaId?: string; owner?: string }
  /** The key was used with a different request. */
  | { kind: 'mismatch' };

interface RecordRow {
  fingerprint: string;
  state: string;
  status: number | null;
  response: string | null;
  created_at: string;
  saga_id: string | null;
  owner: string | null;
}

const RECORD_COLUMNS = [
  'fingerprint',
  'state',
  'status',
  'response',
  'created_at',
  'saga_id',
  'owner',
] as const;

/**
 * Claims `scope.key` for a request with this fingerprint, or says why not. Purges the tenant's expired records
 * in the same transaction.
 */
export async function claimIdempotencyKey(
  store: Store,
  scope: IdempotencyScope,
  fingerprint: string,
  now: Date,
  binding?: ClaimBinding,
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
        .select(RECORD_COLUMNS)
        .where((eb) => eb.and(idempotencyKeyColumns(scope)))
        .executeTakeFirst();
      if (row) {
        const abandoned =
          row.state === 'in-flight' &&
          Date.parse(row.created_at) <= now.getTime() - IN_FLIGHT_LEASE_MS &&
          // A key stays bound to its recorded saga until the saga ends, however long that takes.
          !(row.saga_id !== null && (await sagaRecorded(trx, scope.tenantId, row.saga_id)));
        if (!abandoned) return decide(row, fingerprint);
        await trx
          .deleteFrom('idempotency_records')
          .where((eb) => eb.and(idempotencyKeyColumns(scope)))
          .execute();
      }
      await insertClaim(trx, scope, fingerprint, now, binding);
      return { kind: 'claimed' } as const;
    });
  } catch (err) {
    // PostgreSQL: a concurrent claim inserted the same key first.
    if (!isUniqueViolation(store.capabilities, err)) throw err;
    const row = await store.db
      .selectFrom('idempotency_records')
      .select(RECORD_COLUMNS)
      .where((eb) => eb.and(idempotencyKeyColumns(scope)))
      .executeTakeFirst();
    return row ? decide(row, fingerprint) : { kind: 'in-flight' };
  }
}

/**
 * Takes over the `in-flight` claim of `staleOwner`, a process that died before recording the saga the key was
 * bound to (so nothing was sent for it): the key is claimed anew for this request. `in-flight` when another replay
 * took it over first.
 */
export async function takeOverIdempotencyKey(
  store: Store,
  scope: IdempotencyScope,
  fingerprint: string,
  now: Date,
  staleOwner: string,
  binding: ClaimBinding,
): Promise<IdempotencyClaim> {
  try {
    return await store.write(async (trx) => {
      const gone = await trx
        .deleteFrom('idempotency_records')
        .where((eb) => eb.and({ ...idempotencyKeyColumns(scope), state: 'in-flight', owner: staleOwner }))
        .executeTakeFirst();
      if (Number(gone.numDeletedRows) === 0) return { kind: 'in-flight' } as const;
      await insertClaim(trx, scope, fingerprint, now, binding);
      return { kind: 'claimed' } as const;
    });
  } catch (err) {
    if (!isUniqueViolation(store.capabilities, err)) throw err;
    return { kind: 'in-flight' };
  }
}

async function sagaRecorded(trx: StoreTransaction, tenantId: string, sagaId: string): Promise<boolean> {
  const saga = await trx
    .selectFrom('booking_sagas')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('id', '=', sagaId)
    .executeTakeFirst();
  return saga !== undefined;
}

async function insertClaim(
  trx: StoreTransaction,
  scope: IdempotencyScope,
  fingerprint: string,
  now: Date,
  binding: ClaimBinding | undefined,
): Promise<void> {
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
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + IDEMPOTENCY_RETENTION_MS).toISOString(),
      saga_id: binding?.sagaId ?? null,
      owner: binding?.owner ?? null,
    })
    .execute();
}

/** Binds an `in-flight` key to an existing saga (a hold being confirmed) in place of the one drawn at the claim. */
export async function bindIdempotencyKey(
  store: Store,
  scope: IdempotencyScope,
  sagaId: string,
): Promise<void> {
  await store.write((trx) =>
    trx
      .updateTable('idempotency_records')
      .set({ saga_id: sagaId })
      .where((eb) => eb.and({ ...idempotencyKeyColumns(scope), state: 'in-flight' }))
      .execute(),
  );
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
      .where((eb) => eb.and({ ...idempotencyKeyColumns(scope), state: 'in-flight' }))
      .execute(),
  );
}

/** Drops a claim whose request should run again when retried with the same key. */
export async function forgetIdempotencyKey(store: Store, scope: IdempotencyScope): Promise<void> {
  await store.write((trx) =>
    trx
      .deleteFrom('idempotency_records')
      .where((eb) => eb.and({ ...idempotencyKeyColumns(scope), state: 'in-flight' }))
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
  if (row.state !== 'completed' || row.status === null) {
    return { kind: 'in-flight', sagaId: row.saga_id ?? undefined, owner: row.owner ?? undefined };
  }
  const stored = JSON.parse(row.response ?? '{}') as { headers?: Record<string, string>; body?: unknown };
  return {
    kind: 'replay',
    response: { status: row.status, headers: stored.headers ?? {}, body: stored.body },
  };
}
