/**
 * Group commit (issue 16): items handed in by concurrent callers are written together, in one write transaction
 * per group, and each caller's promise settles only once the transaction holding its item has committed (or
 * failed). A caller that awaits {@link GroupCommit.submit} before answering therefore never answers for an item
 * that is not durably stored: there is no window between "answered" and "written" for a crash to fall into.
 *
 * A group is what arrived during one turn of the event loop (flushes start from `setImmediate`), plus whatever
 * arrived while the previous group was committing; at most `maxGroup` items each. An `eager` group commit starts a
 * group as soon as the current job's microtasks have run instead: for commits that are network round trips
 * (PostgreSQL), during which the next group gathers anyway, so a lone request does not wait a turn of the loop.
 * One group commits at a time, so at most one transaction of this process is ever waiting on the store's write
 * lock (SQLite) or a counter's row lock (PostgreSQL) for it, instead of one per request.
 *
 * Used by the audit trail (`src/audit/audit-trail.ts`) and the shared rate-limit counters (`shared-rate-limits.ts`).
 */

export interface GroupCommitOptions<T> {
  /**
   * Writes one group, in submission order; resolves when it has committed. A group written in parts that commit on
   * their own (one statement per tenant) may resolve with the failures of the parts that did not, by index in the
   * group: those items are rejected, and the rest, committed, resolve. A rejection fails every item.
   */
  commit(items: readonly T[]): Promise<void | ReadonlyMap<number, unknown>>;
  /** At most this many items per transaction (bounded statements, bounded latency); default 200. */
  maxGroup?: number;
  /** Start a group after the current job's microtasks rather than at the next check phase (see the header). */
  eager?: boolean;
}

export interface GroupCommit<T> {
  /** Resolves once `item` is committed; rejects with the commit's error when its group failed. */
  submit(item: T): Promise<void>;
  /** Resolves when nothing is queued or committing (for a clean stop and for tests). */
  idle(): Promise<void>;
}

interface Pending<T> {
  item: T;
  resolve(): void;
  reject(error: unknown): void;
}

const DEFAULT_MAX_GROUP = 200;

export function createGroupCommit<T>(options: GroupCommitOptions<T>): GroupCommit<T> {
  const maxGroup = Math.max(1, options.maxGroup ?? DEFAULT_MAX_GROUP);
  const queue: Pending<T>[] = [];
  /** The running flush loop, if any. */
  let flushing: Promise<void> | undefined;
  let scheduled = false;

  const commitGroup = async (group: Pending<T>[]): Promise<void> => {
    let failures: void | ReadonlyMap<number, unknown>;
    try {
      failures = await options.commit(group.map((p) => p.item));
    } catch (error) {
      for (const pending of group) pending.reject(error);
      return;
    }
    group.forEach((pending, index) => {
      if (failures?.has(index)) pending.reject(failures.get(index));
      else pending.resolve();
    });
  };

  const flushAll = async (): Promise<void> => {
    while (queue.length > 0) await commitGroup(queue.splice(0, maxGroup));
  };

  const schedule = (): void => {
    if (scheduled || flushing) return;
    scheduled = true;
    // The next check phase: every request whose handler finished in this poll phase joins the group. Eager: once
    // the current job's microtasks have run (what is submitted later joins the next group, gathering meanwhile).
    (options.eager ? queueMicrotask : setImmediate)(() => {
      scheduled = false;
      flushing = flushAll().finally(() => {
        flushing = undefined;
        // Items that arrived during the last commit's final microtasks.
        if (queue.length > 0) schedule();
      });
    });
  };

  return {
    submit(item: T): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        schedule();
      });
    },
    async idle(): Promise<void> {
      while (flushing || scheduled || queue.length > 0) {
        if (flushing) await flushing;
        else await new Promise<void>((resolve) => setImmediate(resolve));
      }
    },
  };
}
