/**
 * The status lifecycle of a webhook subscription (standards.md 4.2, "rest-hook lifecycle"; DESIGN.md section 6):
 * pause, switch back on, the dispatcher's activation with catch-up, handshake errors and switching off. The
 * registration side (create, read, update, delete, rotate) is `subscription-store.ts`.
 *
 * Lock order, as there: every transaction takes the tenant's journal counter (`lockTenantJournal`) first.
 */
import type { Store, StoreTransaction } from '../../store/database.js';
import {
  lockedLastJournalSeq,
  lockTenantJournal,
  readJournalInTransaction,
} from '../../store/change-journal.js';
import { queuedSeqsAfter, restartPendingRows } from '../../store/outbox-queries.js';
import type { SubscriptionsTable } from '../../store/schema.js';
import {
  currentSubscriptionResource,
  subscriptionRowById,
  updateSubscriptionRow,
} from '../../store/subscription-rows.js';
import type { JournalEventInput } from '../../events/event-types.js';
import { redriveInTransaction } from '../delivery/outbox-dead-letters.js';
import { enqueueMatches, matchJournalEntries, type MatchedEvent } from '../delivery/outbox-matching.js';
import { toSubscriptionRecord, type SubscriptionStatus } from './subscription-record.js';
import { storedSubscriptionResource, type BackportSubscription } from './subscription-resource.js';
import {
  mustRead,
  recordSubscriptionVersion,
  subscriptionRow,
  SUBSCRIPTION_DISABLED_EVENT,
  SUBSCRIPTION_ENABLED_EVENT,
  type SubscriptionView,
} from './subscription-store.js';

/**
 * Pauses a subscription (`off`): nothing is matched or sent until it is switched back on.
 * @throws SubscriptionError (`not-found`)
 */
export async function pauseSubscription(
  store: Store,
  tenantId: string,
  id: string,
  options: { now?: Date } = {},
): Promise<SubscriptionView> {
  await changeStatus(store, tenantId, id, 'off', { error: null, now: options.now ?? store.now() });
  return mustRead(store, tenantId, id);
}

/**
 * Switches an `off` or `error` subscription back on: `requested`, so the dispatcher shakes hands again and then
 * catches up from the last delivered event. Appends `subscription.enabled`.
 * @throws SubscriptionError (`not-found`)
 */
export async function reenableSubscription(
  store: Store,
  tenantId: string,
  id: string,
  options: { now?: Date } = {},
): Promise<SubscriptionView> {
  await changeStatus(store, tenantId, id, 'requested', {
    error: null,
    now: options.now ?? store.now(),
    only: ['off', 'error'],
    events: (previous) => [
      {
        eventType: SUBSCRIPTION_ENABLED_EVENT,
        resourceType: 'Subscription',
        resourceId: id,
        payload: { previous },
      },
    ],
  });
  return mustRead(store, tenantId, id);
}

/**
 * Dispatcher: the handshake succeeded. Activates the subscription and catches up in one transaction: every
 * journal event since it stopped being active is matched and enqueued, dead letters after the last delivered
 * event are redriven, and pending deliveries get a fresh retry window and are due now.
 *
 * @see DESIGN.md section 6 ("re-enabled with catch-up from its last delivered event")
 */
export async function activateSubscription(
  store: Store,
  tenantId: string,
  id: string,
  options: { now?: Date } = {},
): Promise<{ caughtUp: number; redriven: number }> {
  const now = options.now ?? store.now();
  const nowText = now.toISOString();
  return store.write(async (trx) => {
    await lockTenantJournal(trx, tenantId);
    const row = await subscriptionRowById(trx, tenantId, id);
    if (!row || row.status !== 'requested') return { caughtUp: 0, redriven: 0 };
    const caughtUp =
      row.paused_at_seq === null ? 0 : await catchUp(trx, tenantId, row, row.paused_at_seq, now);
    const redriven = await redriveInTransaction(
      trx,
      tenantId,
      { subscriptionId: id, afterEventNumber: row.last_delivered_event },
      nowText,
    );
    await restartPendingRows(trx, tenantId, id, nowText);
    await setRowStatus(trx, tenantId, row, 'active', null, now, {
      last_notified_at: nowText,
      failing_since: null,
    });
    return { caughtUp, redriven };
  });
}

/**
 * Dispatcher: the handshake failed; the subscription goes to `error` with `message`.
 */
export async function markSubscriptionError(
  store: Store,
  tenantId: string,
  id: string,
  message: string,
  options: { now?: Date } = {},
): Promise<void> {
  await changeStatus(store, tenantId, id, 'error', {
    error: message,
    now: options.now ?? store.now(),
    only: ['requested'],
  });
}

/**
 * Dispatcher: switches an active subscription off (410 Gone, failing too long, ended) and appends
 * `subscription.disabled` so subscribers of the `sync-health` topic hear of it. Returns false (and does nothing)
 * when it is not `active` any more.
 */
export async function disableSubscription(
  store: Store,
  tenantId: string,
  id: string,
  reason: 'gone' | 'failing' | 'ended',
  message: string,
  options: { now?: Date } = {},
): Promise<boolean> {
  return changeStatus(store, tenantId, id, 'off', {
    error: message,
    now: options.now ?? store.now(),
    only: ['active'],
    events: (previous) => [
      {
        eventType: SUBSCRIPTION_DISABLED_EVENT,
        resourceType: 'Subscription',
        resourceId: id,
        payload: { reason, previous, message },
      },
    ],
  });
}

async function changeStatus(
  store: Store,
  tenantId: string,
  id: string,
  status: SubscriptionStatus,
  options: {
    error: string | null;
    now: Date;
    /** Change only from these statuses; otherwise nothing happens (false). */
    only?: readonly SubscriptionStatus[];
    events?: (previous: SubscriptionStatus) => JournalEventInput[];
  },
): Promise<boolean> {
  return store.write(async (trx) => {
    await lockTenantJournal(trx, tenantId);
    const row = await subscriptionRow(trx, tenantId, id);
    const previous = row.status as SubscriptionStatus;
    if (options.only && !options.only.includes(previous)) return false;
    await setRowStatus(
      trx,
      tenantId,
      row,
      status,
      options.error,
      options.now,
      {},
      options.events?.(previous) ?? [],
    );
    return true;
  });
}

/** Sets the row's status and writes the matching resource version, in the caller's (locked) transaction. */
async function setRowStatus(
  trx: StoreTransaction,
  tenantId: string,
  row: SubscriptionsTable,
  status: SubscriptionStatus,
  error: string | null,
  now: Date,
  extra: Partial<SubscriptionsTable>,
  events: JournalEventInput[] = [],
): Promise<void> {
  const leavingActive = row.status === 'active' && status !== 'active';
  const pausedAtSeq = leavingActive
    ? await lockedLastJournalSeq(trx, tenantId)
    : status === 'active'
      ? null
      : row.paused_at_seq;
  await updateSubscriptionRow(trx, tenantId, row.id, {
    ...extra,
    status,
    last_error: error,
    paused_at_seq: pausedAtSeq,
    updated_at: now.toISOString(),
  });
  const current = await currentSubscriptionResource(trx, tenantId, row.id);
  if (!current) return;
  const resource = JSON.parse(current.resource) as BackportSubscription;
  await recordSubscriptionVersion(
    trx,
    tenantId,
    storedSubscriptionResource(resource, { id: row.id, status, error }),
    events,
    now,
  );
}

/** Matches every journal event after `afterSeq` against this one subscription and enqueues what is not yet queued. */
async function catchUp(
  trx: StoreTransaction,
  tenantId: string,
  row: SubscriptionsTable,
  afterSeq: number,
  now: Date,
): Promise<number> {
  const target = toSubscriptionRecord(row);
  const queued = new Set(await queuedSeqsAfter(trx, tenantId, row.id, afterSeq));
  let after = afterSeq;
  let enqueued = 0;
  for (;;) {
    const page = await readJournalInTransaction(trx, tenantId, { afterSeq: after, limit: 500 });
    if (page.length === 0) break;
    after = page[page.length - 1]?.seq ?? after;
    const entries = page
      .filter((entry) => !queued.has(entry.seq))
      .filter((entry) => row.end_at === null || entry.occurredAt <= row.end_at);
    const matches = await matchJournalEntries(trx, tenantId, entries, [target]);
    enqueued += await enqueueMatches(trx, tenantId, matches as Map<string, MatchedEvent[]>, now);
  }
  return enqueued;
}
