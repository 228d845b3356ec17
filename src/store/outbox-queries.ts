/**
 * The webhook outbox's queries as the dispatcher and the subscription lifecycle use them (DESIGN.md sections 3 and
 * 6): due candidates, the one compare-and-set every claim and outcome goes through, dead letters and their
 * redrive, counts and past events. Numbering and inserting new rows is `outbox-rows.ts`. The decisions — which
 * candidate to claim, the retry policy, when to redrive — are `src/webhooks/delivery/`.
 */
import { sql } from 'kysely';
import type { Store, StoreTransaction } from './database.js';
import type { OutboxTable } from './schema.js';

/** The key of one outbox row. */
export interface OutboxRowKey {
  tenantId: string;
  subscriptionId: string;
  seq: number;
}

/** A due delivery that may be claimed, with its subscription's endpoint. */
export interface DueCandidate {
  subscription_id: string;
  seq: number;
  next_attempt_at: string;
  endpoint: string;
}

/**
 * Due deliveries of the tenant's active subscriptions, earliest first: not delivered, not dead-lettered, numbered,
 * due at `nowText`, and with no earlier pending delivery of the same `order_key` to the same subscription (so
 * event N for a resource never goes out while an earlier one can still go out). At most `perSubscription` of one
 * subscription, at most `limit` in all.
 */
export async function dueCandidates(
  trx: StoreTransaction,
  tenantId: string,
  options: {
    nowText: string;
    perSubscription: number;
    limit: number;
    excludeSubscriptions?: readonly string[];
  },
): Promise<DueCandidate[]> {
  let due = trx
    .selectFrom('outbox as o')
    .innerJoin('subscriptions as s', (join) =>
      join.onRef('s.tenant_id', '=', 'o.tenant_id').onRef('s.id', '=', 'o.subscription_id'),
    )
    .select([
      'o.subscription_id',
      'o.seq',
      'o.next_attempt_at',
      's.endpoint',
      sql<number>`row_number() over (partition by ${sql.ref('o.subscription_id')} order by ${sql.ref(
        'o.next_attempt_at',
      )}, ${sql.ref('o.seq')})`.as('rank'),
    ])
    .where('o.tenant_id', '=', tenantId)
    .where('s.status', '=', 'active')
    .where('o.delivered_at', 'is', null)
    .where('o.dead_lettered_at', 'is', null)
    .where('o.event_number', 'is not', null)
    .where('o.next_attempt_at', '<=', options.nowText)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('outbox as p')
            .select('p.seq')
            .whereRef('p.tenant_id', '=', 'o.tenant_id')
            .whereRef('p.subscription_id', '=', 'o.subscription_id')
            .whereRef('p.order_key', '=', 'o.order_key')
            .whereRef('p.seq', '<', 'o.seq')
            .where('p.delivered_at', 'is', null)
            .where('p.dead_lettered_at', 'is', null),
        ),
      ),
    );
  if (options.excludeSubscriptions?.length) {
    due = due.where('o.subscription_id', 'not in', [...options.excludeSubscriptions]);
  }
  return trx
    .selectFrom(due.as('d'))
    .select(['d.subscription_id', 'd.seq', 'd.next_attempt_at', 'd.endpoint'])
    .where('d.rank', '<=', options.perSubscription)
    .orderBy('d.next_attempt_at')
    .orderBy('d.seq')
    .limit(options.limit)
    .execute();
}

/** What the row must still be for {@link updateOutboxIfUnchanged} to apply. */
export interface OutboxExpectation {
  /** Due at (or leased until) exactly this. */
  nextAttemptAt?: string;
  /** Not dead-lettered. */
  notDeadLettered?: boolean;
}

/** What {@link updateOutboxIfUnchanged} changes: columns to set, and a number to add to `attempts`. */
export interface OutboxChange {
  set?: Partial<Omit<OutboxTable, 'tenant_id' | 'subscription_id' | 'seq' | 'attempts'>>;
  addAttempts?: number;
}

/**
 * The outbox's one compare-and-set: an update of one row that applies only while the row is as the caller last
 * saw it — not delivered, due at (or leased until) `nextAttemptAt` when given, and not dead-lettered when asked.
 * A claim, and every outcome of a claimed attempt, goes through it, so a late result cannot undo a newer claim's.
 * Returns the updated row, or undefined when the row was not as expected.
 */
export async function updateOutboxIfUnchanged(
  trx: StoreTransaction,
  row: OutboxRowKey,
  expected: OutboxExpectation,
  change: OutboxChange,
): Promise<OutboxTable | undefined> {
  let query = trx
    .updateTable('outbox')
    .set((eb) => ({
      ...change.set,
      ...(change.addAttempts === undefined ? {} : { attempts: eb('attempts', '+', change.addAttempts) }),
    }))
    .where('tenant_id', '=', row.tenantId)
    .where('subscription_id', '=', row.subscriptionId)
    .where('seq', '=', row.seq)
    .where('delivered_at', 'is', null);
  if (expected.nextAttemptAt !== undefined)
    query = query.where('next_attempt_at', '=', expected.nextAttemptAt);
  if (expected.notDeadLettered === true) query = query.where('dead_lettered_at', 'is', null);
  return query.returningAll().executeTakeFirst();
}

/** Pending and dead-lettered numbered deliveries of a tenant. */
export async function outboxCounts(
  store: Store,
  tenantId: string,
): Promise<{ pending: number; deadLettered: number }> {
  const row = await store.db
    .selectFrom('outbox')
    .select([
      sql<number>`sum(case when delivered_at is null and dead_lettered_at is null then 1 else 0 end)`.as(
        'pending',
      ),
      sql<number>`sum(case when dead_lettered_at is not null then 1 else 0 end)`.as('dead'),
    ])
    .where('tenant_id', '=', tenantId)
    .where('event_number', 'is not', null)
    .where('delivered_at', 'is', null)
    .executeTakeFirst();
  return { pending: Number(row?.pending ?? 0), deadLettered: Number(row?.dead ?? 0) };
}

/** One dead-lettered row with the type of the event it carries. */
export type DeadLetterRow = Pick<
  OutboxTable,
  | 'subscription_id'
  | 'event_number'
  | 'seq'
  | 'focus'
  | 'attempts'
  | 'last_status'
  | 'last_error'
  | 'created_at'
  | 'dead_lettered_at'
> & { event_type: string };

/** The tenant's dead-lettered rows (optionally of one subscription), by subscription and event. */
export async function deadLetterRows(
  store: Store,
  tenantId: string,
  options: { subscriptionId?: string; limit: number },
): Promise<DeadLetterRow[]> {
  let query = store.db
    .selectFrom('outbox as o')
    .innerJoin('change_journal as j', (join) =>
      join.onRef('j.tenant_id', '=', 'o.tenant_id').onRef('j.seq', '=', 'o.seq'),
    )
    .select([
      'o.subscription_id',
      'o.event_number',
      'o.seq',
      'j.event_type',
      'o.focus',
      'o.attempts',
      'o.last_status',
      'o.last_error',
      'o.created_at',
      'o.dead_lettered_at',
    ])
    .where('o.tenant_id', '=', tenantId)
    .where('o.dead_lettered_at', 'is not', null)
    .orderBy('o.subscription_id')
    .orderBy('o.seq')
    .limit(options.limit);
  if (options.subscriptionId !== undefined)
    query = query.where('o.subscription_id', '=', options.subscriptionId);
  return query.execute();
}

/**
 * Puts a subscription's dead letters (those with `eventNumbers`, or after `afterEventNumber`, when given) back:
 * due at `nowText` with a fresh retry window. Returns how many.
 */
export async function redriveRows(
  trx: StoreTransaction,
  tenantId: string,
  options: { subscriptionId: string; eventNumbers?: readonly number[]; afterEventNumber?: number },
  nowText: string,
): Promise<number> {
  let query = trx
    .updateTable('outbox')
    .set({ dead_lettered_at: null, attempts: 0, next_attempt_at: nowText, retry_started_at: nowText })
    .where('tenant_id', '=', tenantId)
    .where('subscription_id', '=', options.subscriptionId)
    .where('dead_lettered_at', 'is not', null);
  if (options.eventNumbers !== undefined)
    query = query.where('event_number', 'in', [...options.eventNumbers]);
  if (options.afterEventNumber !== undefined)
    query = query.where('event_number', '>', options.afterEventNumber);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** A subscription's pending deliveries start over: no attempts, a fresh retry window, due at `nowText`. */
export async function restartPendingRows(
  trx: StoreTransaction,
  tenantId: string,
  subscriptionId: string,
  nowText: string,
): Promise<void> {
  await trx
    .updateTable('outbox')
    .set({ attempts: 0, next_attempt_at: nowText, retry_started_at: nowText })
    .where('tenant_id', '=', tenantId)
    .where('subscription_id', '=', subscriptionId)
    .where('delivered_at', 'is', null)
    .where('dead_lettered_at', 'is', null)
    .execute();
}

/** Deletes every outbox row of a subscription. */
export async function deleteOutboxRowsOf(
  trx: StoreTransaction,
  tenantId: string,
  subscriptionId: string,
): Promise<void> {
  await trx
    .deleteFrom('outbox')
    .where('tenant_id', '=', tenantId)
    .where('subscription_id', '=', subscriptionId)
    .execute();
}

/** The journal sequence numbers after `afterSeq` already in a subscription's outbox. */
export async function queuedSeqsAfter(
  trx: StoreTransaction,
  tenantId: string,
  subscriptionId: string,
  afterSeq: number,
): Promise<number[]> {
  const rows = await trx
    .selectFrom('outbox')
    .select('seq')
    .where('tenant_id', '=', tenantId)
    .where('subscription_id', '=', subscriptionId)
    .where('seq', '>', afterSeq)
    .execute();
  return rows.map((r) => r.seq);
}

/** A subscription's outbox rows by event number (`since` inclusive, `until` inclusive when given), at most `limit`. */
export function outboxEventRows(
  store: Store,
  tenantId: string,
  subscriptionId: string,
  range: { since: number; until?: number; limit: number },
): Promise<Array<Pick<OutboxTable, 'seq' | 'event_number' | 'focus' | 'context'>>> {
  let query = store.db
    .selectFrom('outbox')
    .select(['seq', 'event_number', 'focus', 'context'])
    .where('tenant_id', '=', tenantId)
    .where('subscription_id', '=', subscriptionId)
    .where('event_number', '>=', range.since)
    .orderBy('event_number')
    .limit(range.limit);
  if (range.until !== undefined) query = query.where('event_number', '<=', range.until);
  return query.execute();
}
