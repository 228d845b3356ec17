import type { Appointment, Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { testStoreFactories } from '../support/test-stores.js';
import { FRONT_DESK_MONDAY_1030, TINY_FIRM } from '../support/tiny-firm.js';
import {
  expectFailure,
  fhirRequest,
  gateCreates,
  useBookingFacade,
  type BookingFacade,
} from '../booking/support/booking-facade.js';

async function appointmentAt(h: BookingFacade, start: string, end: string): Promise<Appointment> {
  return {
    resourceType: 'Appointment',
    status: 'booked',
    appointmentType: { coding: [{ code: 'FU' }] },
    start,
    end,
    participant: [
      { actor: { reference: `Patient/${await h.fhirId('Patient', 2)}` }, status: 'accepted' },
      { actor: { reference: `Practitioner/${await h.fhirId('Practitioner', 1)}` }, status: 'accepted' },
    ],
  };
}

const at1030 = (h: BookingFacade) =>
  appointmentAt(h, '2026-11-23T10:30:00-05:00', '2026-11-23T10:45:00-05:00');
const at1100 = (h: BookingFacade) =>
  appointmentAt(h, '2026-11-23T11:00:00-05:00', '2026-11-23T11:15:00-05:00');
const records = (h: BookingFacade) => h.store.db.selectFrom('idempotency_records').selectAll().execute();

describe.each(testStoreFactories)('Idempotency-Key on booking writes ($name)', (factory) => {
  const facade = useBookingFacade(factory);

  it('answers a retry with the stored response — same status, id, Location and ETag — and books once', async () => {
    const h = facade();
    const key = { 'idempotency-key': `"${randomUUID()}"` };
    const first = await fhirRequest<Appointment>(h, 'POST', 'Appointment', {
      body: await at1030(h),
      headers: key,
    });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const again = await fhirRequest<Appointment>(h, 'POST', 'Appointment', {
      body: await at1030(h),
      headers: key,
    });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(h.upstreamAt('2026-11-23T10:30', { includeCancelled: true })).toHaveLength(1);
    expect(await h.store.db.selectFrom('booking_sagas').select('id').execute()).toHaveLength(1);
  });

  it('replays a refusal too, while a new key runs the request again', async () => {
    const h = facade();
    await h.sync.frontDesk(TINY_FIRM, 'POST', '/appointments', FRONT_DESK_MONDAY_1030);
    const key = { 'idempotency-key': randomUUID() };
    const first = await fhirRequest<OperationOutcome>(h, 'POST', 'Appointment', {
      body: await at1030(h),
      headers: key,
    });
    expectFailure(first, 409, 'slot-taken');
    const again = await fhirRequest<OperationOutcome>(h, 'POST', 'Appointment', {
      body: await at1030(h),
      headers: key,
    });
    expectFailure(again, 409, 'slot-taken');
    expect(again.body).toEqual(first.body);
    expect(await h.store.db.selectFrom('booking_sagas').select('id').execute()).toHaveLength(1);
  });

  it('refuses the same key with a different request with 422, booking nothing more', async () => {
    const h = facade();
    const key = { 'idempotency-key': randomUUID() };
    expect(
      (await fhirRequest(h, 'POST', 'Appointment', { body: await at1030(h), headers: key })).status,
    ).toBe(201);
    const other = await fhirRequest(h, 'POST', 'Appointment', { body: await at1100(h), headers: key });
    expectFailure(other, 422, 'idempotency-key-reused');
    expect(h.upstreamAt('2026-11-23T11:00', { includeCancelled: true })).toEqual([]);
  });

  it('answers 409 to the same key while the first request is still running, then replays its result', async () => {
    const h = facade();
    const { writing, open } = gateCreates(h);
    const key = { 'idempotency-key': randomUUID() };
    const body = await at1030(h);
    const first = fhirRequest<Appointment>(h, 'POST', 'Appointment', { body, headers: key });
    await writing;
    const concurrent = await fhirRequest(h, 'POST', 'Appointment', { body, headers: key });
    expectFailure(concurrent, 409, 'idempotency-key-in-flight');
    expect(concurrent.headers.get('retry-after')).toBe('1');
    open();
    const done = await first;
    expect(done.status).toBe(201);
    const replay = await fhirRequest<Appointment>(h, 'POST', 'Appointment', { body, headers: key });
    expect(replay.body.id).toBe(done.body.id);
    expect(h.upstreamAt('2026-11-23T10:30', { includeCancelled: true })).toHaveLength(1);
  });

  it('keeps no answer worth retrying: after a 503 the same key books once the records system is back', async () => {
    const h = facade();
    const key = { 'idempotency-key': randomUUID() };
    h.sync.sim.faults.set({ down: true });
    expectFailure(
      await fhirRequest(h, 'POST', 'Appointment', { body: await at1030(h), headers: key }),
      503,
      'ehr-unavailable',
    );
    h.sync.sim.faults.clear();
    // The connector's breaker may still be open for a moment; its half-open probe succeeds on the next call.
    let answer = await fhirRequest(h, 'POST', 'Appointment', { body: await at1030(h), headers: key });
    for (let i = 0; i < 20 && answer.status === 503; i++) {
      await new Promise((resolve) => setTimeout(resolve, 60));
      answer = await fhirRequest(h, 'POST', 'Appointment', { body: await at1030(h), headers: key });
    }
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(h.upstreamAt('2026-11-23T10:30')).toHaveLength(1);
  });

  it('refuses a key that is not a proper string of 16-255 visible characters with 400', async () => {
    const h = facade();
    for (const bad of ['short', '"has space inside it ok"', '"unterminated', 'x'.repeat(256)]) {
      expectFailure(
        await fhirRequest(h, 'POST', 'Appointment', {
          body: await at1030(h),
          headers: { 'idempotency-key': bad },
        }),
        400,
        'idempotency-key-invalid',
      );
    }
    expect(h.upstreamAt('2026-11-23T10:30')).toEqual([]);
  });

  it('forgets keys after 24 hours: the expired record is purged and the key is free again', async () => {
    const h = facade();
    const key = { 'idempotency-key': randomUUID() };
    expect(
      (await fhirRequest(h, 'POST', 'Appointment', { body: await at1030(h), headers: key })).status,
    ).toBe(201);
    expect(await records(h)).toHaveLength(1);
    h.sync.clock.advanceSeconds(24 * 3600 + 1);
    const reused = await fhirRequest(h, 'POST', 'Appointment', {
      body: await appointmentAt(h, '2026-11-30T10:30:00-05:00', '2026-11-30T10:45:00-05:00'),
      headers: key,
    });
    expect(reused.status, JSON.stringify(reused.body)).toBe(201);
    const rows = await records(h);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.created_at).toBe(h.sync.clock.now().toISOString());
  });

  it('makes $book idempotent too', async () => {
    const h = facade();
    const key = { 'idempotency-key': randomUUID() };
    const body = {
      resourceType: 'Parameters',
      parameter: [{ name: 'appointment-resource', resource: await at1030(h) }],
    };
    const first = await fhirRequest<Bundle>(h, 'POST', 'Appointment/$book', { body, headers: key });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const again = await fhirRequest<Bundle>(h, 'POST', 'Appointment/$book', { body, headers: key });
    expect(again.body.entry?.[0]?.resource?.id).toBe(first.body.entry?.[0]?.resource?.id);
    expect(h.upstreamAt('2026-11-23T10:30', { includeCancelled: true })).toHaveLength(1);
  });
});
