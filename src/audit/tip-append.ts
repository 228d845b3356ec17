/**
 * The audit group's commit on PostgreSQL (issue 16), where every statement is a network round trip: the locked
 * append (`audit-chain.ts`) takes five — begin, the counter upsert that takes the tenant's row lock and returns its
 * last row, the insert, the counter's new hash, commit — and a search spent more time waiting on them than on its
 * own query. This process remembers each tenant's last row as its own last commit left it (the tip), chains the
 * group's rows on from it in memory, and appends them in ONE statement that moves the counter only if it still
 * stands at that tip (`appendAuditRowsAtTip`). Nothing is weakened: the statement is atomic, the rows are committed
 * before any record of the group resolves, and the chain is computed by the same code either way.
 *
 * When the tip is unknown (a new process, or after a failure) or stale (another instance, or a write that appended
 * its row in its own transaction, moved the counter), the group takes the locked append, which learns the tip
 * again. A stale tip costs one wasted statement; so that instances which keep interleaving do not pay it on every
 * group, a tenant whose tip went stale skips the attempt for the next 1, 2, 4 … 64 groups, and starts again after a
 * group the tip served.
 */
import { appendAuditRowsAtTip } from '../store/audit-rows.js';
import type { Store } from '../store/database.js';
import {
  appendAuditEvents,
  chainedRows,
  eventsByTenant,
  type AuditTip,
  type PendingAuditEvent,
} from './audit-chain.js';

const MAX_SKIPPED_GROUPS = 64;

interface TenantTip {
  /** The tenant's last row as this process's last commit left it; undefined when not known. */
  tip: AuditTip | undefined;
  /** Consecutive stale attempts. */
  stale: number;
  /** Groups left to take the locked append before trying the tip again. */
  skip: number;
}

/**
 * A group commit for `store` (PostgreSQL) that appends at each tenant's known tip where it can. Each tenant's
 * statement commits on its own, so a failed one fails only that tenant's records (the group's other records are
 * stored, and their requests are answered as such); the locked append is one transaction for every tenant in it.
 */
export function createTipAppend(
  store: Store,
): (events: readonly PendingAuditEvent[]) => Promise<ReadonlyMap<number, unknown>> {
  const tenants = new Map<string, TenantTip>();
  const stateOf = (tenantId: string): TenantTip => {
    let state = tenants.get(tenantId);
    if (!state) tenants.set(tenantId, (state = { tip: undefined, stale: 0, skip: 0 }));
    return state;
  };

  return async (events) => {
    const failures = new Map<number, unknown>();
    /** Indexes of the events that take the locked append. */
    const locked: number[] = [];
    for (const [tenantId, indexes] of eventsByTenant(events)) {
      const state = stateOf(tenantId);
      if (state.tip === undefined || state.skip > 0) {
        state.skip = Math.max(0, state.skip - 1);
        locked.push(...indexes);
        continue;
      }
      const rows = chainedRows(
        indexes.map((index) => events[index] as PendingAuditEvent),
        state.tip,
      );
      let appended: boolean;
      try {
        appended = await appendAuditRowsAtTip(store, state.tip, rows);
      } catch (error) {
        // Whether it committed is unknown: this tenant's tip is learnt again under the lock next time.
        state.tip = undefined;
        for (const index of indexes) failures.set(index, error);
        continue;
      }
      if (appended) {
        const last = rows[rows.length - 1];
        state.tip = last && { seq: last.seq, hash: last.hash };
        state.stale = 0;
      } else {
        state.tip = undefined;
        state.stale += 1;
        state.skip = Math.min(MAX_SKIPPED_GROUPS, 2 ** (state.stale - 1));
        locked.push(...indexes);
      }
    }
    if (locked.length === 0) return failures;
    const lockedEvents = locked.map((index) => events[index] as PendingAuditEvent);
    try {
      const { tips } = await store.write((trx) => appendAuditEvents(trx, lockedEvents));
      // Known only once committed: a rolled-back transaction leaves the counter where it was.
      for (const [tenantId, tip] of tips) stateOf(tenantId).tip = tip;
    } catch (error) {
      for (const event of lockedEvents) stateOf(event.ctx.tenant.id).tip = undefined;
      for (const index of locked) failures.set(index, error);
    }
    return failures;
  };
}
