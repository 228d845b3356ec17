import { describe, expect, it } from 'vitest';
import type { BookingSuccess, HoldRequest, HoldSuccess } from '../../src/booking/booking-types.js';
import type { Connector } from '../../src/connectors/connector.js';
import { readJournal } from '../../src/store/change-journal.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';
import { TINY_FIRM } from '../support/tiny-firm.js';
import { MONDAY_1030, useSagaHarness } from './support/saga-harness.js';

// Dr. Johnson (provider 1) works Mondays 08–12 at location 1; the clock is Friday 2026-11-20 10:00 in New York.
const HOLD_MS = 300_000;

describe.each(testStoreFactories)('holds: time claimed now, booked later ($name)', (factory) => {
  const db = useTestStore(factory);
  const { setUp, service, fhirId, harness } = useSagaHarness(db);

  async function holdRequest(): Promise<HoldRequest> {
    return {
      practitionerId: await fhirId('Practitioner', 1),
      locationId: await fhirId('Location', 1),
      appointmentTypeCode: 'FU',
      start: MONDAY_1030,
      minutes: 15,
    };
  }

  const claims = () => db().store.db.selectFrom('booking_claims').selectAll().execute();
  const upstream = () =>
    harness()
      .sim.state(TINY_FIRM)
      .appointments.filter((a) => a.start === '2026-11-23T10:30');

  it('claims the time without writing upstream, refuses a second hold or booking of it, and books it on confirm', async () => {
    await setUp();
    const s = service();
    const held = (await s.holdTime(TINY_FIRM, await holdRequest(), { ttlMs: HOLD_MS })) as HoldSuccess;
    expect(held.ok).toBe(true);
    expect(held.hold).toMatchObject({
      state: 'held',
      minutes: 15,
      expiresAt: new Date(Date.parse('2026-11-20T15:05:00Z')),
    });
    expect((await claims()).length).toBe(3);
    expect(upstream()).toEqual([]);
    const second = await s.holdTime(TINY_FIRM, await holdRequest(), { ttlMs: HOLD_MS });
    expect(second.ok ? 'held' : second.code).toBe('slot-taken');
    const booking = await s.book(TINY_FIRM, {
      ...(await holdRequest()),
      patientId: await fhirId('Patient', 2),
    });
    expect(booking.ok ? 'booked' : booking.code).toBe('slot-taken');

    const confirmed = await s.confirmHold(TINY_FIRM, held.hold.holdId, {
      patientId: await fhirId('Patient', 2),
    });
    expect(confirmed.ok).toBe(true);
    expect(upstream()).toMatchObject([{ patientId: 2, externalRef: `switchboard:${held.hold.holdId}` }]);
    expect(await claims()).toEqual([]);
    expect((await s.readHold(TINY_FIRM, held.hold.holdId))?.state).toBe('confirmed');
    const events = await readJournal(db().store, TINY_FIRM, { limit: 1000 });
    expect(events.filter((e) => e.eventType === 'appointment.booked')).toHaveLength(1);

    // Confirming again answers the same appointment and writes nothing.
    const again = (await s.confirmHold(TINY_FIRM, held.hold.holdId, {})) as BookingSuccess;
    expect([again.ok, again.created, again.appointment.id]).toEqual([
      true,
      false,
      (confirmed as BookingSuccess).appointment.id,
    ]);
    expect(upstream()).toHaveLength(1);
  });

  it('keeps a hold through recovery until it expires, then releases it; a hold past expiry not yet released still books', async () => {
    const h = await setUp();
    const s = service();
    const first = (await s.holdTime(TINY_FIRM, await holdRequest(), { ttlMs: HOLD_MS })) as HoldSuccess;
    h.clock.advanceSeconds(299);
    await s.recover();
    expect((await s.readHold(TINY_FIRM, first.hold.holdId))?.state).toBe('held');
    h.clock.advanceSeconds(2);
    await s.recover();
    expect((await s.readHold(TINY_FIRM, first.hold.holdId))?.state).toBe('released');
    expect(await claims()).toEqual([]);

    const second = (await s.holdTime(TINY_FIRM, await holdRequest(), { ttlMs: HOLD_MS })) as HoldSuccess;
    h.clock.advanceSeconds(400);
    const confirmed = await s.confirmHold(TINY_FIRM, second.hold.holdId, {
      patientId: await fhirId('Patient', 2),
    });
    expect(confirmed.ok).toBe(true);
    await s.recover();
    expect(upstream()).toHaveLength(1);
    expect(upstream()[0]?.status).toBe('scheduled');
  });

  it('finishes a confirmed hold whose process died after the write reached the records system', async () => {
    const h = await setUp();
    const real = h.connectors[0]!;
    const dying: Connector = Object.create(real, {
      createAppointment: {
        value: async (...args: Parameters<Connector['createAppointment']>) => {
          await real.createAppointment(...args);
          return new Promise(() => undefined);
        },
      },
    }) as Connector;
    const s = service(dying);
    const held = (await s.holdTime(TINY_FIRM, await holdRequest(), { ttlMs: HOLD_MS })) as HoldSuccess;
    void s.confirmHold(TINY_FIRM, held.hold.holdId, { patientId: await fhirId('Patient', 2) });
    for (let i = 0; i < 200 && upstream().length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(upstream()).toHaveLength(1);

    const restarted = service();
    h.clock.advanceSeconds(60);
    await restarted.recover();
    expect(await claims()).toEqual([]);
    expect((await restarted.readHold(TINY_FIRM, held.hold.holdId))?.state).toBe('confirmed');
    expect(upstream()).toHaveLength(1);
  });

  it('releases a hold on request, and says not-found for what is no hold', async () => {
    await setUp();
    const s = service();
    const held = (await s.holdTime(TINY_FIRM, await holdRequest(), { ttlMs: HOLD_MS })) as HoldSuccess;
    const released = await s.releaseHold(TINY_FIRM, held.hold.holdId);
    expect(released.ok && released.hold.state).toBe('released');
    expect(await claims()).toEqual([]);
    const again = await s.releaseHold(TINY_FIRM, held.hold.holdId);
    expect(again.ok ? 'released' : again.code).toBe('invalid-state');
    const none = await s.confirmHold(TINY_FIRM, 'no-such-hold', {});
    expect(none.ok ? 'booked' : none.code).toBe('not-found');
  });
});
