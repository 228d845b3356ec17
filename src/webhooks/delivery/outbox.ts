/**
 * The outbox as the webhook dispatcher works it (DESIGN.md sections 3 and 6): claiming due deliveries under a
 * lease and recording each attempt's outcome. Dead letters and their redrive are `outbox-dead-letters.ts`.
 *
 * Ordering per resource: a delivery is claimable only when no earlier delivery with the same `order_key` to the
 * same subscription is still pending (in flight, or waiting for a retry). Dead-lettered deliveries no longer
 * block. So event N for a resource never goes out while an earlier one for it can still go out, and one stuck
 * resource never holds up the others.
 *
 * Crash safety: a claim pushes `next_attempt_at` to the end of the lease; a dispatcher that dies leaves the row
 * to become due again when the lease ends, and it is delivered again with the same `webhook-id` (at least once).
 * Outcomes are recorded with a compare-and-set on the lease, so a late result cannot undo a newer claim's.
 *
 * Lock order: a transaction that touches both a subscription row and outbox rows touches the subscription first
 * (as commits and status changes do), so PostgreSQL cannot deadlock them.
 */
import type { Store, StoreTransaction } from '../../store/database.js';
import { dueCandidates, outboxCounts, updateOutboxIfUnchanged } from '../../store/outbox-queries.js';
import type { OutboxTable } from '../../store/schema.js';
import { markRowDelivered, markRowFailed, moveLastNotified } from '../../store/subscription-rows.js';
import { insertFailedAttempt } from '../../store/webhook-attempt-rows.js';
import { decideRetry, type RetrySettings } from './retry-policy.js';

/** One claimed delivery. */
export interface ClaimedDelivery {
  tenantId: string;
  subscriptionId: string;
  seq: number;
  eventNumber: number;
  /** Attempts so far, this one included. */
  attempts: number;
  /** The lease: `next_attempt_at` as the claim set it (the compare-and-set token of the outcome). */
  leaseUntil: string;
  focus: string | null;
  context: string[];
  orderKey: string;
  retryStartedAt: string;
  createdAt: string;
}

/** Options of {@link claimDeliveries}. */
export interface ClaimDeliveriesOptions {
  now: Date;
  leaseMs: number;
  /** At most this many rows are claimed. */
  limit: number;
  /** At most this many rows of one subscription are looked at (its endpoint's concurrency cap). */
  perSubscription: number;
  /** Free delivery slots of an endpoint origin ({@link endpointOrigin}); rows claimed here use them up. */
  slots: (origin: string) => number;
  /** Subscriptions not to look at (their endpoint has no free slot). */
  excludeSubscriptions?: readonly string[];
}

/** What concurrency is counted per: the endpoint's scheme, host and port. */
export function endpointOrigin(endpoint: string): string {
  try {
    return new URL(endpoint).origin;
  } catch {
    return endpoint;
  }
}

/**
 * Claims due deliveries of the tenant's active subscriptions, earliest first, respecting per-resource order and
 * the endpoints' free slots. At most `perSubscription` candidates of one subscription are considered, so a
 * subscription with thousands of due rows behind a saturated endpoint cannot crowd the others out of the batch.
 *
 * No `FOR UPDATE SKIP LOCKED` (PostgreSQL refuses it next to a window function): each row is claimed with a
 * compare-and-set on its `next_attempt_at`, so of two concurrent claimers exactly one wins it.
 *
 * @see DESIGN.md section 6
 */
export async function claimDeliveries(
  store: Store,
  tenantId: string,
  options: ClaimDeliveriesOptions,
): Promise<Array<ClaimedDelivery & { endpoint: string }>> {
  const nowText = options.now.toISOString();
  const leaseUntil = new Date(options.now.getTime() + options.leaseMs).toISOString();
  return store.write(async (trx) => {
    const candidates = await dueCandidates(trx, tenantId, {
      nowText,
      perSubscription: options.perSubscription,
      limit: Math.max(options.limit, options.perSubscription) * 4,
      excludeSubscriptions: options.excludeSubscriptions,
    });
    const claimed: Array<ClaimedDelivery & { endpoint: string }> = [];
    const used = new Map<string, number>();
    for (const candidate of candidates) {
      if (claimed.length >= options.limit) break;
      const origin = endpointOrigin(candidate.endpoint);
      const taken = used.get(origin) ?? 0;
      if (options.slots(origin) - taken <= 0) continue;
      const row = await updateOutboxIfUnchanged(
        trx,
        { tenantId, subscriptionId: candidate.subscription_id, seq: candidate.seq },
        { nextAttemptAt: candidate.next_attempt_at, notDeadLettered: true },
        { set: { next_attempt_at: leaseUntil }, addAttempts: 1 },
      );
      if (!row) continue;
      used.set(origin, taken + 1);
      claimed.push({ ...toClaimed(row), endpoint: candidate.endpoint });
    }
    return claimed;
  });
}

/**
 * Records a 2xx: the delivery is done; the subscription's last delivered event moves up and its failure clock
 * stops.
 *
 * @see DESIGN.md section 6
 */
export async function recordDelivered(
  store: Store,
  delivery: ClaimedDelivery,
  outcome: { status: number; now: Date },
): Promise<void> {
  const nowText = outcome.now.toISOString();
  await store.write(async (trx) => {
    await markRowDelivered(trx, delivery.tenantId, delivery.subscriptionId, delivery.eventNumber, nowText);
    // No lease check: a delivery that reached the receiver is delivered, whoever holds the row now.
    await updateOutboxIfUnchanged(
      trx,
      delivery,
      {},
      {
        set: {
          delivered_at: nowText,
          last_status: outcome.status,
          last_error: null,
          last_attempt_at: nowText,
        },
      },
    );
  });
}

/** What {@link recordFailure} decided. */
export interface FailureRecord {
  /** The row was dead-lettered. */
  deadLettered: boolean;
  /** The next attempt, when retried. */
  nextAttemptAt: string | null;
  /** Since when the subscription has been failing without a success. */
  failingSince: string | null;
  /** False when the lease had passed to another claim, so nothing about the row was recorded. */
  recorded: boolean;
}

/**
 * Records a failed attempt (non-2xx, timeout, network error, refused endpoint): schedules the retry, or
 * dead-letters the row after the last attempt; starts the subscription's failure clock if it is not running.
 *
 * @see DESIGN.md section 6
 */
export async function recordFailure(
  store: Store,
  delivery: ClaimedDelivery,
  outcome: {
    status: number | null;
    error: string;
    now: Date;
    retryAfterMs?: number;
    retry: RetrySettings;
    random?: () => number;
  },
): Promise<FailureRecord> {
  const nowText = outcome.now.toISOString();
  return store.write(async (trx) => {
    const subscription = await markRowFailed(
      trx,
      delivery.tenantId,
      delivery.subscriptionId,
      outcome.error,
      nowText,
    );
    await keepFailedAttempt(trx, delivery, outcome.status, outcome.error, nowText);
    const decision = decideRetry(
      delivery.attempts,
      new Date(delivery.retryStartedAt),
      outcome.now,
      outcome.retry,
      outcome.retryAfterMs,
      outcome.random,
    );
    const update = await updateOutboxIfUnchanged(
      trx,
      delivery,
      { nextAttemptAt: delivery.leaseUntil, notDeadLettered: true },
      {
        set:
          decision.kind === 'dead-letter'
            ? {
                dead_lettered_at: nowText,
                last_status: outcome.status,
                last_error: outcome.error,
                last_attempt_at: nowText,
              }
            : {
                next_attempt_at: decision.at.toISOString(),
                last_status: outcome.status,
                last_error: outcome.error,
                last_attempt_at: nowText,
              },
      },
    );
    return {
      deadLettered: decision.kind === 'dead-letter',
      nextAttemptAt: decision.kind === 'retry' ? decision.at.toISOString() : null,
      failingSince: subscription?.failing_since ?? null,
      recorded: update !== undefined,
    };
  });
}

/**
 * Records an answer that switches the subscription off (410 Gone): the row stays pending, due at once, so it
 * goes out first when the subscription is switched back on.
 *
 * @see DESIGN.md section 6
 */
export async function recordGone(
  store: Store,
  delivery: ClaimedDelivery,
  outcome: { status: number; now: Date },
): Promise<void> {
  const nowText = outcome.now.toISOString();
  await store.write(async (trx) => {
    await keepFailedAttempt(trx, delivery, outcome.status, 'the endpoint answered 410 Gone', nowText);
    await updateOutboxIfUnchanged(
      trx,
      delivery,
      { nextAttemptAt: delivery.leaseUntil },
      {
        set: {
          next_attempt_at: nowText,
          last_status: outcome.status,
          last_error: 'the endpoint answered 410 Gone',
          last_attempt_at: nowText,
        },
      },
    );
  });
}

/** Longest reason kept with a failed attempt: a sentence, not a response body. */
const REASON_LIMIT = 200;

/** Keeps the failed attempt (issue 15): its status, time and a short reason, for `$status` and the console. */
async function keepFailedAttempt(
  trx: StoreTransaction,
  delivery: ClaimedDelivery,
  status: number | null,
  error: string,
  nowText: string,
): Promise<void> {
  await insertFailedAttempt(trx, {
    tenant_id: delivery.tenantId,
    subscription_id: delivery.subscriptionId,
    attempted_at: nowText,
    event_number: delivery.eventNumber || null,
    status,
    reason: error.length > REASON_LIMIT ? `${error.slice(0, REASON_LIMIT - 1)}…` : error,
  });
}

/** Gives a claim back untried (the dispatcher is stopping): due again at once, the attempt not counted. */
export async function releaseClaim(store: Store, delivery: ClaimedDelivery, now: Date): Promise<void> {
  await store.write(async (trx) => {
    await updateOutboxIfUnchanged(
      trx,
      delivery,
      { nextAttemptAt: delivery.leaseUntil },
      { set: { next_attempt_at: now.toISOString() }, addAttempts: -1 },
    );
  });
}

/** Pending and dead-lettered deliveries of a tenant, for metrics and the status page. */
export async function deliveryCounts(
  store: Store,
  tenantId: string,
): Promise<{ pending: number; deadLettered: number }> {
  return outboxCounts(store, tenantId);
}

function toClaimed(row: OutboxTable): ClaimedDelivery {
  return {
    tenantId: row.tenant_id,
    subscriptionId: row.subscription_id,
    seq: row.seq,
    eventNumber: row.event_number ?? 0,
    attempts: row.attempts,
    leaseUntil: row.next_attempt_at,
    focus: row.focus,
    context: row.context === null ? [] : (JSON.parse(row.context) as string[]),
    orderKey: row.order_key ?? '',
    retryStartedAt: row.retry_started_at ?? row.created_at,
    createdAt: row.created_at,
  };
}

/**
 * Takes the right to send a heartbeat: moves `last_notified_at` from `previous` to `now`, so of several
 * dispatchers only one sends it. False when another got there first.
 *
 * @see standards.md 4.2 (heartbeat)
 */
export async function claimHeartbeat(
  store: Store,
  tenantId: string,
  subscriptionId: string,
  previous: string | null,
  now: Date,
): Promise<boolean> {
  return store.write((trx) => moveLastNotified(trx, tenantId, subscriptionId, previous, now.toISOString()));
}
