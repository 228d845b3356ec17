import type { Appointment } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import type { BookingFailure, BookingOutcome, BookingSuccess } from '../../src/booking/booking-types.js';
import type { Connector } from '../../src/connectors/connector.js';
import type { SimAppointment } from '../../src/sim/sim-types.js';
import { readJournal } from '../../src/store/change-journal.js';
import { readResource } from '../../src/store/resource-store.js';
import { expectValidFhir } from '../support/fhir-validators.js';
import { ManualClock } from '../support/sync-harness.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';
import { FRONT_DESK_MONDAY_1030, TINY_FIRM } from '../support/tiny-firm.js';
import { useSagaHarness } from './support/saga-harness.js';

// The tiny practice: Dr. Johnson (provider 1) works Mondays 08–12 at location 1 (any type) and Tuesdays 13–17
// (new-patient visits only); patient 1 has history, patient 2 has never been seen. The clock: Friday 2026-11-20.

describe.each(testStoreFactories)('booking saga against the sim over HTTP ($name)', (factory) => {
  const db = useTestStore(factory);
  const { setUp, service, fhirId, request, harness } = useSagaHarness(db);

  /** The records system's own view: active appointments of provider 1 starting at `wall`. */
  function upstreamAt(wall: string, includeCancelled = false): SimAppointment[] {
    return harness()
      .sim.state(TINY_FIRM)
      .appointments.filter(
        (a) => a.providerId === 1 && a.start === wall && (includeCancelled || a.status !== 'cancelled'),
      );
  }

  const claims = () => db().store.db.selectFrom('booking_claims').selectAll().execute();

  function expectFailure(outcome: BookingOutcome, code: BookingFailure['code']): BookingFailure {
    expect(outcome.ok ? 'booked' : outcome.code).toBe(code);
    return outcome as BookingFailure;
  }

  it('books into the records system once, at the right wall time, and records it with appointment.booked', async () => {
    await setUp();
    const outcome = await service().book(TINY_FIRM, await request({ comment: 'Knee pain' }));
    expect(outcome.ok).toBe(true);
    const { appointment, bookingId } = outcome as BookingSuccess;
    expectValidFhir(appointment);
    expect(appointment.start).toBe('2026-11-23T10:30:00-05:00');

    const [upstream, ...more] = upstreamAt('2026-11-23T10:30');
    expect(more).toEqual([]);
    expect(upstream).toMatchObject({
      patientId: 2,
      providerId: 1,
      locationId: 1,
      appointmentTypeId: 1,
      durationMinutes: 15,
      status: 'scheduled',
      notes: 'Knee pain',
      externalRef: `switchboard:${bookingId}`,
    });
    const stored = await readResource(db().store, TINY_FIRM, 'Appointment', appointment.id as string);
    expect(stored?.resource.start).toBe(appointment.start);
    const events = await readJournal(db().store, TINY_FIRM, { limit: 1000 });
    expect(events.filter((e) => e.eventType === 'appointment.booked').map((e) => e.resourceId)).toEqual([
      appointment.id,
    ]);
    expect(await claims()).toEqual([]);

    // The next sync pass sees our own booking and changes nothing.
    const pass = await harness().engine.runStream(TINY_FIRM, 'window-hot');
    expect(pass.result?.written).toBe(0);
  });

  it('lets exactly one of 50 concurrent requests for one slot book, with one upstream write', async () => {
    await setUp();
    const s = service();
    const req = await request();
    const outcomes = await Promise.all(Array.from({ length: 50 }, () => s.book(TINY_FIRM, req)));
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    expect(outcomes.filter((o) => !o.ok).map((o) => (o as BookingFailure).code)).toEqual(
      Array(49).fill('slot-taken'),
    );
    expect(upstreamAt('2026-11-23T10:30', true)).toHaveLength(1);
    expect(await claims()).toEqual([]);
  });

  it('answers slot-taken without writing when the front desk booked the same time just before', async () => {
    const h = await setUp();
    await h.frontDesk(TINY_FIRM, 'POST', '/appointments', FRONT_DESK_MONDAY_1030);
    const failure = expectFailure(await service().book(TINY_FIRM, await request()), 'slot-taken');
    expect(failure.message).toMatch(/taken/);
    expect(failure.alternatives.length).toBeGreaterThan(0);
    expect(failure.alternatives.length).toBeLessThanOrEqual(3);
    for (const slot of failure.alternatives) expectValidFhir(slot);
    expect(upstreamAt('2026-11-23T10:30', true)).toHaveLength(1);
    expect(await claims()).toEqual([]);
  });

  it('undoes its own write when the front desk books the same time while the agent books', async () => {
    const h = await setUp();
    const real = h.connectors[0]!;
    const racing: Connector = Object.create(real, {
      createAppointment: {
        value: async (...args: Parameters<Connector['createAppointment']>) => {
          await h.frontDesk(TINY_FIRM, 'POST', '/appointments', FRONT_DESK_MONDAY_1030);
          return real.createAppointment(...args);
        },
      },
    }) as Connector;
    const failure = expectFailure(await service(racing).book(TINY_FIRM, await request()), 'slot-taken');
    expect(failure.bookingId).toBeDefined();
    const ours = h.sim
      .state(TINY_FIRM)
      .appointments.filter((a) => a.externalRef === `switchboard:${failure.bookingId}`);
    expect(ours.map((a) => a.status)).toEqual(['cancelled']);
    expect(upstreamAt('2026-11-23T10:30').map((a) => a.patientId)).toEqual([1]);
    const events = await readJournal(db().store, TINY_FIRM, { limit: 1000 });
    expect(events.map((e) => e.eventType)).toContain('booking.rolled-back');
    expect(await claims()).toEqual([]);
  });

  it('reconciles by marker when the records system commits and then fails, ending with exactly one appointment', async () => {
    const h = await setUp();
    h.sim.faults.set({ commitThenFailRate: 1 });
    const outcome = await service().book(TINY_FIRM, await request());
    h.sim.faults.clear();
    expect(outcome.ok).toBe(true);
    expect(upstreamAt('2026-11-23T10:30', true)).toHaveLength(1);
  });

  it('fails fast with ehr-unavailable and Retry-After when the records system is down, writing nothing', async () => {
    const h = await setUp();
    const before = h.sim.state(TINY_FIRM).appointments.length;
    h.sim.faults.set({ down: true });
    const failure = expectFailure(await service().book(TINY_FIRM, await request()), 'ehr-unavailable');
    h.sim.faults.clear();
    expect(failure.retryAfterSeconds).toBeGreaterThan(0);
    expect(h.sim.state(TINY_FIRM).appointments).toHaveLength(before);
    expect(await claims()).toEqual([]);
  });

  it('leaves a timed-out write to recovery, which releases it once the records system shows nothing', async () => {
    const h = await setUp();
    const s = service();
    h.sim.faults.set({ timeoutRate: 1 });
    const failure = expectFailure(await s.book(TINY_FIRM, await request()), 'ehr-unavailable');
    h.sim.faults.clear();
    expect(upstreamAt('2026-11-23T10:30', true)).toEqual([]);
    h.clock.advanceSeconds(60);
    await s.recover();
    expect(await claims()).toEqual([]);
    const saga = await db()
      .store.db.selectFrom('booking_sagas')
      .select('state')
      .where('id', '=', failure.bookingId!)
      .executeTakeFirst();
    expect(saga?.state).toBe('released');
  });

  it.each([
    ['after the hold', 'appointmentsInWindow', false],
    ['after the write reached the records system', 'createAppointment', true],
  ] as const)('finishes or undoes a booking whose process died %s', async (_when, method, sendFirst) => {
    const h = await setUp();
    const real = h.connectors[0]!;
    // A process that dies at this step: the call never returns and no cleanup runs.
    const dying: Connector = Object.create(real, {
      [method]: {
        value: async (...args: unknown[]) => {
          if (sendFirst) await (real[method] as (...a: unknown[]) => Promise<unknown>).apply(real, args);
          return new Promise(() => undefined);
        },
      },
    }) as Connector;
    // Abandoned like a dead process: whatever it does once the harness is torn down is of no interest.
    service(dying)
      .book(TINY_FIRM, await request())
      .catch(() => undefined);
    await waitFor(
      async () => (await claims()).length > 0 && (!sendFirst || upstreamAt('2026-11-23T10:30').length > 0),
    );

    const restarted = service();
    h.clock.advanceSeconds(60);
    await restarted.recover();
    expect(await claims()).toEqual([]);
    const upstream = upstreamAt('2026-11-23T10:30');
    const sagas = await db()
      .store.db.selectFrom('booking_sagas')
      .select(['state', 'appointment_id'])
      .execute();
    if (sendFirst) {
      // Written upstream: recovery verifies and commits it, so the store matches the records system.
      expect(upstream).toHaveLength(1);
      expect(sagas.map((s) => s.state)).toEqual(['committed']);
      const stored = await readResource(db().store, TINY_FIRM, 'Appointment', sagas[0]!.appointment_id!);
      expect(stored?.resource.status).toBe('booked');
    } else {
      expect(upstream).toEqual([]);
      expect(sagas.map((s) => s.state)).toEqual(['released']);
    }
  });

  it.each([
    ['a Saturday', { start: new Date('2026-11-21T15:30:00Z') }, 'outside-hours'],
    ['Thanksgiving', { start: new Date('2026-11-26T15:30:00Z') }, 'outside-hours'],
    ['the past', { start: new Date('2026-11-16T15:30:00Z') }, 'in-the-past'],
    ['a type the window does not allow', { start: new Date('2026-11-24T19:00:00Z') }, 'type-not-offered'],
  ] as const)('refuses %s with its code', async (_what, overrides, code) => {
    await setUp();
    expectFailure(await service().book(TINY_FIRM, await request(overrides)), code);
  });

  it('refuses a new-patient visit for a patient the practice has seen before', async () => {
    await setUp();
    const tuesday = new Date('2026-11-24T18:00:00Z'); // 13:00, the new-patient window
    const seen = await request({
      patientId: await fhirId('Patient', 1),
      appointmentTypeCode: 'NP',
      minutes: 45,
      start: tuesday,
    });
    expectFailure(await service().book(TINY_FIRM, seen), 'new-patients-only');
    const unseen = await request({ appointmentTypeCode: 'NP', minutes: 45, start: tuesday });
    expect((await service().book(TINY_FIRM, unseen)).ok).toBe(true);
  });

  it('cancels in the records system, and refuses a stale version', async () => {
    await setUp();
    const s = service();
    const booked = (await s.book(TINY_FIRM, await request())) as BookingSuccess;
    expectFailure(
      await s.cancel(TINY_FIRM, booked.appointment.id!, 'Feeling better', {
        expectedVersion: booked.versionId + 1,
      }),
      'version-conflict',
    );
    const cancelled = await s.cancel(TINY_FIRM, booked.appointment.id!, 'Feeling better', {
      expectedVersion: booked.versionId,
    });
    expect(cancelled.ok).toBe(true);
    expect((cancelled as BookingSuccess).appointment.status).toBe('cancelled');
    expect(upstreamAt('2026-11-23T10:30', true).map((a) => [a.status, a.cancelReason])).toEqual([
      ['cancelled', 'Feeling better'],
    ]);
    expectFailure(await s.cancel(TINY_FIRM, booked.appointment.id!, 'again'), 'invalid-state');
  });

  it('reschedules in one upstream write, so the patient never has zero or two appointments', async () => {
    await setUp();
    const s = service();
    const booked = (await s.book(TINY_FIRM, await request())) as BookingSuccess;
    // Moving by 15 minutes overlaps the appointment's own old time, which must not count as taken.
    const moved = await s.reschedule(TINY_FIRM, booked.appointment.id!, {
      start: new Date('2026-11-23T15:45:00Z'),
    });
    expect(moved.ok).toBe(true);
    const appointment = (moved as BookingSuccess).appointment as Appointment;
    expect([appointment.id, appointment.start]).toEqual([booked.appointment.id, '2026-11-23T10:45:00-05:00']);
    const mine = harness()
      .sim.state(TINY_FIRM)
      .appointments.filter((a) => a.patientId === 2);
    expect(mine.map((a) => [a.start, a.status])).toEqual([['2026-11-23T10:45', 'scheduled']]);
    const events = await readJournal(db().store, TINY_FIRM, { limit: 1000 });
    expect(events.at(-1)?.eventType).toBe('appointment.rescheduled');
  });

  it('books on a DST day at the right wall time', async () => {
    const h = await setUp(new ManualClock('2027-03-10T15:00:00Z'));
    const outcome = await service().book(
      TINY_FIRM,
      await request({ start: new Date('2027-03-15T13:30:00Z') }),
    );
    expect(outcome.ok).toBe(true);
    expect((outcome as BookingSuccess).appointment.start).toBe('2027-03-15T09:30:00-04:00');
    expect(h.sim.state(TINY_FIRM).appointments.filter((a) => a.start === '2027-03-15T09:30')).toHaveLength(1);
  });
});

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('condition not reached');
}
