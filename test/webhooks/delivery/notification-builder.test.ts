import type { Bundle, Parameters } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { notificationBody, notificationBundle } from '../../../src/webhooks/delivery/notification-builder.js';
import type { NotificationEvent } from '../../../src/webhooks/delivery/notification-events.js';
import type { SubscriptionRecord } from '../../../src/webhooks/subscriptions/subscription-record.js';
import { TOPIC_BASE_URL } from '../../../src/webhooks/subscriptions/topics.js';
import { expectValidFhir } from '../../support/fhir-validators.js';
import { appointment } from '../../support/webhook-fixtures.js';

const BASE = 'https://switchboard.test/fhir/clinic';
const now = new Date('2026-11-21T12:00:00.000Z');

const subscription: SubscriptionRecord = {
  tenantId: 'clinic',
  id: 'sub-1',
  status: 'active',
  topic: `${TOPIC_BASE_URL}appointment-booked`,
  filters: {},
  endpoint: 'https://hooks.example.com/h',
  payloadContent: 'id-only',
  contentType: 'application/fhir+json',
  heartbeatSeconds: null,
  timeoutSeconds: null,
  maxCount: null,
  end: null,
  eventsSinceStart: 7,
  lastDeliveredEvent: 6,
  failingSince: null,
  lastError: null,
  lastNotifiedAt: null,
  lastSuccessAt: null,
  previousSecretExpiresAt: null,
  createdAt: now.toISOString(),
  updatedAt: now.toISOString(),
  ownerClientId: null,
};

const stored = {
  ...appointment({ id: 'a1' }),
  meta: { versionId: '2', lastUpdated: '2026-11-21T11:59:00.000Z' },
};
const event: NotificationEvent = {
  eventNumber: 7,
  seq: 42,
  eventType: 'appointment.booked',
  occurredAt: '2026-11-21T11:59:00.000Z',
  payload: null,
  focus: {
    reference: 'Appointment/a1',
    versionId: 2,
    lastUpdated: '2026-11-21T11:59:00.000Z',
    deleted: false,
    resource: stored,
  },
  context: ['Schedule/s1'],
};

const statusOf = (bundle: Bundle) => bundle.entry?.[0]?.resource as Parameters;
const parameter = (p: Parameters, name: string) => p.parameter?.filter((x) => x.name === name) ?? [];

describe('notification bodies', () => {
  it.each(['empty', 'id-only', 'full-resource'] as const)(
    'builds a valid R4 backport notification Bundle for %s content',
    (content) => {
      const bundle = notificationBundle(subscription, 'event-notification', [event], {
        baseUrl: BASE,
        content,
        now,
      });
      expectValidFhir(bundle);
      expect(bundle.type).toBe('history');
      const status = statusOf(bundle);
      expect(status.resourceType).toBe('Parameters');
      expect(parameter(status, 'type')[0]?.valueCode).toBe('event-notification');
      expect(parameter(status, 'subscription')[0]?.valueReference?.reference).toBe(
        `${BASE}/Subscription/sub-1`,
      );
      expect(parameter(status, 'events-since-subscription-start')[0]?.valueString).toBe('7');
      const parts = parameter(status, 'notification-event')[0]?.part ?? [];
      expect(parts.find((p) => p.name === 'event-number')?.valueString).toBe('7');
      if (content === 'empty') {
        expect(parameter(status, 'topic')).toEqual([]);
        expect(parts.map((p) => p.name)).toEqual(['event-number', 'timestamp']);
        expect(bundle.entry).toHaveLength(1);
        return;
      }
      expect(parameter(status, 'topic')[0]?.valueCanonical).toBe(subscription.topic);
      expect(parts.find((p) => p.name === 'focus')?.valueReference?.reference).toBe('Appointment/a1');
      expect(parts.find((p) => p.name === 'additional-context')?.valueReference?.reference).toBe(
        'Schedule/s1',
      );
      const focus = bundle.entry?.[1];
      expect(focus).toMatchObject({
        fullUrl: `${BASE}/Appointment/a1`,
        request: { method: 'PUT', url: 'Appointment/a1' },
        response: { status: '200', etag: 'W/"2"' },
      });
      expect(focus?.resource).toEqual(content === 'full-resource' ? stored : undefined);
    },
  );

  it('sends a deleted focus as a DELETE entry without the resource', () => {
    const deleted: NotificationEvent = {
      ...event,
      eventType: 'appointment.deleted',
      focus: { ...event.focus!, deleted: true },
    };
    const bundle = notificationBundle(subscription, 'event-notification', [deleted], {
      baseUrl: BASE,
      content: 'full-resource',
      now,
    });
    expectValidFhir(bundle);
    expect(bundle.entry?.[1]).toMatchObject({ request: { method: 'DELETE', url: 'Appointment/a1' } });
    expect(bundle.entry?.[1]?.resource).toBeUndefined();
  });

  it('builds handshake and heartbeat Bundles without events', () => {
    for (const type of ['handshake', 'heartbeat'] as const) {
      const body = notificationBody(
        { ...subscription, status: type === 'handshake' ? 'requested' : 'active' },
        type,
        undefined,
        {
          baseUrl: BASE,
          now,
        },
      );
      const bundle = JSON.parse(body.body) as Bundle;
      expectValidFhir(bundle);
      expect(parameter(statusOf(bundle), 'type')[0]?.valueCode).toBe(type);
      expect(parameter(statusOf(bundle), 'notification-event')).toEqual([]);
    }
  });

  it('wraps the same event in a Standard Webhooks envelope for application/json subscribers', () => {
    const json = {
      ...subscription,
      contentType: 'application/json' as const,
      payloadContent: 'full-resource' as const,
    };
    const body = notificationBody(json, 'event-notification', event, { baseUrl: BASE, now });
    expect(body.contentType).toBe('application/json');
    expect(JSON.parse(body.body)).toEqual({
      type: 'appointment.booked',
      timestamp: event.occurredAt,
      data: {
        subscription: 'Subscription/sub-1',
        topic: subscription.topic,
        status: 'active',
        eventsSinceSubscriptionStart: 7,
        eventNumber: 7,
        focus: { reference: 'Appointment/a1', versionId: '2' },
        context: ['Schedule/s1'],
        resource: stored,
      },
    });
    const thin = notificationBody({ ...json, payloadContent: 'empty' }, 'event-notification', event, {
      baseUrl: BASE,
      now,
    });
    expect(JSON.parse(thin.body).data).not.toHaveProperty('focus');
    const handshake = notificationBody(json, 'handshake', undefined, { baseUrl: BASE, now });
    expect(JSON.parse(handshake.body)).toMatchObject({ type: 'subscription.handshake' });
  });
});
