/**
 * The outbox's dead letters (DESIGN.md section 6, "dead-lettered and visible"): deliveries that ran out of
 * retries, listed for `$dead-letters`, and put back (redriven) on request or when a subscription is switched
 * back on.
 */
import type { Store, StoreTransaction } from '../../store/database.js';
import { deadLetterRows, redriveRows } from '../../store/outbox-queries.js';

/** One dead-lettered delivery. */
export interface DeadLetter {
  subscriptionId: string;
  eventNumber: number;
  seq: number;
  eventType: string;
  focus: string | null;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deadLetteredAt: string;
}

/**
 * The tenant's dead letters (optionally of one subscription), oldest event first.
 *
 * @see DESIGN.md section 6 ("dead-lettered and visible")
 */
export async function listDeadLetters(
  store: Store,
  tenantId: string,
  options: { subscriptionId?: string; limit?: number } = {},
): Promise<DeadLetter[]> {
  const rows = await deadLetterRows(store, tenantId, {
    subscriptionId: options.subscriptionId,
    limit: options.limit ?? 100,
  });
  return rows.map((row) => ({
    subscriptionId: row.subscription_id,
    eventNumber: row.event_number ?? 0,
    seq: row.seq,
    eventType: row.event_type,
    focus: row.focus,
    attempts: row.attempts,
    lastStatus: row.last_status,
    lastError: row.last_error,
    createdAt: row.created_at,
    deadLetteredAt: row.dead_lettered_at ?? '',
  }));
}

/**
 * Puts dead letters of a subscription back in the outbox (all of them, or those with `eventNumbers`), due now
 * with a fresh retry window. Returns how many. A redriven event may reach the receiver after later events for
 * the same resource: receivers order by event number and `meta.versionId`.
 *
 * @see DESIGN.md section 6 ("redrive")
 */
export async function redrive(
  store: Store,
  tenantId: string,
  options: { subscriptionId: string; eventNumbers?: readonly number[]; now?: Date },
): Promise<number> {
  const nowText = (options.now ?? store.now()).toISOString();
  if (options.eventNumbers?.length === 0) return 0;
  return store.write((trx) => redriveInTransaction(trx, tenantId, options, nowText));
}

/**
 * {@link redrive} inside the caller's write transaction; `afterEventNumber` limits it to dead letters after that
 * event (what activation redrives).
 */
export async function redriveInTransaction(
  trx: StoreTransaction,
  tenantId: string,
  options: { subscriptionId: string; eventNumbers?: readonly number[]; afterEventNumber?: number },
  nowText: string,
): Promise<number> {
  return redriveRows(trx, tenantId, options, nowText);
}
