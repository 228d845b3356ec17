import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SimAppointment, SimPage } from '../../src/sim/sim-types.js';
import type { SimHarness } from './sim-harness.js';
import { ManualClock, appointmentBody, startSim } from './sim-harness.js';

describe('sim appointments', () => {
  let h: SimHarness;
  beforeEach(async () => {
    // 14:00:00 UTC on 20 November 2026 is 09:00:00 in New York (EST).
    h = await startSim({ clock: new ManualClock('2026-11-20T14:00:00Z') });
  });
  afterEach(async () => {
    await h.stop();
  });

  const list = async (query: string) => {
    const answer = await h.api<SimPage<SimAppointment>>('GET', `/appointments?${query}`);
    expect(answer.status).toBe(200);
    return answer.body.items.map((a) => a.id);
  };

  it('books an appointment as scheduled, with Location, stamps and the contract fields', async () => {
    const booked = await h.api<SimAppointment>('POST', '/appointments', appointmentBody({ notes: 'cough' }));
    expect(booked.status).toBe(201);
    expect(booked.headers.get('location')).toBe('/firm/tiny/api/appointments/5');
    expect(booked.body).toEqual({
      id: 5,
      patientId: 2,
      providerId: 1,
      locationId: 1,
      appointmentTypeId: 1,
      start: '2026-11-24T09:00',
      durationMinutes: 15,
      status: 'scheduled',
      notes: 'cough',
      externalRef: null,
      createdAt: '2026-11-20T09:00:00',
      modifiedAt: '2026-11-20T09:00:00',
    });
    expect((await h.api('GET', '/appointments/5')).body).toEqual(booked.body);
    expect((await h.api('GET', '/appointments/55')).status).toBe(404);
  });

  it('does no conflict checking: two overlapping bookings of the same provider both succeed', async () => {
    const first = await h.api<SimAppointment>(
      'POST',
      '/appointments',
      appointmentBody({ start: '2026-11-24T09:00' }),
    );
    const second = await h.api<SimAppointment>(
      'POST',
      '/appointments',
      appointmentBody({ patientId: 5, start: '2026-11-24T09:10', durationMinutes: 30 }),
    );
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(await list('providerId=1&from=2026-11-24T00:00&to=2026-11-25T00:00')).toEqual([
      first.body.id,
      second.body.id,
    ]);
  });

  it('stores externalRef verbatim and finds it with ?externalRef=', async () => {
    const marker = 'sb:booking/7f3c 9a+ü';
    const booked = await h.api<SimAppointment>(
      'POST',
      '/appointments',
      appointmentBody({ externalRef: marker }),
    );
    expect(booked.body.externalRef).toBe(marker);
    expect(await list(`externalRef=${encodeURIComponent(marker)}`)).toEqual([booked.body.id]);
    expect(await list('externalRef=sb%3Aseeded-0001')).toEqual([2]);
    expect(await list('externalRef=sb%3ASEEDED-0001')).toEqual([]);
    expect(await list('externalRef=sb%3Aseeded')).toEqual([]);
  });

  it('filters on the start with from <= start < to, whatever the precision of the bounds', async () => {
    expect(await list('from=2026-11-23T09:00&to=2026-11-23T10:00')).toEqual([1]);
    expect(await list('from=2026-11-23T09:00:00&to=2026-11-23T10:00:01')).toEqual([1, 2]);
    expect(await list('from=2026-11-23T09:00:01')).toEqual([2, 4]);
    expect(await list('to=2026-11-01T00:00')).toEqual([3]);
  });

  it('filters by provider and patient', async () => {
    expect(await list('providerId=2')).toEqual([2, 3]);
    expect(await list('patientId=1')).toEqual([1, 3, 4]);
    expect(await list('patientId=1&providerId=1')).toEqual([1, 4]);
    expect((await h.api('GET', '/appointments?patientId=0')).body).toMatchObject({ field: 'patientId' });
    expect((await h.api('GET', '/appointments?from=tomorrow')).body).toMatchObject({ field: 'from' });
  });

  it('reschedules with PUT, keeping the externalRef when it is left out and bumping modifiedAt', async () => {
    h.clock.advanceSeconds(90);
    const moved = await h.api<SimAppointment>(
      'PUT',
      '/appointments/2',
      appointmentBody({
        patientId: 3,
        providerId: 2,
        locationId: 2,
        start: '2026-11-25T11:30',
        durationMinutes: 20,
      }),
    );
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({
      id: 2,
      start: '2026-11-25T11:30',
      durationMinutes: 20,
      status: 'confirmed',
      notes: 'Bring insurance card',
      externalRef: 'sb:seeded-0001',
      createdAt: '2026-10-11T10:00:00',
      modifiedAt: '2026-11-20T09:01:30',
    });
  });

  it('lets the front desk move the status with PUT', async () => {
    const current = (await h.api<SimAppointment>('GET', '/appointments/1')).body;
    for (const status of ['confirmed', 'checked-in', 'completed', 'no-show'] as const) {
      const answer = await h.api<SimAppointment>('PUT', '/appointments/1', { ...current, status });
      expect(answer.status).toBe(200);
      expect(answer.body.status).toBe(status);
    }
    const bad = await h.api('PUT', '/appointments/1', { ...current, status: 'arrived' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'invalid_request', field: 'status' });
    expect((await h.api('PUT', '/appointments/99', current)).status).toBe(404);
  });

  it('cancels with a reason, keeping the row and bumping modifiedAt', async () => {
    h.clock.advanceSeconds(5);
    const cancelled = await h.api<SimAppointment>('POST', '/appointments/1/cancel', {
      reason: 'Feeling better',
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({
      id: 1,
      status: 'cancelled',
      cancelReason: 'Feeling better',
      modifiedAt: '2026-11-20T09:00:05',
    });
    expect(await list('modifiedSince=2026-11-20T09:00')).toEqual([1]);
    expect((await h.api('POST', '/appointments/99/cancel', { reason: 'x' })).status).toBe(404);
  });

  it('hard-deletes: the row disappears and only its absence tells', async () => {
    const booked = await h.api<SimAppointment>(
      'POST',
      '/appointments',
      appointmentBody({ externalRef: 'sb:gone' }),
    );
    const window = 'from=2026-11-24T00:00&to=2026-11-25T00:00';
    expect(await list(window)).toEqual([booked.body.id]);
    expect(await list('modifiedSince=2026-11-20T09:00')).toEqual([booked.body.id]);

    h.clock.advanceSeconds(60);
    const deleted = await h.api('DELETE', `/appointments/${booked.body.id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeUndefined();

    expect((await h.api('GET', `/appointments/${booked.body.id}`)).status).toBe(404);
    expect(await list('modifiedSince=2026-11-20T09:00')).toEqual([]);
    expect(await list(window)).toEqual([]);
    expect(await list('externalRef=sb%3Agone')).toEqual([]);
    expect((await h.api('DELETE', `/appointments/${booked.body.id}`)).status).toBe(404);
    // The id is never handed out again.
    expect((await h.api<SimAppointment>('POST', '/appointments', appointmentBody())).body.id).toBe(
      booked.body.id + 1,
    );
  });

  it('rejects invalid appointment writes with 400 naming the field, and writes nothing', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [appointmentBody({ patientId: 99 }), 'patientId'],
      [appointmentBody({ providerId: 99 }), 'providerId'],
      [appointmentBody({ locationId: 99 }), 'locationId'],
      [appointmentBody({ appointmentTypeId: 99 }), 'appointmentTypeId'],
      [appointmentBody({ patientId: '2' }), 'patientId'],
      [appointmentBody({ providerId: undefined }), 'providerId'],
      [appointmentBody({ start: undefined }), 'start'],
      [appointmentBody({ start: '2026-11-24 09:00' }), 'start'],
      [appointmentBody({ start: '2026-11-24T09:00:00-05:00' }), 'start'],
      [appointmentBody({ start: '2026-11-31T09:00' }), 'start'],
      [appointmentBody({ start: '2026-11-24T09:00:30' }), 'start'],
      // 02:30 on 8 March 2026 does not exist in New York: clocks jump from 02:00 to 03:00.
      [appointmentBody({ start: '2026-03-08T02:30' }), 'start'],
      [appointmentBody({ durationMinutes: 0 }), 'durationMinutes'],
      [appointmentBody({ durationMinutes: -15 }), 'durationMinutes'],
      [appointmentBody({ durationMinutes: 12.5 }), 'durationMinutes'],
      [appointmentBody({ status: 'confirmed' }), 'status'],
      [appointmentBody({ externalRef: 42 }), 'externalRef'],
    ];
    for (const [body, field] of cases) {
      const answer = await h.api('POST', '/appointments', body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body).toMatchObject({ error: 'invalid_request', field });
    }
    expect((await h.api('POST', '/appointments', [1, 2])).body).toMatchObject({ field: 'body' });
    expect(h.sim.state('tiny').appointments).toHaveLength(4);
  });

  it('accepts a start with zero seconds and stores it to the minute', async () => {
    const booked = await h.api<SimAppointment>(
      'POST',
      '/appointments',
      appointmentBody({ start: '2026-11-24T09:15:00' }),
    );
    expect(booked.status).toBe(201);
    expect(booked.body.start).toBe('2026-11-24T09:15');
  });
});
