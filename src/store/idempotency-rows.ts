/**
 * The rows of `idempotency_records` (DESIGN.md section 4 step 1; draft-ietf-httpapi-idempotency-key-header-07):
 * one per (tenant, client, key), holding the request's fingerprint, the claim's saga and process and, once the first
 * request finished, its answer. What a claim means — which of concurrent claims wins, what a replay answers, when an
 * in-flight claim is abandoned — is `src/booking/idempotency-store.ts`'s; this file reads and writes the rows.
 */
import type { StoreTransaction } from './database.js';

/** Names one key's record: the tenant, the client whose key it is, and the key. */
export interface IdempotencyKeyRef {
  tenantId: string;
  clientId: string;
  key: string;
}

/** The columns that name one key's record: the filter of every read and write of that record. */
export function idempotencyKeyColumns(ref: IdempotencyKeyRef) {
  return { tenant_id: ref.tenantId, client_id: ref.clientId, idempotency_key: ref.key };
}

/** An answer stored under a key, replayed to retries. */
export interface StoredAnswer {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

/** The columns that hold a stored answer. */
export function answerColumns(answer: StoredAnswer): { status: number; response: string } {
  return { status: answer.status, response: JSON.stringify({ headers: answer.headers, body: answer.body }) };
}

/** A key's record as read. */
export interface IdempotencyRecord {
  fingerprint: string;
  /** `in-flight` from the claim until the first request finished, then `completed`. */
  state: string;
  /** The stored answer of a `completed` record. */
  answer: StoredAnswer | undefined;
  /** When the key was claimed (ISO-8601). */
  createdAt: string;
  /** The saga the claim was bound to, if any (none before migration 0020). */
  sagaId: string | undefined;
  /** The process that claimed the key (none before migration 0020). */
  owner: string | undefined;
}

/** A new `in-flight` claim of a key. */
export interface NewIdempotencyClaim {
  fingerprint: string;
  createdAt: Date;
  expiresAt: Date;
  sagaId?: string;
  owner?: string;
}

/** The record of `ref`, if there is one. */
export async function readIdempotencyRecord(
  db: StoreTransaction,
  ref: IdempotencyKeyRef,
): Promise<IdempotencyRecord | undefined> {
  const row = await db
    .selectFrom('idempotency_records')
    .select(['fingerprint', 'state', 'status', 'response', 'created_at', 'saga_id', 'owner'])
    .where((eb) => eb.and(idempotencyKeyColumns(ref)))
    .executeTakeFirst();
  if (!row) return undefined;
  let answer: StoredAnswer | undefined;
  if (row.state === 'completed' && row.status !== null) {
    const stored = JSON.parse(row.response ?? '{}') as { headers?: Record<string, string>; body?: unknown };
    answer = { status: row.status, headers: stored.headers ?? {}, body: stored.body };
  }
  return {
    fingerprint: row.fingerprint,
    state: row.state,
    answer,
    createdAt: row.created_at,
    sagaId: row.saga_id ?? undefined,
    owner: row.owner ?? undefined,
  };
}

/** Inserts an `in-flight` claim; fails with a unique violation when the key has a record already. */
export async function insertIdempotencyClaim(
  trx: StoreTransaction,
  ref: IdempotencyKeyRef,
  claim: NewIdempotencyClaim,
): Promise<void> {
  await trx
    .insertInto('idempotency_records')
    .values({
      ...idempotencyKeyColumns(ref),
      fingerprint: claim.fingerprint,
      state: 'in-flight',
      status: null,
      response: null,
      created_at: claim.createdAt.toISOString(),
      expires_at: claim.expiresAt.toISOString(),
      saga_id: claim.sagaId ?? null,
      owner: claim.owner ?? null,
    })
    .execute();
}

/**
 * Deletes the record of `ref`: whatever its state, or (`inFlight`) only while it is `in-flight`, and then, with
 * `owner`, only when that process claimed it. Returns how many rows went (0 or 1).
 */
export async function deleteIdempotencyRecord(
  trx: StoreTransaction,
  ref: IdempotencyKeyRef,
  only: { inFlight?: true; owner?: string } = {},
): Promise<number> {
  const filter = {
    ...idempotencyKeyColumns(ref),
    ...(only.inFlight ? { state: 'in-flight' } : {}),
    ...(only.owner === undefined ? {} : { owner: only.owner }),
  };
  const result = await trx
    .deleteFrom('idempotency_records')
    .where((eb) => eb.and(filter))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Deletes the records expired at `now`: of one tenant, or of every tenant. Returns how many. */
export async function deleteExpiredIdempotencyRecords(
  trx: StoreTransaction,
  now: Date,
  tenantId?: string,
): Promise<number> {
  let query = trx.deleteFrom('idempotency_records').where('expires_at', '<=', now.toISOString());
  if (tenantId !== undefined) query = query.where('tenant_id', '=', tenantId);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Binds the `in-flight` record of `ref` to saga `sagaId`; a record in any other state is left alone. */
export async function bindInFlightRecord(
  trx: StoreTransaction,
  ref: IdempotencyKeyRef,
  sagaId: string,
): Promise<void> {
  await trx
    .updateTable('idempotency_records')
    .set({ saga_id: sagaId })
    .where((eb) => eb.and({ ...idempotencyKeyColumns(ref), state: 'in-flight' }))
    .execute();
}

/** Stores `answer` in the `in-flight` record of `ref`, which becomes `completed`. */
export async function completeInFlightRecord(
  trx: StoreTransaction,
  ref: IdempotencyKeyRef,
  answer: StoredAnswer,
): Promise<void> {
  await trx
    .updateTable('idempotency_records')
    .set({ state: 'completed', ...answerColumns(answer) })
    .where((eb) => eb.and({ ...idempotencyKeyColumns(ref), state: 'in-flight' }))
    .execute();
}

/** Whether saga `sagaId` of the tenant has a row: a key bound to a recorded saga stays bound until it ends. */
export async function sagaRecorded(
  trx: StoreTransaction,
  tenantId: string,
  sagaId: string,
): Promise<boolean> {
  const saga = await trx
    .selectFrom('booking_sagas')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('id', '=', sagaId)
    .executeTakeFirst();
  return saga !== undefined;
}
