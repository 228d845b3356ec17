import type { Appointment } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { fhirIdsFor } from '../../src/store/upstream-ids.js';
import { testStoreFactories } from '../support/test-stores.js';
import { subscriptionResource } from '../support/webhook-fixtures.js';
import { eventNotifications } from '../support/webhook-notifications.js';
import { waitUntil } from '../support/webhook-receiver.js';
import {
  createSubscription,
  fhirSend,
  useSubscriptionFacade,
  waitForStatus,
} from './support/subscription-facade.js';

/**
 * Bookings made through Switchboard itself (not by the front desk) reach subscribers: book, reschedule by PUT and
 * cancel by PUT over FHIR, with subscribers on `appointment-changed` and `slot-availability`.
 */
describe.each(testStoreFactories)('Switchboard bookings notify subscribers ($name)', (factory) => {
  const facade = useSubscriptionFacade(factory, { booking: true });
  const notificationsAt = (path: string) =>
    eventNotifications(facade().receiver.received.filter((r) => r.path === `/hook/${path}`));

  it('notifies the reschedule to appointment-changed, and book, reschedule and cancel to slot-availability', async () => {
    const { h, receiver } = facade();
    const subscribe = async (path: string, topic: 'appointment-changed' | 'slot-availability') => {
      const created = await createSubscription(
        h,
        subscriptionResource({ endpoint: `${receiver.url}/${path}`, topic }),
      );
      const id = created.subscription.id ?? '';
      await waitForStatus(h, id, 'active');
    };
    await subscribe('changed', 'appointment-changed');
    await subscribe('slots', 'slot-availability');
    const fhirId = async (type: 'Patient' | 'Practitioner', upstream: number) =>
      (await fhirIdsFor(h.store, h.tenant, type, [String(upstream)])).get(String(upstream)) ?? '';

    // Book: Monday 10:30 for patient 2 with Dr. Johnson.
    const booked = await fhirSend<Appointment>(h, 'POST', 'Appointment', {
      resourceType: 'Appointment',
      status: 'booked',
      appointmentType: { coding: [{ code: 'FU' }] },
      start: '2026-11-23T10:30:00-05:00',
      end: '2026-11-23T10:45:00-05:00',
      participant: [
        { actor: { reference: `Patient/${await fhirId('Patient', 2)}` }, status: 'accepted' },
        { actor: { reference: `Practitioner/${await fhirId('Practitioner', 1)}` }, status: 'accepted' },
      ],
    });
    expect(booked.status, JSON.stringify(booked.body)).toBe(201);
    const appointment = booked.body;
    const focus = `Appointment/${appointment.id ?? ''}`;
    const slotEvents = () => notificationsAt('slots').flatMap((n) => n.eventNumbers);
    await waitUntil(() => slotEvents().length === 1, 'the booking was notified to slot-availability');

    // Reschedule by PUT to 10:45.
    const moved = await fhirSend<Appointment>(
      h,
      'PUT',
      `Appointment/${appointment.id ?? ''}`,
      { ...appointment, start: '2026-11-23T10:45:00-05:00', end: '2026-11-23T11:00:00-05:00' },
      { 'if-match': booked.headers.get('etag') ?? '' },
    );
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    await waitUntil(
      () => notificationsAt('changed').length === 1,
      'the reschedule was notified to appointment-changed',
    );
    expect(notificationsAt('changed')[0]).toMatchObject({ eventNumbers: [1], foci: [focus] });
    await waitUntil(() => slotEvents().length === 2, 'the reschedule was notified to slot-availability');

    // Cancel by PUT.
    const cancelled = await fhirSend<Appointment>(
      h,
      'PUT',
      `Appointment/${appointment.id ?? ''}`,
      { ...moved.body, status: 'cancelled', cancelationReason: { text: 'Travel' } },
      { 'if-match': moved.headers.get('etag') ?? '' },
    );
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    await waitUntil(() => slotEvents().length === 3, 'the cancellation was notified to slot-availability');

    expect(slotEvents()).toEqual([1, 2, 3]);
    const slots = notificationsAt('slots');
    const foci = slots.flatMap((n) => n.foci);
    expect(foci).toHaveLength(3);
    for (const schedule of foci) expect(schedule).toMatch(/^Schedule\//);
    // Each names the appointment that took or gave the time as additional context.
    for (const notification of slots) expect(JSON.stringify(notification.bundle)).toContain(focus);
    // appointment-changed covers neither the booking nor the cancellation.
    expect(notificationsAt('changed').flatMap((n) => n.eventNumbers)).toEqual([1]);
  });
});
