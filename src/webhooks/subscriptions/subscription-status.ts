/**
 * What the facade's `$status` and `$events` operations return (standards.md 4.2): `$status` a searchset Bundle of
 * SubscriptionStatus Parameters (`type = query-status`), `$events` a notification Bundle (`type = history`,
 * status `type = query-event`) of past events by event number, rebuilt from the outbox, which keeps every
 * event of a subscription (delivered or not) with its number.
 */
import type { Bundle, Parameters } from '@medplum/fhirtypes';
import type { Store } from '../../store/database.js';
import { outboxEventRows } from '../../store/outbox-queries.js';
import { subscriptionRows } from '../../store/subscription-rows.js';
import { failedAttemptSummaries } from '../../store/webhook-attempt-rows.js';
import {
  notificationBundle,
  subscriptionStatusParameters,
  type DeliveryFailures,
} from '../delivery/notification-builder.js';
import { loadNotificationEvents } from '../delivery/notification-events.js';
import { SubscriptionError } from './subscription-error.js';
import {
  toSubscriptionRecord,
  type SubscriptionRecord,
  type SubscriptionStatus,
} from './subscription-record.js';
import { readSubscriptionRecord } from './subscription-store.js';
import type { PayloadContent } from './subscription-resource.js';

/**
 * `GET [base]/Subscription/[id]/$status`: the status Parameters, or undefined when there is no such subscription.
 *
 * @see standards.md 4.2 (`$status`)
 */
export async function subscriptionStatus(
  store: Store,
  tenantId: string,
  id: string,
  options: { baseUrl: string; now?: Date },
): Promise<Parameters | undefined> {
  const subscription = await readSubscriptionRecord(store, tenantId, id);
  if (!subscription) return undefined;
  const failures = await deliveryFailures(store, tenantId, [subscription]);
  return subscriptionStatusParameters(subscription, 'query-status', [], {
    baseUrl: options.baseUrl,
    now: options.now ?? store.now(),
    failures: failures.get(id),
  });
}

/**
 * The failed delivery attempts of each of `subscriptions` that has any (issue 15 item 3): counted since the last
 * success while it is failing, else over the week kept.
 */
export async function deliveryFailures(
  store: Store,
  tenantId: string,
  subscriptions: readonly Pick<SubscriptionRecord, 'id' | 'failingSince'>[],
): Promise<Map<string, DeliveryFailures>> {
  const summaries = await failedAttemptSummaries(
    store.db,
    tenantId,
    subscriptions.map((s) => s.id),
  );
  const out = new Map<string, DeliveryFailures>();
  for (const subscription of subscriptions) {
    const summary = summaries.get(subscription.id);
    if (!summary?.last) continue;
    const failing = subscription.failingSince !== null;
    out.set(subscription.id, {
      count: failing ? summary.failedSinceSuccess : summary.failedKept,
      lastAt: summary.last.attempted_at,
      lastStatus: summary.last.status,
      lastReason: summary.last.reason,
      failing,
    });
  }
  return out;
}

/**
 * `[base]/Subscription/$status?id=…&status=…` (and the instance form): a searchset Bundle with one status
 * Parameters per subscription matching any of `ids` (all when omitted) and any of `statuses`.
 *
 * @see standards.md 4.2 (`$status`)
 */
export async function subscriptionStatusBundle(
  store: Store,
  tenantId: string,
  options: {
    baseUrl: string;
    ids?: readonly string[];
    statuses?: readonly SubscriptionStatus[];
    now?: Date;
    /** Only the subscriptions this client created; undefined for all (an operator). */
    owner?: string;
  },
): Promise<Bundle<Parameters>> {
  if (options.ids?.length === 0 || options.statuses?.length === 0) return searchset([]);
  const now = options.now ?? store.now();
  const rows = await subscriptionRows(store.db, tenantId, {
    ids: options.ids,
    status: options.statuses,
    order: 'id',
  });
  const owned = rows
    .filter((row) => options.owner === undefined || row.owner_client_id === options.owner)
    .map(toSubscriptionRecord);
  const failures = await deliveryFailures(store, tenantId, owned);
  return searchset(
    owned.map((record) =>
      subscriptionStatusParameters(record, 'query-status', [], {
        baseUrl: options.baseUrl,
        now,
        failures: failures.get(record.id),
      }),
    ),
  );
}

/** Options of {@link subscriptionEvents}. */
export interface SubscriptionEventsOptions {
  baseUrl: string;
  /** First event number to return (inclusive); default 1. */
  eventsSinceNumber?: number;
  /** Last event number to return (inclusive); default the latest. */
  eventsUntilNumber?: number;
  /** Payload content to render the events with; default the subscription's. */
  content?: PayloadContent;
  /** At most this many events (the oldest of the range); default 100. */
  limit?: number;
  now?: Date;
}

/**
 * `GET [base]/Subscription/[id]/$events`: past events of one subscription by event number, as a notification
 * Bundle; undefined when there is no such subscription.
 * @throws SubscriptionError (`value`) for a range that is not numbers
 * @see standards.md 4.2 (`$events`)
 */
export async function subscriptionEvents(
  store: Store,
  tenantId: string,
  id: string,
  options: SubscriptionEventsOptions,
): Promise<Bundle | undefined> {
  const subscription = await readSubscriptionRecord(store, tenantId, id);
  if (!subscription) return undefined;
  for (const [name, value] of [
    ['eventsSinceNumber', options.eventsSinceNumber],
    ['eventsUntilNumber', options.eventsUntilNumber],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
      throw new SubscriptionError('value', `${name} must be a non-negative integer`);
    }
  }
  const rows = await outboxEventRows(store, tenantId, id, {
    since: options.eventsSinceNumber ?? 1,
    until: options.eventsUntilNumber,
    limit: options.limit ?? 100,
  });
  const events = await loadNotificationEvents(
    store,
    tenantId,
    rows.map((r) => ({
      seq: r.seq,
      eventNumber: r.event_number ?? 0,
      focus: r.focus,
      context: r.context === null ? [] : (JSON.parse(r.context) as string[]),
    })),
  );
  return notificationBundle(subscription, 'query-event', events, {
    baseUrl: options.baseUrl,
    content: options.content,
    now: options.now ?? store.now(),
  });
}

/** FHIR JSON has no empty arrays: without matches the Bundle has no `entry`. */
function searchset(parameters: Parameters[]): Bundle<Parameters> {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: parameters.length,
    ...(parameters.length > 0
      ? { entry: parameters.map((resource) => ({ resource, search: { mode: 'match' as const } })) }
      : {}),
  };
}
