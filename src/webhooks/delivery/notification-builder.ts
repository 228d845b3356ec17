/**
 * Notification bodies (DESIGN.md section 6; standards.md 4.2 and 5).
 *
 * `application/fhir+json`: an R4 backport notification Bundle, `type = history`. `entry[0]` is a `Parameters`
 * SubscriptionStatus (subscription, topic, status, type, `events-since-subscription-start`, one
 * `notification-event` per event with `event-number`, `timestamp`, `focus`, `additional-context`) with
 * `request GET Subscription/[id]/$status`; then, per payload content, nothing (`empty`), one entry per focus
 * with only `fullUrl`, `request` and `response` (`id-only`; `response.etag` carries the version), or the same
 * with the resource (`full-resource`).
 *
 * `application/json`: the Standard Webhooks envelope `{type, timestamp, data}` for the same events; `type` is
 * the journal event type (`appointment.booked` …) or `subscription.handshake` / `subscription.heartbeat`.
 */
import { randomUUID } from 'node:crypto';
import type {
  Bundle,
  BundleEntry,
  Parameters,
  ParametersParameter,
  Resource,
  Subscription,
} from '@medplum/fhirtypes';
import type { NotificationEvent } from './notification-events.js';
import type { SubscriptionRecord } from '../subscriptions/subscription-record.js';
import {
  redactedSubscription,
  type BackportSubscription,
  type PayloadContent,
} from '../subscriptions/subscription-resource.js';
import { topicByUrl } from '../subscriptions/topics.js';

/** `http://hl7.org/fhir/subscription-notification-type`. */
export type NotificationType =
  'handshake' | 'heartbeat' | 'event-notification' | 'query-status' | 'query-event';

export const NOTIFICATION_BUNDLE_PROFILE =
  'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription-notification-r4';
export const SUBSCRIPTION_STATUS_PROFILE =
  'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription-status-r4';

/** Options shared by the builders. */
export interface NotificationOptions {
  /** The tenant's FHIR base URL (`http://host/fhir/{tenant}`), for full URLs. */
  baseUrl: string;
  /** Overrides the subscription's payload content (the `$events` `content` hint). */
  content?: PayloadContent;
  now: Date;
  /** `$status` only: the subscription's failed delivery attempts (issue 15), shown as an `error` parameter. */
  failures?: DeliveryFailures;
}

/** A subscription's failed delivery attempts as `$status` reports them. */
export interface DeliveryFailures {
  /** Failed attempts since the last success (all kept, a week, when it is not failing now). */
  count: number;
  lastAt: string;
  /** HTTP status of the last failed attempt; null when there was no answer (timeout, connection refused). */
  lastStatus: number | null;
  lastReason: string;
  /** The subscription is failing now (no success since its first failure). */
  failing: boolean;
}

/** Extensions on `$status`'s delivery `error` parameter: machine-readable figures behind its text. */
export const DELIVERY_FAILURE_EXTENSIONS = {
  lastStatus: 'https://switchboard.health/fhir/StructureDefinition/webhook-last-status-code',
  count: 'https://switchboard.health/fhir/StructureDefinition/webhook-failed-attempts',
  lastAt: 'https://switchboard.health/fhir/StructureDefinition/webhook-last-failure',
} as const;

/** A body ready to sign and send. */
export interface NotificationBody {
  contentType: string;
  body: string;
  /** The Standard Webhooks `type` (also useful in logs). */
  type: string;
}

/**
 * The SubscriptionStatus `Parameters` (R4 backport) for `type`, listing `events`.
 *
 * @see standards.md 4.2
 */
export function subscriptionStatusParameters(
  subscription: SubscriptionRecord,
  type: NotificationType,
  events: readonly NotificationEvent[],
  options: NotificationOptions,
): Parameters {
  const content = options.content ?? subscription.payloadContent;
  const parameter: ParametersParameter[] = [
    {
      name: 'subscription',
      valueReference: { reference: `${options.baseUrl}/Subscription/${subscription.id}` },
    },
  ];
  if (content !== 'empty') parameter.push({ name: 'topic', valueCanonical: subscription.topic });
  parameter.push(
    { name: 'status', valueCode: subscription.status },
    { name: 'type', valueCode: type },
    { name: 'events-since-subscription-start', valueString: String(subscription.eventsSinceStart) },
  );
  for (const event of events) {
    const part: ParametersParameter[] = [
      { name: 'event-number', valueString: String(event.eventNumber) },
      { name: 'timestamp', valueInstant: event.occurredAt },
    ];
    if (content !== 'empty') {
      if (event.focus) part.push({ name: 'focus', valueReference: { reference: event.focus.reference } });
      for (const reference of event.context) {
        part.push({ name: 'additional-context', valueReference: { reference } });
      }
    }
    parameter.push({ name: 'notification-event', part });
  }
  if (subscription.lastError !== null && (subscription.status === 'error' || subscription.status === 'off')) {
    parameter.push({ name: 'error', valueCodeableConcept: { text: subscription.lastError } });
  }
  const failures = options.failures;
  if (failures && failures.count > 0) {
    const answered =
      failures.lastStatus === null ? 'got no answer' : `was answered HTTP ${failures.lastStatus}`;
    parameter.push({
      name: 'error',
      extension: [
        ...(failures.lastStatus === null
          ? []
          : [{ url: DELIVERY_FAILURE_EXTENSIONS.lastStatus, valueInteger: failures.lastStatus }]),
        { url: DELIVERY_FAILURE_EXTENSIONS.count, valueInteger: failures.count },
        { url: DELIVERY_FAILURE_EXTENSIONS.lastAt, valueInstant: failures.lastAt },
      ],
      valueCodeableConcept: {
        text: `${failures.count} failed delivery attempt${failures.count === 1 ? '' : 's'} ${
          failures.failing ? 'since the last success' : 'in the last week (delivering again since)'
        }; the last, at ${failures.lastAt}, ${answered}: ${failures.lastReason}`,
      },
    });
  }
  return { resourceType: 'Parameters', meta: { profile: [SUBSCRIPTION_STATUS_PROFILE] }, parameter };
}

/**
 * The notification Bundle (R4 backport, `type = history`) for `type` and `events`.
 *
 * @see standards.md 4.2 ("Notification Bundle (R4)", "Payload levels")
 */
export function notificationBundle(
  subscription: SubscriptionRecord,
  type: NotificationType,
  events: readonly NotificationEvent[],
  options: NotificationOptions,
): Bundle {
  const content = options.content ?? subscription.payloadContent;
  const entry: BundleEntry[] = [
    {
      fullUrl: `urn:uuid:${randomUUID()}`,
      resource: subscriptionStatusParameters(subscription, type, events, options),
      request: { method: 'GET', url: `Subscription/${subscription.id}/$status` },
      response: { status: '200' },
    },
  ];
  if (content !== 'empty') {
    const seen = new Set<string>();
    for (const event of events) {
      const focus = event.focus;
      if (!focus || seen.has(`${focus.reference}/${focus.versionId ?? ''}`)) continue;
      seen.add(`${focus.reference}/${focus.versionId ?? ''}`);
      entry.push(focusEntry(focus, content, options.baseUrl));
    }
  }
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { profile: [NOTIFICATION_BUNDLE_PROFILE] },
    type: 'history',
    timestamp: options.now.toISOString(),
    entry,
  };
}

/** The Standard Webhooks envelope for one event, or for a handshake or heartbeat when `event` is undefined. */
export function webhookEnvelope(
  subscription: SubscriptionRecord,
  type: NotificationType,
  event: NotificationEvent | undefined,
  options: NotificationOptions,
): { type: string; timestamp: string; data: Record<string, unknown> } {
  const content = options.content ?? subscription.payloadContent;
  const data: Record<string, unknown> = {
    subscription: `Subscription/${subscription.id}`,
    topic: subscription.topic,
    status: subscription.status,
    eventsSinceSubscriptionStart: subscription.eventsSinceStart,
  };
  if (!event) {
    return { type: `subscription.${type}`, timestamp: options.now.toISOString(), data };
  }
  data.eventNumber = event.eventNumber;
  if (content !== 'empty') {
    if (event.focus) {
      data.focus = {
        reference: event.focus.reference,
        ...(event.focus.versionId !== null ? { versionId: String(event.focus.versionId) } : {}),
        ...(event.focus.deleted ? { deleted: true } : {}),
      };
      if (content === 'full-resource' && event.focus.resource && !event.focus.deleted) {
        data.resource = embeddable(event.focus.resource);
      }
    }
    if (event.context.length > 0) data.context = event.context;
    // Operational detail (stream, health, reason) carries no PHI; other payloads stay in the journal.
    if (topicByUrl(subscription.topic)?.id === 'sync-health' && event.payload !== null)
      data.detail = event.payload;
  }
  return { type: event.eventType, timestamp: event.occurredAt, data };
}

/**
 * The body to POST for `type`: a notification Bundle or a Standard Webhooks envelope, per the subscription's
 * content type. An event notification carries exactly one event.
 *
 * @see DESIGN.md section 6
 */
export function notificationBody(
  subscription: SubscriptionRecord,
  type: 'handshake' | 'heartbeat' | 'event-notification',
  event: NotificationEvent | undefined,
  options: NotificationOptions,
): NotificationBody {
  if (subscription.contentType === 'application/json') {
    const envelope = webhookEnvelope(subscription, type, event, options);
    return { contentType: 'application/json', body: JSON.stringify(envelope), type: envelope.type };
  }
  const bundle = notificationBundle(subscription, type, event ? [event] : [], options);
  return {
    contentType: 'application/fhir+json',
    body: JSON.stringify(bundle),
    type: event?.eventType ?? `subscription.${type}`,
  };
}

function focusEntry(
  focus: NonNullable<NotificationEvent['focus']>,
  content: PayloadContent,
  baseUrl: string,
): BundleEntry {
  const [type] = focus.reference.split('/');
  const created = focus.versionId === 1 && !focus.deleted;
  const entry: BundleEntry = {
    fullUrl: `${baseUrl}/${focus.reference}`,
    request: focus.deleted
      ? { method: 'DELETE', url: focus.reference }
      : created
        ? { method: 'POST', url: type ?? focus.reference }
        : { method: 'PUT', url: focus.reference },
    response: {
      status: created ? '201' : '200',
      ...(focus.versionId !== null ? { etag: `W/"${focus.versionId}"` } : {}),
      ...(focus.lastUpdated !== null ? { lastModified: focus.lastUpdated } : {}),
    },
  };
  if (content === 'full-resource' && focus.resource && !focus.deleted)
    entry.resource = embeddable(focus.resource);
  return entry;
}

/** Subscriptions are sent without their channel headers (they may hold the subscriber's credentials). */
function embeddable(resource: Resource): Resource {
  return resource.resourceType === 'Subscription'
    ? (redactedSubscription(resource as BackportSubscription) as Subscription)
    : resource;
}
