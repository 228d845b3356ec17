/**
 * Instances and work leases in the store (issue 11, DESIGN.md section 5): each instance heartbeats a row; a lease
 * row names its holder, its fencing `epoch` and when it expires. Every change of holder raises the epoch, so a
 * write that checks "holder and epoch still mine, not expired" in its own transaction ({@link assertFence}) cannot
 * commit once another instance has taken the lease over — the takeover's UPDATE and the check's row lock
 * serialize on the lease row.
 *
 * Times are epoch milliseconds of the caller's wall clock. Clock skew between instances moves when a takeover
 * happens, never whether a fenced write commits: that depends on the epoch, read under a row lock.
 */
import type { Store, StoreTransaction } from './database.js';

/** A lease as held: the fencing token a fenced write must still match. */
export interface Fence {
  readonly name: string;
  readonly holder: string;
  readonly epoch: number;
}

/** A lease row as read. */
export interface LeaseRow {
  name: string;
  holder: string;
  epoch: number;
  expiresAtMs: number;
  acquiredAt: string;
}

/** Thrown inside a fenced write whose lease was lost: the transaction rolls back. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
  constructor(readonly fence: Fence) {
    super(`lease ${fence.name} (epoch ${fence.epoch}) is no longer held by ${fence.holder}`);
  }
}

export function isLeaseLost(error: unknown): error is LeaseLostError {
  return error instanceof LeaseLostError;
}

/** Records that `instanceId` is alive at `nowMs` (inserted on first beat). */
export async function heartbeat(
  store: Store,
  instanceId: string,
  startedAt: string,
  nowMs: number,
): Promise<void> {
  await store.write((trx) =>
    trx
      .insertInto('instances')
      .values({ id: instanceId, started_at: startedAt, heartbeat_at_ms: nowMs })
      // A restart under a configured id is a new start of that instance: the row names the start now running.
      .onConflict((oc) => oc.column('id').doUpdateSet({ started_at: startedAt, heartbeat_at_ms: nowMs }))
      .execute(),
  );
}

/** Ids of the instances whose heartbeat is newer than `aliveAfterMs`, sorted. */
export async function liveInstances(store: Store, aliveAfterMs: number): Promise<string[]> {
  const rows = await store.db
    .selectFrom('instances')
    .select('id')
    .where('heartbeat_at_ms', '>', aliveAfterMs)
    .orderBy('id')
    .execute();
  return rows.map((r) => r.id);
}

/**
 * The starts (processes) of the instances whose heartbeat is newer than `aliveAfterMs`, as
 * {@link processName} names them: a process that died and was replaced under the same instance id is not among them.
 */
export async function liveProcesses(store: Store, aliveAfterMs: number): Promise<string[]> {
  const rows = await store.db
    .selectFrom('instances')
    .select(['id', 'started_at'])
    .where('heartbeat_at_ms', '>', aliveAfterMs)
    .execute();
  return rows.map((r) => processName(r.id, r.started_at));
}

/** One start of an instance: its id and when that process started. */
export const processName = (instanceId: string, startedAt: string): string => `${instanceId}/${startedAt}`;

/** Forgets an instance (a clean stop), and instances silent since `forgetBeforeMs`. */
export async function removeInstances(
  store: Store,
  instanceId: string | undefined,
  forgetBeforeMs: number,
): Promise<void> {
  await store.write((trx) =>
    trx
      .deleteFrom('instances')
      .where((eb) =>
        instanceId === undefined
          ? eb('heartbeat_at_ms', '<', forgetBeforeMs)
          : eb.or([eb('id', '=', instanceId), eb('heartbeat_at_ms', '<', forgetBeforeMs)]),
      )
      .execute(),
  );
}

/**
 * Takes lease `name` for `holder` until `nowMs + ttlMs` if it is free: never taken, or expired at `nowMs` (whoever
 * held it, `holder` included: an expired lease is re-taken under a new epoch, so work begun under the old one
 * cannot commit). Returns the new fence, or undefined when another holder's lease is live.
 */
export async function acquireLease(
  store: Store,
  name: string,
  holder: string,
  nowMs: number,
  ttlMs: number,
): Promise<Fence | undefined> {
  const row = await store.write((trx) =>
    trx
      .insertInto('leases')
      .values({
        name,
        holder,
        epoch: 1,
        expires_at_ms: nowMs + ttlMs,
        acquired_at: new Date(nowMs).toISOString(),
      })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet((eb) => ({
            holder,
            epoch: eb(eb.ref('leases.epoch'), '+', 1),
            expires_at_ms: nowMs + ttlMs,
            acquired_at: new Date(nowMs).toISOString(),
          }))
          .where('leases.expires_at_ms', '<=', nowMs),
      )
      .returning(['name', 'holder', 'epoch'])
      .executeTakeFirst(),
  );
  return row && row.holder === holder ? { name, holder, epoch: Number(row.epoch) } : undefined;
}

/** Extends a live lease `fence` still holds; false when it expired or passed to another (then it is lost). */
export async function renewLease(store: Store, fence: Fence, nowMs: number, ttlMs: number): Promise<boolean> {
  const result = await store.write((trx) =>
    trx
      .updateTable('leases')
      .set({ expires_at_ms: nowMs + ttlMs })
      .where('name', '=', fence.name)
      .where('holder', '=', fence.holder)
      .where('epoch', '=', fence.epoch)
      .where('expires_at_ms', '>', nowMs)
      .executeTakeFirst(),
  );
  return Number(result.numUpdatedRows) === 1;
}

/** Gives a held lease up at once (a clean stop, or a hand-over to the instance it belongs to). */
export async function releaseLease(store: Store, fence: Fence, nowMs: number): Promise<void> {
  await store.write((trx) =>
    trx
      .updateTable('leases')
      .set({ expires_at_ms: nowMs })
      .where('name', '=', fence.name)
      .where('holder', '=', fence.holder)
      .where('epoch', '=', fence.epoch)
      .where('expires_at_ms', '>', nowMs)
      .execute(),
  );
}

/** The lease rows whose names start with `prefix`. */
export async function listLeases(store: Store, prefix: string): Promise<LeaseRow[]> {
  const rows = await store.db
    .selectFrom('leases')
    .selectAll()
    .where('name', 'like', `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)
    .execute();
  return rows.map((r) => ({
    name: r.name,
    holder: r.holder,
    epoch: Number(r.epoch),
    expiresAtMs: Number(r.expires_at_ms),
    acquiredAt: r.acquired_at,
  }));
}

/**
 * The fencing check, inside the transaction about to commit: the lease row must still name `fence`'s holder and
 * epoch and be unexpired at `nowMs`. On PostgreSQL the row is read `FOR SHARE`, so a concurrent takeover waits for
 * this commit (or this check waits for the takeover and sees the new epoch): `lockRow` where the dialect has row
 * locks. SQLite's writers take turns anyway.
 *
 * @throws LeaseLostError (the caller's transaction then rolls back)
 */
export async function assertFence(
  trx: StoreTransaction,
  fence: Fence,
  nowMs: number,
  lockRow: boolean,
): Promise<void> {
  let query = trx
    .selectFrom('leases')
    .select(['holder', 'epoch', 'expires_at_ms'])
    .where('name', '=', fence.name);
  if (lockRow) query = query.forShare();
  const row = await query.executeTakeFirst();
  if (
    !row ||
    row.holder !== fence.holder ||
    Number(row.epoch) !== fence.epoch ||
    Number(row.expires_at_ms) <= nowMs
  )
    throw new LeaseLostError(fence);
}
