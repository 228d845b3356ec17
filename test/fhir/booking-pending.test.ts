/**
 * Issue 10 item 1 over HTTP: a booking whose outcome is unknown at the response deadline is answered
 * `202 booking-pending` (a patient-safe sentence), its Idempotency-Key stays bound to the booking, and replaying the
 * key gives the final answer once it is known; a confirmed booking journals `booking.confirmed`.
 */
import type { Appointment, Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connectors/connector.js';
import { UpstreamError } from '../../src/connectors/upstream-error.js';
import { readJournal } from '../../src/store/change-journal.js';
import { testStoreFactories } from '../support/test-stores.js';
import { TINY_FIRM } from '../support/tiny-firm.js';
import {
  detailCode,
  fhirRequest,
  monday1030,
  useBookingFacade,
  type BookingFacade,
} from '../booking/support/booking-facade.js';

/**
 * Puts a connector in place whose `method` waits for `open()` before doing what `then` says (by default, what the
 * records system's connector does), with the response deadline shortened so the booking answers pending first.
 */
function gateUpstream<M extends 'createAppointment' | 'cancelAppointment'>(
  h: BookingFacade,
  method: M,
  then?: () => Promise<never>,
): { open: () => void } {
  h.sync.tenants[0]!.booking.responseDeadlineMs = 100;
  const real = h.sync.connectors[0] as Connector;
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  h.useConnector(
    Object.create(real, {
      [method]: {
        value: async (...args: unknown[]) => {
          await gate;
          if (then) return then();
          return (real[method] as (...a: unknown[]) => Promise<unknown>).apply(real, args);
        },
      },
    }) as Connector,
  );
  return { open: () => open() };
}

describe.each(testStoreFactories)('booking-pending at the response deadline ($name)', (factory) => {
  const facade = useBookingFacade(factory);

  it('answers 202 booking-pending past the deadline, then the final 201 to the same key', async () => {
    const h = facade();
    const { open } = gateUpstream(h, 'createAppointment');
    const key = { 'idempotency-key': randomUUID() };
    const body = await monday1030(h);
    const pending = await fhirRequest<OperationOutcome>(h, 'POST', 'Appointment', { body, headers: key });
    expect(pending.status, JSON.stringify(pending.body)).toBe(202);
    expect(detailCode(pending)).toBe('booking-pending');
    expect(pending.body.issue[0]?.severity).toBe('information');
    expect(pending.body.issue[0]?.details?.text).toMatch(/being confirmed/);
    // Location names the pending Appointment: readable now, and found by searches while the booking runs.
    const location = pending.headers.get('location') as string;
    expect(location).toBe(`${h.base}/Appointment/${pending.headers.get('x-booking-id')}`);
    const pendingId = location.split('/').pop() as string;
    const read = await fhirRequest<Appointment>(h, 'GET', `Appointment/${pendingId}`);
    expect([read.status, read.body.status, read.body.start]).toEqual([
      200,
      'pending',
      '2026-11-23T10:30:00-05:00',
    ]);
    expect(read.body.participant.map((p) => p.actor?.reference)).toEqual(
      expect.arrayContaining(body.participant.map((p) => p.actor?.reference)),
    );
    const patient = body.participant[0]?.actor?.reference as string;
    const found = await fhirRequest<Bundle<Appointment>>(
      h,
      'GET',
      `Appointment?patient=${patient}&status=pending`,
    );
    expect(found.body.entry?.map((e) => e.resource?.id)).toEqual([pendingId]);
    // Still pending: the same key answers 202 again, without a second booking.
    const again = await fhirRequest(h, 'POST', 'Appointment', { body, headers: key });
    expect(again.status).toBe(202);

    open();
    let final = await fhirRequest<Appointment>(h, 'POST', 'Appointment', { body, headers: key });
    for (let i = 0; i < 100 && final.status === 202; i++) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      final = await fhirRequest<Appointment>(h, 'POST', 'Appointment', { body, headers: key });
    }
    expect(final.status, JSON.stringify(final.body)).toBe(201);
    expect(final.body.start).toBe('2026-11-23T10:30:00-05:00');
    expect(h.upstreamAt('2026-11-23T10:30', { includeCancelled: true })).toHaveLength(1);
    const replay = await fhirRequest<Appointment>(h, 'POST', 'Appointment', { body, headers: key });
    expect([replay.status, replay.body.id]).toEqual([201, final.body.id]);
    // The booked appointment is the one Location named: reading it now gives the final answer.
    expect(final.body.id).toBe(pendingId);
    const booked = await fhirRequest<Appointment>(h, 'GET', `Appointment/${pendingId}`);
    expect([booked.status, booked.body.status]).toEqual([200, 'booked']);
    const afterwards = await fhirRequest<Bundle<Appointment>>(h, 'GET', `Appointment?patient=${patient}`);
    expect(afterwards.body.entry?.map((e) => [e.resource?.id, e.resource?.status])).toEqual([
      [pendingId, 'booked'],
    ]);
    const events = await readJournal(h.store, TINY_FIRM, { limit: 1000 });
    expect(events.map((e) => e.eventType)).toContain('booking.confirmed');
  });

  it('answers a cancel still running at the deadline 202 with Location of the appointment, which then reads cancelled', async () => {
    const h = facade();
    const booked = await fhirRequest<Appointment>(h, 'POST', 'Appointment', { body: await monday1030(h) });
    expect(booked.status, JSON.stringify(booked.body)).toBe(201);
    const { open } = gateUpstream(h, 'cancelAppointment');
    const id = booked.body.id as string;
    const pending = await fhirRequest(h, 'PATCH', `Appointment/${id}`, {
      body: [{ op: 'replace', path: '/status', value: 'cancelled' }],
      contentType: 'application/json-patch+json',
    });
    expect([pending.status, detailCode(pending)]).toEqual([202, 'booking-pending']);
    expect(pending.headers.get('location')).toBe(`${h.base}/Appointment/${id}`);
    expect((await fhirRequest<Appointment>(h, 'GET', `Appointment/${id}`)).body.status).toBe('booked');

    open();
    let read = await fhirRequest<Appointment>(h, 'GET', `Appointment/${id}`);
    for (let i = 0; i < 100 && read.body.status === 'booked'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      read = await fhirRequest<Appointment>(h, 'GET', `Appointment/${id}`);
    }
    expect(read.body.status).toBe('cancelled');
    expect(h.upstreamAt('2026-11-23T10:30', { includeCancelled: true }).map((a) => a.status)).toEqual([
      'cancelled',
    ]);
    // The resolution is journalled just after the commit the read saw.
    const confirmed = async () =>
      (await readJournal(h.store, TINY_FIRM, { limit: 1000 }))
        .filter((e) => e.eventType === 'booking.confirmed')
        .map((e) => e.resourceId);
    for (let i = 0; i < 100 && (await confirmed()).length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    expect(await confirmed()).toEqual([id]);
  });

  it('reads a pending booking that then fails as cancelled, with the reason', async () => {
    const h = facade();
    // The write waits, then finds the records system down: nothing was written, the booking fails.
    const { open } = gateUpstream(h, 'createAppointment', () =>
      Promise.reject(new UpstreamError('unavailable', 'records system down', { outcome: 'not-applied' })),
    );
    const key = { 'idempotency-key': randomUUID() };
    const pending = await fhirRequest(h, 'POST', 'Appointment', { body: await monday1030(h), headers: key });
    expect(pending.status, JSON.stringify(pending.body)).toBe(202);
    const id = (pending.headers.get('location') as string).split('/').pop() as string;
    expect((await fhirRequest<Appointment>(h, 'GET', `Appointment/${id}`)).body.status).toBe('pending');

    open();
    let read = await fhirRequest<Appointment>(h, 'GET', `Appointment/${id}`);
    for (let i = 0; i < 100 && read.body.status === 'pending'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      read = await fhirRequest<Appointment>(h, 'GET', `Appointment/${id}`);
    }
    expect([read.status, read.body.status]).toEqual([200, 'cancelled']);
    expect(read.body.cancelationReason?.coding?.[0]?.code).toBe('ehr-unavailable');
    expect(h.upstreamAt('2026-11-23T10:30', { includeCancelled: true })).toHaveLength(0);
    // The same key gives the final answer: nothing was booked, worth retrying ...
    const final = await fhirRequest(h, 'POST', 'Appointment', { body: await monday1030(h), headers: key });
    expect([final.status, detailCode(final)]).toEqual([503, 'ehr-unavailable']);
    // ... and, like a first 503, it is not kept: the same key again books once the records system answers.
    h.useConnector(h.sync.connectors[0] as Connector);
    h.sync.tenants[0]!.booking.responseDeadlineMs = 30_000; // gateUpstream shortened it to 100 ms
    const retry = await fhirRequest<Appointment>(h, 'POST', 'Appointment', {
      body: await monday1030(h),
      headers: key,
    });
    expect(retry.status, JSON.stringify(retry.body)).toBe(201);
    expect(h.upstreamAt('2026-11-23T10:30')).toHaveLength(1);
  });

  it('answers a write whose answer was lost 202, not 503, and keeps the key bound until recovery decides', async () => {
    const h = facade();
    const real = h.sync.connectors[0] as Connector;
    const lost = () => new UpstreamError('timeout', 'records system timed out', { outcome: 'unknown' });
    // The write reaches the records system but its answer is lost, and the marker search fails too.
    h.useConnector(
      Object.create(real, {
        createAppointment: {
          value: async (...args: Parameters<Connector['createAppointment']>) => {
            await real.createAppointment(...args);
            throw lost();
          },
        },
        findAppointmentsByMarker: { value: () => Promise.reject(lost()) },
      }) as Connector,
    );
    const key = { 'idempotency-key': randomUUID() };
    const body = await monday1030(h);
    const pending = await fhirRequest(h, 'POST', 'Appointment', { body, headers: key });
    expect(pending.status, JSON.stringify(pending.body)).toBe(202);
    expect(detailCode(pending)).toBe('booking-pending');
    // Before recovery has decided, the same key still answers pending (not 409 slot-taken).
    expect((await fhirRequest(h, 'POST', 'Appointment', { body, headers: key })).status).toBe(202);

    // A sync pass sees the appointment first (and withholds it: its booking has not committed).
    await h.sync.engine.runStream(TINY_FIRM, 'window-hot');
    h.useConnector(real);
    h.sync.clock.advanceSeconds(60);
    await h.booking.recover();
    const final = await fhirRequest<Appointment>(h, 'POST', 'Appointment', { body, headers: key });
    expect(final.status, JSON.stringify(final.body)).toBe(201);
    // Still the id the 202 named, though the sync pass saw the appointment before the booking committed.
    expect(final.body.id).toBe(pending.headers.get('x-booking-id'));
    expect(h.upstreamAt('2026-11-23T10:30', { includeCancelled: true })).toHaveLength(1);
    const events = await readJournal(h.store, TINY_FIRM, { limit: 1000 });
    expect(events.map((e) => e.eventType)).toContain('booking.confirmed');
  });
});
