/**
 * The webhook delivery outbox (DESIGN.md sections 3 and 6): one row per journal event per subscription, carrying
 * attempts, the next attempt time, the last result, and delivered / dead-lettered marks. Only the insert and the
 * claim live here; retry policy and signing belong to the dispatcher.
 */
import { chunk, rowsPerInsert } from './batching.js';
import type { Store, StoreTransaction } from './database.js';
import type { OutboxTable } from './schema.js';

/** One delivery of one journal event to one subscription. */
export interface OutboxDelivery {
  tenantId: string;
  subscriptionId: string;
  seq: number;
  attempts: number;
  /** ISO-8601 UTC. */
  nextAttemptAt: string;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: string | null;
  deadLetteredAt: string | null;
  createdAt: string;
}

/** A delivery to enqueue. */
export interface NewDelivery {
  subscriptionId: string;
  seq: number;
  /** ISO-8601 UTC; default now. */
  nextAttemptAt?: string;
}

/** Options of {@link claimDueDeliveries}. */
export interface ClaimOptions {
  /** At most this many deliveries. */
  limit: number;
  /** How long the claim holds: the claimed rows become due again after it, should the claimer die. */
  leaseMs: number;
  now?: Date;
}

/**
 * Enqueues deliveries inside a write transaction the caller holds (normally the one that matched the journal
 * events). Enqueuing the same subscription and sequence twice keeps the first row, so re-matching is harmless.
 *
 * @see DESIGN.md section 3
 */
export async function enqueueDeliveriesInTransaction(
  trx: StoreTransaction,
  tenantId: string,
  deliveries: readonly NewDelivery[],
  now: Date,
): Promise<void> {
  const createdAt = now.toISOString();
  const rows: OutboxTable[] = deliveries.map((delivery) => ({
    tenant_id: tenantId,
    subscription_id: delivery.subscriptionId,
    seq: delivery.seq,
    attempts: 0,
    next_attempt_at: delivery.nextAttemptAt ?? createdAt,
    last_status: null,
    last_error: null,
    delivered_at: null,
    dead_lettered_at: null,
    created_at: createdAt,
    // Rows enqueued here carry no event number; the webhook fan-out (src/webhooks/fan-out.ts) numbers its own.
    event_number: null,
    order_key: null,
    focus: null,
    context: null,
    retry_started_at: createdAt,
    last_attempt_at: null,
  }));
  for (const part of chunk(rows, rowsPerInsert(16))) {
    await trx
      .insertInto('outbox')
      .values(part)
      .onConflict((oc) => oc.columns(['tenant_id', 'subscription_id', 'seq']).doNothing())
      .execute();
  }
}

/**
 * Enqueues deliveries in their own write transaction.
 *
 * @see DESIGN.md section 3
 */
export function enqueueDeliveries(
  store: Store,
  tenantId: string,
  deliveries: readonly NewDelivery[],
  options: { now?: Date } = {},
): Promise<void> {
  if (deliveries.length === 0) return Promise.resolve();
  const now = options.now ?? store.now();
  return store.write((trx) => enqueueDeliveriesInTransaction(trx, tenantId, deliveries, now));
}

/**
 * Claims up to `limit` of the tenant's due deliveries (pending, next attempt at or before now), earliest first:
 * each claimed row counts one more attempt and is pushed `leaseMs` into the future, so another dispatcher does
 * not take it meanwhile. On PostgreSQL concurrent claimers skip each other's locked rows; each row is also
 * claimed with a compare-and-set on its next attempt time, so two dispatchers never both claim one row.
 *
 * @see DESIGN.md section 3
 */
export function claimDueDeliveries(
  store: Store,
  tenantId: string,
  options: ClaimOptions,
): Promise<OutboxDelivery[]> {
  const now = options.now ?? store.now();
  const nowText = now.toISOString();
  const leaseUntil = new Date(now.getTime() + options.leaseMs).toISOString();
  return store.write(async (trx) => {
    let query = trx
      .selectFrom('outbox')
      .select(['subscription_id', 'seq', 'next_attempt_at'])
      .where('tenant_id', '=', tenantId)
      .where('delivered_at', 'is', null)
      .where('dead_lettered_at', 'is', null)
      .where('next_attempt_at', '<=', nowText)
      .orderBy('next_attempt_at')
      .orderBy('seq')
      .limit(options.limit);
    if (store.capabilities.skipLockedRows) query = query.forUpdate().skipLocked();
    const due = await query.execute();
    const claimed: OutboxDelivery[] = [];
    for (const candidate of due) {
      const row = await trx
        .updateTable('outbox')
        .set((eb) => ({ next_attempt_at: leaseUntil, attempts: eb('attempts', '+', 1) }))
        .where('tenant_id', '=', tenantId)
        .where('subscription_id', '=', candidate.subscription_id)
        .where('seq', '=', candidate.seq)
        .where('next_attempt_at', '=', candidate.next_attempt_at)
        .where('delivered_at', 'is', null)
        .where('dead_lettered_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (row) claimed.push(toDelivery(row));
    }
    return claimed;
  });
}

function toDelivery(row: OutboxTable): OutboxDelivery {
  return {
    tenantId: row.tenant_id,
    subscriptionId: row.subscription_id,
    seq: row.seq,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastStatus: row.last_status,
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
    deadLetteredAt: row.dead_lettered_at,
    createdAt: row.created_at,
  };
}
