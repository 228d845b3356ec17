/**
 * The one domain shape of a webhook subscription (DESIGN.md section 6): {@link SubscriptionRecord}, mapped once
 * from the `subscriptions` row here. Its other shape is the FHIR Subscription resource
 * (`subscription-resource.ts`). The signing secrets travel apart ({@link SubscriptionSecrets}), only to the
 * dispatcher, so nothing that renders a record can leak them.
 */
import type { SubscriptionsTable } from '../../store/schema.js';
import type { SecretBox } from '../../store/secret-box.js';
import type { SubscriptionFilters } from './subscription-filters.js';
import type { NotificationContentType, PayloadContent } from './subscription-resource.js';

/** Every status: `requested` waits for a successful handshake; `error`: the handshake failed; `off`: paused. */
export const SUBSCRIPTION_STATUSES = ['requested', 'active', 'error', 'off'] as const;
/** A subscription's status (see {@link SUBSCRIPTION_STATUSES}). */
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/** True when `value` is a {@link SubscriptionStatus}. */
export function isSubscriptionStatus(value: string): value is SubscriptionStatus {
  return (SUBSCRIPTION_STATUSES as readonly string[]).includes(value);
}

/** One subscription's delivery state; secrets are never part of it. */
export interface SubscriptionRecord {
  tenantId: string;
  id: string;
  status: SubscriptionStatus;
  /** Topic canonical URL. */
  topic: string;
  filters: SubscriptionFilters;
  endpoint: string;
  payloadContent: PayloadContent;
  contentType: NotificationContentType;
  heartbeatSeconds: number | null;
  timeoutSeconds: number | null;
  maxCount: number | null;
  /** ISO-8601 UTC; the subscription stops matching events after it. */
  end: string | null;
  /** Events matched since the subscription started (`events-since-subscription-start`). */
  eventsSinceStart: number;
  /** The highest event number delivered (2xx). */
  lastDeliveredEvent: number;
  /** When deliveries started failing without a success since; null while healthy. */
  failingSince: string | null;
  lastError: string | null;
  lastNotifiedAt: string | null;
  /** When a delivery last succeeded; null before the first success. */
  lastSuccessAt: string | null;
  /** Until when the secret before the last rotation still signs; null when there is none. */
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
  /** The client that created it; null for one created before owners were recorded (operators only). */
  ownerClientId: string | null;
}

/** Converts a row (secrets dropped). */
export function toSubscriptionRecord(row: SubscriptionsTable): SubscriptionRecord {
  const filters: SubscriptionFilters = {};
  if (row.filter_patient !== null) filters.patient = row.filter_patient;
  if (row.filter_practitioner !== null) filters.practitioner = row.filter_practitioner;
  if (row.filter_location !== null) filters.location = row.filter_location;
  if (row.filter_status !== null) filters.status = row.filter_status.split(',');
  return {
    tenantId: row.tenant_id,
    id: row.id,
    status: row.status as SubscriptionStatus,
    topic: row.topic,
    filters,
    endpoint: row.endpoint,
    payloadContent: row.payload_content as PayloadContent,
    contentType: row.content_type as NotificationContentType,
    heartbeatSeconds: row.heartbeat_seconds,
    timeoutSeconds: row.timeout_seconds,
    maxCount: row.max_count,
    end: row.end_at,
    eventsSinceStart: row.events_since_start,
    lastDeliveredEvent: row.last_delivered_event,
    failingSince: row.failing_since,
    lastError: row.last_error,
    lastNotifiedAt: row.last_notified_at,
    lastSuccessAt: row.last_success_at ?? null,
    previousSecretExpiresAt: row.previous_secret === null ? null : row.previous_secret_expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ownerClientId: row.owner_client_id ?? null,
  };
}

/** A subscription's signing secrets: the current one, and the one before the last rotation while it overlaps. */
export interface SubscriptionSecrets {
  current: string;
  previous: string | null;
  previousExpiresAt: string | null;
}

/** What the dispatcher delivers to: the record, its secrets and its channel headers. */
export interface DeliveryTarget {
  subscription: SubscriptionRecord;
  secrets: SubscriptionSecrets;
  /** `Name: value` lines sent with every notification (they may be the subscriber's credentials). */
  headers: string[];
}

/** Where a subscription's sealed values belong (the associated data of their encryption). */
export function secretContext(tenantId: string, id: string, field: 'secret' | 'headers'): string {
  return `subscription/${tenantId}/${id}/${field}`;
}

/** The row's channel header lines, opened. */
export function openHeaders(row: SubscriptionsTable, box: SecretBox): string[] {
  if (row.headers === null) return [];
  return JSON.parse(box.open(row.headers, secretContext(row.tenant_id, row.id, 'headers'))) as string[];
}

/** Header lines as the row keeps them: sealed JSON, or null when there are none. */
export function sealHeaders(
  tenantId: string,
  id: string,
  lines: readonly string[],
  box: SecretBox,
): string | null {
  return lines.length === 0 ? null : box.seal(JSON.stringify(lines), secretContext(tenantId, id, 'headers'));
}

/** A signing secret as the row keeps it. */
export function sealSecret(tenantId: string, id: string, secret: string, box: SecretBox): string {
  return box.seal(secret, secretContext(tenantId, id, 'secret'));
}

/** Converts a row, secrets and headers opened and kept apart from the record. */
export function toDeliveryTarget(row: SubscriptionsTable, box: SecretBox): DeliveryTarget {
  const context = secretContext(row.tenant_id, row.id, 'secret');
  return {
    subscription: toSubscriptionRecord(row),
    secrets: {
      current: box.open(row.secret, context),
      previous: row.previous_secret === null ? null : box.open(row.previous_secret, context),
      previousExpiresAt: row.previous_secret_expires_at,
    },
    headers: openHeaders(row, box),
  };
}

/** The secrets to sign with at `now`: the current one, then the previous one while its overlap lasts. */
export function signingSecrets(secrets: SubscriptionSecrets, now: Date): string[] {
  const result = [secrets.current];
  if (
    secrets.previous !== null &&
    secrets.previousExpiresAt !== null &&
    secrets.previousExpiresAt > now.toISOString()
  ) {
    result.push(secrets.previous);
  }
  return result;
}

/** Parsed filters as the row's columns. */
export function filterColumns(
  filters: SubscriptionFilters,
): Pick<SubscriptionsTable, 'filter_patient' | 'filter_practitioner' | 'filter_location' | 'filter_status'> {
  return {
    filter_patient: filters.patient ?? null,
    filter_practitioner: filters.practitioner ?? null,
    filter_location: filters.location ?? null,
    filter_status: filters.status?.join(',') ?? null,
  };
}
