/**
 * Issue 10 item 4: the per-tenant booking queue is bounded. Past its length a booking is answered `busy` (503 with
 * Retry-After at the facade) at once, before anything is held; one that waited past the queue deadline too.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BookingService } from '../../src/booking/booking-service.js';
import type { BookingFailure, BookingRequest } from '../../src/booking/booking-types.js';
import { createStoreBookingRules } from '../../src/booking/store-booking-rules.js';
import type { Connector } from '../../src/connectors/connector.js';
import { createLogger } from '../../src/logger.js';
import { fhirIdsFor } from '../../src/store/upstream-ids.js';
import { ManualClock, startSyncHarness, type SyncHarness } from '../support/sync-harness.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';
import { TINY_FIRM, tinyFirm } from '../support/tiny-firm.js';

describe.each(testStoreFactories)('the bounded booking queue ($name)', (factory) => {
  const db = useTestStore(factory);
  let harness: SyncHarness | undefined;
  let service: BookingService | undefined;
  afterEach(async () => {
    await service?.stop();
    await harness?.close();
    [harness, service] = [undefined, undefined];
  });

  it('answers busy before any hold once the queue is full, and after the queue deadline', async () => {
    const h = (harness = await startSyncHarness({
      firms: [{ name: TINY_FIRM, data: tinyFirm() }],
      store: db().store,
      clock: new ManualClock('2026-11-20T15:00:00Z'),
    }));
    await h.engine.runOnce();
    const real = h.connectors[0]!;
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    // The live re-check waits: the lanes stay busy while the queue fills.
    const slow: Connector = Object.create(real, {
      appointmentsInWindow: {
        value: async (...args: Parameters<Connector['appointmentsInWindow']>) => {
          await gate;
          return real.appointmentsInWindow(...args);
        },
      },
    }) as Connector;
    const s = (service = new BookingService({
      store: db().store,
      tenants: [{ config: h.tenants[0]!, connector: slow }],
      rules: createStoreBookingRules(db().store),
      logger: createLogger('silent'),
      now: h.clock.now,
      holdTtlMs: 30_000,
      recoveryIntervalMs: 0,
      queueLimit: 1,
      queueDeadlineMs: 300,
    }));
    const id = async (type: 'Patient' | 'Practitioner' | 'Location', upstream: number) =>
      (await fhirIdsFor(db().store, TINY_FIRM, type, [String(upstream)])).get(String(upstream)) as string;
    const at = async (minute: string): Promise<BookingRequest> => ({
      patientId: await id('Patient', 2),
      practitionerId: await id('Practitioner', 1),
      locationId: await id('Location', 1),
      appointmentTypeCode: 'FU',
      start: new Date(`2026-11-23T${minute}:00Z`),
      minutes: 15,
    });
    const lanes = Math.max(1, Math.floor(h.tenants[0]!.connector.maxConcurrency / 2));
    const running = await Promise.all(
      Array.from({ length: lanes }, (_, i) => at(['15:30', '15:45', '16:15'][i] as string)),
    ).then((requests) => requests.map((r) => s.book(TINY_FIRM, r)));
    const queued = s.book(TINY_FIRM, await at('16:00'));
    const refused = (await s.book(TINY_FIRM, await at('16:30'))) as BookingFailure;
    expect([refused.ok, refused.code]).toEqual([false, 'busy']);
    expect(refused.retryAfterSeconds).toBeGreaterThan(0);
    const sagas = await db().store.db.selectFrom('booking_sagas').select('start_at').execute();
    expect(sagas.map((r) => r.start_at)).not.toContain('2026-11-23T16:30:00.000Z');

    // The queued one waits past the queue deadline: busy too, nothing held for it.
    await new Promise((resolve) => setTimeout(resolve, 400));
    open();
    const late = (await queued) as BookingFailure;
    expect([late.ok, late.code]).toEqual([false, 'busy']);
    expect((await Promise.all(running)).map((o) => o.ok)).toEqual(Array(lanes).fill(true));
    const after = await db().store.db.selectFrom('booking_sagas').select('start_at').execute();
    expect(after.map((r) => r.start_at)).not.toContain('2026-11-23T16:00:00.000Z');
  });

  it('gives up a booking whose caller has gone before the write: released, nothing upstream', async () => {
    const h = (harness = await startSyncHarness({
      firms: [{ name: TINY_FIRM, data: tinyFirm() }],
      store: db().store,
      clock: new ManualClock('2026-11-20T15:00:00Z'),
    }));
    await h.engine.runOnce();
    const real = h.connectors[0]!;
    const gone = new AbortController();
    // The caller disconnects while the live re-check runs.
    const leaving: Connector = Object.create(real, {
      appointmentsInWindow: {
        value: async (...args: Parameters<Connector['appointmentsInWindow']>) => {
          gone.abort();
          return real.appointmentsInWindow(...args);
        },
      },
    }) as Connector;
    const s = (service = new BookingService({
      store: db().store,
      tenants: [{ config: h.tenants[0]!, connector: leaving }],
      rules: createStoreBookingRules(db().store),
      logger: createLogger('silent'),
      now: h.clock.now,
      holdTtlMs: 30_000,
      recoveryIntervalMs: 0,
    }));
    const id = async (type: 'Patient' | 'Practitioner' | 'Location', upstream: number) =>
      (await fhirIdsFor(db().store, TINY_FIRM, type, [String(upstream)])).get(String(upstream)) as string;
    const before = h.sim.state(TINY_FIRM).appointments.length;
    const outcome = await s.book(
      TINY_FIRM,
      {
        patientId: await id('Patient', 2),
        practitionerId: await id('Practitioner', 1),
        locationId: await id('Location', 1),
        appointmentTypeCode: 'FU',
        start: new Date('2026-11-23T15:30:00Z'),
        minutes: 15,
      },
      undefined,
      gone.signal,
    );
    expect(outcome.ok).toBe(false);
    expect(h.sim.state(TINY_FIRM).appointments).toHaveLength(before);
    const sagas = await db().store.db.selectFrom('booking_sagas').select('state').execute();
    expect(sagas.map((r) => r.state)).toEqual(['released']);
    expect(await db().store.db.selectFrom('booking_claims').selectAll().execute()).toEqual([]);
  });
});
