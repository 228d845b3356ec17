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
import type { Store } from '../store/database.js';
import { isUniqueViolation } from '../store/dialect-capabilities.js';
import {
  bindInFlightRecord,
  completeInFlightRecord,
  deleteExpiredIdempotencyRecords,
  deleteIdempotencyRecord,
  insertIdempotencyClaim,
  readIdempotencyRecord,
  sagaRecorded,
  type IdempotencyKeyRef,
  type IdempotencyRecord,
  type StoredAnswer,
} from '../store/idempotency-rows.js';

/** How long a key and its response are kept: 24 hours, as published in the CapabilityStatement. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 3600_000;

/**
 * An in-flight claim older than this, whose saga was never recorded, is abandoned (its process died): longer than
 * any request runs before its saga is recorded.
 */
export const IN_FLIGHT_LEASE_MS = 5 * 60_000;

/** The tenant, the authenticated client (keys of different clients never meet) and the key. */
export type IdempotencyScope = IdempotencyKeyRef;

/** What a finished request answered, as replayed to a retry. */
export type StoredResponse = StoredAnswer;

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
  try {
    return await store.write(async (trx) => {
      await deleteExpiredIdempotencyRecords(trx, now, scope.tenantId);
      const record = await readIdempotencyRecord(trx, scope);
      if (record) {
        const abandoned =
          record.state === 'in-flight' &&
          Date.parse(record.createdAt) <= now.getTime() - IN_FLIGHT_LEASE_MS &&
          // A key stays bound to its recorded saga until the saga ends, however long that takes.
          !(record.sagaId !== undefined && (await sagaRecorded(trx, scope.tenantId, record.sagaId)));
        if (!abandoned) return decide(record, fingerprint);
        await deleteIdempotencyRecord(trx, scope);
      }
      await insertIdempotencyClaim(trx, scope, newClaim(fingerprint, now, binding));
      return { kind: 'claimed' } as const;
    });
  } catch (err) {
    // PostgreSQL: a concurrent claim inserted the same key first.
    if (!isUniqueViolation(store.capabilities, err)) throw err;
    const record = await readIdempotencyRecord(store.db, scope);
    return record ? decide(record, fingerprint) : { kind: 'in-flight' };
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
      const gone = await deleteIdempotencyRecord(trx, scope, { inFlight: true, owner: staleOwner });
      if (gone === 0) return { kind: 'in-flight' } as const;
      await insertIdempotencyClaim(trx, scope, newClaim(fingerprint, now, binding));
      return { kind: 'claimed' } as const;
    });
  } catch (err) {
    if (!isUniqueViolation(store.capabilities, err)) throw err;
    return { kind: 'in-flight' };
  }
}

/** A claim of the key by `binding`'s process for a request with this fingerprint, kept for the retention time. */
function newClaim(fingerprint: string, now: Date, binding: ClaimBinding | undefined) {
  return {
    fingerprint,
    createdAt: now,
    expiresAt: new Date(now.getTime() + IDEMPOTENCY_RETENTION_MS),
    sagaId: binding?.sagaId,
    owner: binding?.owner,
  };
}

/** Binds an `in-flight` key to an existing saga (a hold being confirmed) in place of the one drawn at the claim. */
export async function bindIdempotencyKey(
  store: Store,
  scope: IdempotencyScope,
  sagaId: string,
): Promise<void> {
  await store.write((trx) => bindInFlightRecord(trx, scope, sagaId));
}

/** Stores the response of a claimed key, for replays until the record expires. */
export async function completeIdempotencyKey(
  store: Store,
  scope: IdempotencyScope,
  response: StoredResponse,
): Promise<void> {
  await store.write((trx) => completeInFlightRecord(trx, scope, response));
}

/** Drops a claim whose request should run again when retried with the same key. */
export async function forgetIdempotencyKey(store: Store, scope: IdempotencyScope): Promise<void> {
  await store.write((trx) => deleteIdempotencyRecord(trx, scope, { inFlight: true }));
}

/** Deletes every expired record of every tenant; returns how many. For a periodic clean-up. */
export async function purgeExpiredIdempotencyRecords(store: Store, now: Date): Promise<number> {
  return store.write((trx) => deleteExpiredIdempotencyRecords(trx, now));
}

function decide(record: IdempotencyRecord, fingerprint: string): IdempotencyClaim {
  if (record.fingerprint !== fingerprint) return { kind: 'mismatch' };
  if (record.answer === undefined) return { kind: 'in-flight', sagaId: record.sagaId, owner: record.owner };
  return { kind: 'replay', response: record.answer };
}
