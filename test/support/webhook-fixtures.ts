/**
 * Fixtures for the webhook tests: dispatcher settings with short retries, Subscription resources as a client
 * would POST them, and a tiny practice (patients, practitioners, locations, schedules) in the store with helpers
 * that commit appointment changes with the journal events the sync engine would emit.
 */
import type { Appointment, Location, Patient, Practitioner, Schedule, Slot } from '@medplum/fhirtypes';
import type { WebhookSettings } from '../../src/config.js';
import type { Store } from '../../src/store/database.js';
import { commitChanges } from '../../src/events/change-writer.js';
import { readResource } from '../../src/store/resource-store.js';
import {
  createEndpointPolicy,
  type EndpointPolicy,
  type HostLookup,
} from '../../src/webhooks/delivery/endpoint-guard.js';
import {
  FILTER_CRITERIA_EXTENSION,
  HEARTBEAT_PERIOD_EXTENSION,
  PAYLOAD_CONTENT_EXTENSION,
  TIMEOUT_EXTENSION,
  type BackportSubscription,
  type PayloadContent,
} from '../../src/webhooks/subscriptions/subscription-resource.js';
import { TOPIC_BASE_URL, type TopicId } from '../../src/webhooks/subscriptions/topics.js';
import { changeEventType } from '../../sync/change-events.js';

export const TENANT = 'clinic';

/** Dispatcher settings for tests: loopback allowlisted, fast polls, retries in milliseconds. */
export function testWebhookSettings(overrides: Partial<WebhookSettings> = {}): WebhookSettings {
  return {
    allowlist: ['127.0.0.0/8'],
    allowedPorts: [443],
    timeoutMs: 2_000,
    perEndpointConcurrency: 2,
    disableAfterSeconds: 3_600,
    attentionAfterSeconds: 600,
    pollIntervalMs: 10,
    batchSize: 100,
    responseBodyLimitBytes: 64 * 1024,
    secretOverlapSeconds: 60,
    ...overrides,
    retry: { baseDelayMs: 10, maxDelayMs: 100, maxAgeSeconds: 600, maxAttempts: 1_000, ...overrides.retry },
  };
}

/** The policy registration uses in tests: loopback allowlisted (receivers run on 127.0.0.1). */
export function loopbackPolicy(lookup?: HostLookup): EndpointPolicy {
  return createEndpointPolicy({ allowlist: ['127.0.0.0/8'] }, { lookup });
}

export interface SubscriptionOptions {
  topic?: TopicId;
  endpoint: string;
  content?: PayloadContent;
  contentType?: 'application/fhir+json' | 'application/json';
  filters?: string[];
  heartbeatSeconds?: number;
  timeoutSeconds?: number;
  headers?: string[];
  status?: BackportSubscription['status'];
}

/** A backport Subscription resource as a client POSTs it. */
export function subscriptionResource(options: SubscriptionOptions): BackportSubscription {
  const channelExtensions = [
    ...(options.heartbeatSeconds !== undefined
      ? [{ url: HEARTBEAT_PERIOD_EXTENSION, valueUnsignedInt: options.heartbeatSeconds }]
      : []),
    ...(options.timeoutSeconds !== undefined
      ? [{ url: TIMEOUT_EXTENSION, valueUnsignedInt: options.timeoutSeconds }]
      : []),
  ];
  return {
    resourceType: 'Subscription',
    status: options.status ?? 'requested',
    reason: 'front-desk dashboard',
    criteria: `${TOPIC_BASE_URL}${options.topic ?? 'appointment-booked'}`,
    ...(options.filters?.length
      ? {
          _criteria: {
            extension: options.filters.map((f) => ({ url: FILTER_CRITERIA_EXTENSION, valueString: f })),
          },
        }
      : {}),
    channel: {
      ...(channelExtensions.length ? { extension: channelExtensions } : {}),
      type: 'rest-hook',
      endpoint: options.endpoint,
      payload: options.contentType ?? 'application/fhir+json',
      _payload: { extension: [{ url: PAYLOAD_CONTENT_EXTENSION, valueCode: options.content ?? 'id-only' }] },
      ...(options.headers ? { header: options.headers } : {}),
    },
  };
}

/** Ids of the tiny practice {@link seedPractice} writes. */
export const PRACTICE = {
  patients: ['pat-1', 'pat-2'],
  practitioners: ['dr-a', 'dr-b'],
  locations: ['loc-1', 'loc-2'],
  /** Schedule of practitioner × location. */
  schedule: (practitioner: string, location: string) => `sch-${practitioner}-${location}`,
};

/** Writes two patients, two practitioners, two locations and their four schedules (no journal events). */
export async function seedPractice(store: Store, tenantId = TENANT): Promise<void> {
  const patients: Patient[] = PRACTICE.patients.map((id, i) => ({
    resourceType: 'Patient',
    id,
    name: [{ family: `Doe${i}`, given: ['Jo'] }],
    birthDate: '1980-01-01',
  }));
  const practitioners: Practitioner[] = PRACTICE.practitioners.map((id) => ({
    resourceType: 'Practitioner',
    id,
    name: [{ family: id }],
  }));
  const locations: Location[] = PRACTICE.locations.map((id) => ({ resourceType: 'Location', id, name: id }));
  const schedules: Schedule[] = PRACTICE.practitioners.flatMap((p) =>
    PRACTICE.locations.map((l): Schedule => ({
      resourceType: 'Schedule',
      id: PRACTICE.schedule(p, l),
      active: true,
      actor: [{ reference: `Practitioner/${p}` }, { reference: `Location/${l}` }],
    })),
  );
  await commitChanges(
    store,
    tenantId,
    [...patients, ...practitioners, ...locations, ...schedules].map((resource) => ({
      op: 'upsert' as const,
      resource: resource as typeof resource & { id: string },
    })),
  );
}

export interface AppointmentFields {
  id: string;
  patient?: string;
  practitioner?: string;
  location?: string;
  /** Minutes after 2026-12-01T14:00Z. */
  startMinutes?: number;
  status?: Appointment['status'];
  comment?: string;
}

/** A valid R4 Appointment. */
export function appointment(fields: AppointmentFields): Appointment & { id: string } {
  const start = new Date(Date.parse('2026-12-01T14:00:00Z') + (fields.startMinutes ?? 0) * 60_000);
  return {
    resourceType: 'Appointment',
    id: fields.id,
    status: fields.status ?? 'booked',
    start: start.toISOString(),
    end: new Date(start.getTime() + 15 * 60_000).toISOString(),
    ...(fields.comment ? { comment: fields.comment } : {}),
    participant: [
      { actor: { reference: `Patient/${fields.patient ?? 'pat-1'}` }, status: 'accepted' },
      { actor: { reference: `Practitioner/${fields.practitioner ?? 'dr-a'}` }, status: 'accepted' },
      { actor: { reference: `Location/${fields.location ?? 'loc-1'}` }, status: 'accepted' },
    ],
  };
}

/**
 * Commits appointments (creates, updates or, with `delete`, deletes) with the journal events the sync engine
 * would emit for them, in one commit. Returns the sequence numbers of the events.
 */
export async function commitAppointments(
  store: Store,
  changes: ReadonlyArray<Appointment & { id: string }> | { delete: string[] },
  tenantId = TENANT,
): Promise<number[]> {
  if ('delete' in changes) {
    const result = await commitChanges(
      store,
      tenantId,
      changes.delete.map((id) => ({ op: 'delete' as const, resourceType: 'Appointment' as const, id })),
      changes.delete.map((id) => ({
        eventType: 'appointment.deleted',
        resourceType: 'Appointment',
        resourceId: id,
      })),
    );
    return result.journal.map((e) => e.seq);
  }
  const events = [];
  for (const next of changes) {
    const before = await readResource(store, tenantId, 'Appointment', next.id);
    const previous = before && !before.deleted ? before.resource : undefined;
    events.push({
      eventType: changeEventType(previous, next),
      resourceType: 'Appointment',
      resourceId: next.id,
    });
  }
  const result = await commitChanges(
    store,
    tenantId,
    changes.map((resource) => ({ op: 'upsert' as const, resource })),
    events,
  );
  return result.journal.map((e) => e.seq);
}

/** A block (busy-unavailable Slot) on a schedule, committed with its `slot.*` event. */
export async function commitBlock(
  store: Store,
  id: string,
  schedule: string,
  tenantId = TENANT,
): Promise<void> {
  const slot: Slot & { id: string } = {
    resourceType: 'Slot',
    id,
    schedule: { reference: `Schedule/${schedule}` },
    status: 'busy-unavailable',
    start: '2026-12-02T17:00:00.000Z',
    end: '2026-12-02T18:00:00.000Z',
    comment: 'staff meeting',
  };
  const before = await readResource(store, tenantId, 'Slot', id);
  await commitChanges(
    store,
    tenantId,
    [{ op: 'upsert', resource: slot }],
    [{ eventType: before ? 'slot.changed' : 'slot.created', resourceType: 'Slot', resourceId: id }],
  );
}
