/**
 * The booking saga with the FHIR connector against the FHIR records-system simulator over real HTTP (issue 12):
 * the happy path, the front desk's conflicting booking, and both field quirks — a create that lands on another
 * Slot is caught by verify and undone; a cancel that leaves the upstream Slot busy still frees the time.
 */
import type { Appointment, Bundle } from '@medplum/fhirtypes';
import { afterEach, describe, expect, it } from 'vitest';
import { BookingService } from '../../src/booking/booking-service.js';
import type { BookingOutcome, BookingRequest, BookingSuccess } from '../../src/booking/booking-types.js';
import { createStoreBookingRules } from '../../src/booking/store-booking-rules.js';
import { createLogger } from '../../src/logger.js';
import { readJournal } from '../../src/store/change-journal.js';
import { readResource } from '../../src/store/resource-store.js';
import { fhirIdsFor } from '../../src/store/upstream-ids.js';
import { expectValidFhir } from '../support/fhir-validators.js';
import { startFhirSyncHarness, type FhirSyncHarness } from '../support/fhir-sync-harness.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';
import { TINY_FIRM, tinyFirm } from '../support/tiny-firm.js';

// Dr. Johnson (1) works Mondays 08–12 at location 1; Dr. Martínez (2) 09–17 at location 2. Clock: Friday 2026-11-20.
const MONDAY_1030 = new Date('2026-11-23T15:30:00Z');

describe.each(testStoreFactories)('booking saga with the FHIR connector ($name)', (factory) => {
  const db = useTestStore(factory);
  let h: FhirSyncHarness | undefined;
  const services: BookingService[] = [];
  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.stop()));
    await h?.close();
    h = undefined;
  });

  async function setUp(data = tinyFirm()): Promise<{ harness: FhirSyncHarness; booking: BookingService }> {
    const harness = await startFhirSyncHarness({
      firms: [{ name: TINY_FIRM, data }],
      store: db().store,
    });
    h = harness;
    await harness.engine.runOnce();
    const booking = new BookingService({
      store: db().store,
      tenants: [{ config: harness.tenants[0]!, connector: harness.connectors[0]! }],
      rules: createStoreBookingRules(db().store),
      logger: createLogger('silent'),
      now: harness.clock.now,
      holdTtlMs: 30_000,
      recoveryIntervalMs: 0,
    });
    services.push(booking);
    return { harness, booking };
  }

  const fhirId = async (type: 'Patient' | 'Practitioner' | 'Location', upstream: string) =>
    (await fhirIdsFor(db().store, TINY_FIRM, type, [upstream])).get(upstream) as string;

  const request = async (over: Partial<BookingRequest> = {}): Promise<BookingRequest> => ({
    patientId: await fhirId('Patient', '2'),
    practitionerId: await fhirId('Practitioner', '1'),
    locationId: await fhirId('Location', '1'),
    appointmentTypeCode: 'FU',
    start: MONDAY_1030,
    minutes: 15,
    ...over,
  });

  /** The simulator's own active appointments starting at `start` (any practitioner). */
  async function upstreamAt(harness: FhirSyncHarness, start: Date): Promise<Appointment[]> {
    const bundle = await harness.frontDesk<Bundle<Appointment>>(
      TINY_FIRM,
      'GET',
      `Appointment?${atMinute(start)}&_count=100`,
    );
    return (bundle.body.entry ?? [])
      .map((e) => e.resource as Appointment)
      .filter((a) => a.status !== 'cancelled');
  }

  /** `date` search for appointments starting within the minute of `start`. */
  const atMinute = (start: Date) =>
    `date=ge${encodeURIComponent(start.toISOString())}&date=lt${encodeURIComponent(new Date(start.getTime() + 60_000).toISOString())}`;

  const ok = (outcome: BookingOutcome) => {
    expect(outcome.ok ? 'booked' : outcome.code).toBe('booked');
    return outcome as BookingSuccess;
  };

  it('books into the records system once, with its marker and Slot, and records appointment.booked', async () => {
    const { harness, booking } = await setUp();
    const { appointment, bookingId } = ok(
      await booking.book(TINY_FIRM, await request({ comment: 'Knee pain' })),
    );
    expectValidFhir(appointment);
    expect(appointment.start).toBe('2026-11-23T10:30:00-05:00');
    expect(appointment.comment).toBe('Knee pain');
    const [upstream, ...more] = await upstreamAt(harness, MONDAY_1030);
    expect(more).toEqual([]);
    expect(upstream?.identifier?.map((i) => i.value)).toEqual([`switchboard:${bookingId}`]);
    expect(upstream?.participant.map((p) => p.actor?.reference)).toEqual([
      'Patient/2',
      'Practitioner/1',
      'Location/1',
    ]);
    expect(upstream?.slot?.map((s) => s.reference)).toEqual(['Slot/1-1-202611231530']);
    // No upstream id in what Switchboard serves.
    expect(JSON.stringify(appointment)).not.toContain('Practitioner/1"');
    const stored = await readResource(db().store, TINY_FIRM, 'Appointment', appointment.id as string);
    expect(stored?.resource.start).toBe(appointment.start);
    const events = await readJournal(db().store, TINY_FIRM, { limit: 1000 });
    expect(events.filter((e) => e.eventType === 'appointment.booked').map((e) => e.resourceId)).toEqual([
      appointment.id,
    ]);
  });

  it('answers slot-taken when the front desk booked the same time through FHIR a moment ago', async () => {
    const { harness, booking } = await setUp();
    const created = await harness.frontDesk(TINY_FIRM, 'POST', 'Appointment', {
      resourceType: 'Appointment',
      status: 'booked',
      start: MONDAY_1030.toISOString(),
      end: new Date(MONDAY_1030.getTime() + 15 * 60_000).toISOString(),
      participant: [
        { actor: { reference: 'Patient/1' }, status: 'accepted' },
        { actor: { reference: 'Practitioner/1' }, status: 'accepted' },
        { actor: { reference: 'Location/1' }, status: 'accepted' },
      ],
    });
    expect(created.status).toBe(201);
    const outcome = await booking.book(TINY_FIRM, await request());
    expect(outcome.ok ? 'booked' : outcome.code).toBe('slot-taken');
    expect(await upstreamAt(harness, MONDAY_1030)).toHaveLength(1);
  });

  it('undoes a create the records system put on another Slot at the same time (verify catches it)', async () => {
    const { harness, booking } = await setUp();
    harness.sim.quirks.set({ createLandsOnOtherSlot: true });
    const outcome = await booking.book(TINY_FIRM, await request());
    expect(outcome.ok ? 'booked' : outcome.code).toBe('ehr-rejected');
    // It landed on Dr. Martínez, and Switchboard cancelled it: nothing stays booked at 10:30.
    expect(await upstreamAt(harness, MONDAY_1030)).toEqual([]);
    const all = await harness.frontDesk<Bundle<Appointment>>(
      TINY_FIRM,
      'GET',
      `Appointment?${atMinute(MONDAY_1030)}`,
    );
    const landed = all.body.entry?.map((e) => e.resource as Appointment) ?? [];
    expect(landed.map((a) => [a.status, a.participant[1]?.actor?.reference])).toEqual([
      ['cancelled', 'Practitioner/2'],
    ]);
  });

  it('frees the time of a front-desk cancel that leaves the upstream Slot busy, and tells subscribers', async () => {
    const { harness, booking } = await setUp();
    harness.sim.quirks.set({ cancelKeepsSlotBusy: true });
    const { appointment } = ok(await booking.book(TINY_FIRM, await request()));
    const [upstream] = await upstreamAt(harness, MONDAY_1030);
    const { meta: _meta, ...rest } = upstream as Appointment;
    const cancelled = await harness.frontDesk(TINY_FIRM, 'PUT', `Appointment/${upstream?.id}`, {
      ...rest,
      status: 'cancelled',
    });
    expect(cancelled.status).toBe(200);
    const slot = await harness.frontDesk<{ status: string }>(TINY_FIRM, 'GET', 'Slot/1-1-202611231530');
    expect(slot.body.status).toBe('busy');

    harness.clock.advanceSeconds(5);
    await harness.engine.runOnce();
    const events = await readJournal(db().store, TINY_FIRM, { limit: 1000 });
    expect(events.filter((e) => e.eventType === 'appointment.cancelled').map((e) => e.resourceId)).toEqual([
      appointment.id,
    ]);
    // The time is free again in Switchboard: another patient books it.
    ok(await booking.book(TINY_FIRM, await request({ patientId: await fhirId('Patient', '1') })));
  });

  it('books a practitioner at one location on a day they do not work at their other one', async () => {
    // Dr. Johnson also sees patients at location 2, on Wednesdays only: on Monday her location-2 schedule has no
    // Slots at all, which must not close her Monday at location 1.
    const data = tinyFirm();
    data.templates.push({ id: 99, providerId: 1, locationId: 2, weekday: 3, start: '09:00', end: '12:00' });
    const { harness, booking } = await setUp(data);
    ok(await booking.book(TINY_FIRM, await request()));
    expect(await upstreamAt(harness, MONDAY_1030)).toHaveLength(1);
  });

  it('confirms a hold recorded without its schedule (by an earlier version) on such a day: the re-check looks the schedule up', async () => {
    const data = tinyFirm();
    data.templates.push({ id: 99, providerId: 1, locationId: 2, weekday: 3, start: '09:00', end: '12:00' });
    const { harness, booking } = await setUp(data);
    const { patientId, ...time } = await request();
    const held = await booking.holdTime(TINY_FIRM, time, { ttlMs: 60_000 });
    if (!held.ok) throw new Error(`hold failed: ${held.code}`);
    const saga = await db()
      .store.db.selectFrom('booking_sagas')
      .select('request')
      .where('id', '=', held.hold.holdId)
      .executeTakeFirstOrThrow();
    const { scheduleId, ...recordedBefore } = JSON.parse(saga.request) as { scheduleId?: string };
    expect(scheduleId).toEqual(expect.any(String));
    await db()
      .store.db.updateTable('booking_sagas')
      .set({ request: JSON.stringify(recordedBefore) })
      .where('id', '=', held.hold.holdId)
      .execute();
    ok(await booking.confirmHold(TINY_FIRM, held.hold.holdId, { patientId }));
    expect(await upstreamAt(harness, MONDAY_1030)).toHaveLength(1);
  });
});
