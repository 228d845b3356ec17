/**
 * Webhook delivery over both connectors (issue 12): a front-desk change in the records system and a booking
 * through the facade reach a subscriber as signed notification Bundles, whether the tenant is connected to the
 * proprietary simulator or to the FHIR simulator on Medplum's engine — one whole Switchboard over real HTTP each,
 * its webhook dispatcher delivering to a loopback receiver.
 */
import type { Appointment, Bundle, Parameters } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookingBody, slotPool, type PoolSlot } from '../../support/booking-campaign/campaign-runner.js';
import type { BackportSubscription } from '../../../src/webhooks/subscriptions/subscription-resource.js';
import { subscriptionResource, type SubscriptionOptions } from '../../support/webhook-fixtures.js';
import {
  eventNotifications,
  verifies,
  type ParsedNotification,
} from '../../support/webhook-notifications.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.js';
import {
  connectorRuns,
  eventually,
  SCENARIO_TIMEOUT_MS,
  useConnectorWorld,
} from './support/connector-worlds.js';

describe.each(connectorRuns())('webhooks over the $records connector ($database.name)', (run) => {
  const world = useConnectorWorld(run, { webhooks: true });
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await receiver.close();
  });

  const token = () => world().tokens[0] as string;
  const notificationsAt = (path: string): ParsedNotification[] =>
    eventNotifications(receiver.received.filter((r) => r.path === `/hook/${path}`));
  /** The Appointment resources notified at `path` (full-resource payloads). */
  const appointmentsAt = (path: string): Appointment[] =>
    notificationsAt(path).flatMap((n) =>
      (n.bundle.entry ?? []).flatMap((e) =>
        e.resource?.resourceType === 'Appointment' ? [e.resource as Appointment] : [],
      ),
    );

  /** A subscription at `/hook/{path}`, once its handshake succeeded. */
  async function subscribe(path: string, options: Partial<SubscriptionOptions>) {
    const created = await world().fhir<BackportSubscription>(token(), 'POST', 'Subscription', {
      body: subscriptionResource({
        endpoint: `${receiver.url}/${path}`,
        content: 'full-resource',
        ...options,
      }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body?.id as string;
    await eventually(async () => {
      const status = await world().fhir<Bundle<Parameters>>(token(), 'GET', `Subscription/${id}/$status`);
      const parameters = status.body?.entry?.[0]?.resource?.parameter ?? [];
      return parameters.find((p) => p.name === 'status')?.valueCode === 'active';
    }, `Subscription/${id} is active`);
    return { id, secret: created.headers?.get('x-switchboard-webhook-secret') ?? '' };
  }

  const pool = async (): Promise<PoolSlot[]> =>
    slotPool(world(), await world().practitioners(), { perPractitioner: 40, days: 5 });

  it(
    'notifies a front-desk booking and its cancellation in the records system, signed',
    { timeout: SCENARIO_TIMEOUT_MS },
    async () => {
      const w = world();
      const booked = await subscribe('fd-booked', { topic: 'appointment-booked' });
      const cancelled = await subscribe('fd-cancelled', { topic: 'appointment-cancelled' });
      const slots = await pool();
      const slot = slots[Math.floor(slots.length / 3)] as PoolSlot;
      const [patient] = await w.patients(1);
      const isOurs = (a: Appointment) =>
        Date.parse(a.start ?? '') === slot.start.getTime() &&
        a.participant.some((p) => p.actor?.reference === `Practitioner/${slot.practitioner.fhirId}`);

      const made = await w.records.frontDeskBook({
        providerId: slot.practitioner.providerId,
        locationId: slot.locationId,
        patientId: patient?.simId as number,
        start: slot.start,
        minutes: 15,
      });
      expect(made.status).toBe(201);
      await eventually(() => appointmentsAt('fd-booked').some(isOurs), 'the front-desk booking was notified');
      const appointment = appointmentsAt('fd-booked').find(isOurs) as Appointment;
      expect(appointment.status).toBe('booked');
      const request = receiver.received.find(
        (r) => r.path === '/hook/fd-booked' && r.body.includes(`"Appointment/${appointment.id}"`),
      );
      expect(request && verifies(request, booked.secret)).toBe(true);

      expect((await w.records.frontDeskCancel(made.upstreamId as string)).status).toBe(200);
      await eventually(
        () => appointmentsAt('fd-cancelled').some((a) => a.id === appointment.id && a.status === 'cancelled'),
        'the front-desk cancellation was notified',
      );
      const cancelRequest = receiver.received.find(
        (r) => r.path === '/hook/fd-cancelled' && r.body.includes(`"Appointment/${appointment.id}"`),
      );
      expect(cancelRequest && verifies(cancelRequest, cancelled.secret)).toBe(true);
    },
  );

  it(
    'notifies a booking and a cancellation made through the facade',
    { timeout: SCENARIO_TIMEOUT_MS },
    async () => {
      const w = world();
      await subscribe('agent-booked', { topic: 'appointment-booked' });
      await subscribe('agent-cancelled', { topic: 'appointment-cancelled' });
      const slots = await pool();
      const slot = slots[Math.floor((slots.length * 2) / 3)] as PoolSlot;
      const [patient] = (await w.patients(450)).slice(-2);
      const booked = await w.fhir<Appointment>(token(), 'POST', 'Appointment', {
        body: bookingBody(slot, patient as NonNullable<typeof patient>),
      });
      expect(booked.status, JSON.stringify(booked.body)).toBe(201);
      const id = booked.body?.id as string;
      await eventually(
        () => notificationsAt('agent-booked').some((n) => n.foci.includes(`Appointment/${id}`)),
        'the booking was notified',
      );
      expect(appointmentsAt('agent-booked').find((a) => a.id === id)?.status).toBe('booked');

      const cancelled = await w.fhir<Appointment>(token(), 'PATCH', `Appointment/${id}`, {
        body: [{ op: 'replace', path: '/status', value: 'cancelled' }],
        contentType: 'application/json-patch+json',
      });
      expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
      await eventually(
        () => notificationsAt('agent-cancelled').some((n) => n.foci.includes(`Appointment/${id}`)),
        'the cancellation was notified',
      );
      // Exactly once each, however many sync passes saw the records system since.
      expect(
        notificationsAt('agent-booked').filter((n) => n.foci.includes(`Appointment/${id}`)),
      ).toHaveLength(1);
    },
  );
});
