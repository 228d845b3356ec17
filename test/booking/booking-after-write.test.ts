/**
 * Issue 10 item 2: no saga is abandoned after its write was sent. A failure after the write (a failed verify read,
 * a failed commit, a failed compensating cancel) leaves the saga to reconciliation, never released with an
 * appointment still written upstream; a reschedule that loses its race at verify is moved back; what cannot be
 * undone becomes a manual-intervention Task and a `booking.needs-attention` event.
 */
import { describe, expect, it } from 'vitest';
import type { BookingFailure, BookingSuccess } from '../../src/booking/booking-types.js';
import type { Connector } from '../../src/connectors/connector.js';
import { UpstreamError } from '../../src/connectors/upstream-error.js';
import type { Store } from '../../src/store/database.js';
import { readJournal } from '../../src/store/change-journal.js';
import { readResource } from '../../src/store/resource-store.js';
import type { SyncHarness } from '../support/sync-harness.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';
import { TINY_FIRM } from '../support/tiny-firm.js';
import { useSagaHarness } from './support/saga-harness.js';

// Dr. Johnson (provider 1) works Mondays 08–12 at location 1; the clock: Friday 2026-11-20.
const MONDAY_1045 = new Date('2026-11-23T15:45:00Z');

const down = () => new UpstreamError('unavailable', 'records system down', { status: 503 });

describe.each(testStoreFactories)('no saga abandoned after its write ($name)', (factory) => {
  const db = useTestStore(factory);
  const { setUp, service, request, harness } = useSagaHarness(db);

  const marked = (bookingId: string) =>
    harness()
      .sim.state(TINY_FIRM)
      .appointments.filter((a) => a.externalRef === `switchboard:${bookingId}`);
  const sagaState = async (id: string) =>
    (await db().store.db.selectFrom('booking_sagas').select('state').where('id', '=', id).executeTakeFirst())
      ?.state;
  const claims = () => db().store.db.selectFrom('booking_claims').selectAll().execute();
  const eventTypes = async () =>
    (await readJournal(db().store, TINY_FIRM, { limit: 1000 })).map((e) => e.eventType);

  /** A front-desk booking in the sim for patient 1 at a wall time on Monday. */
  const frontDeskBooks = (h: SyncHarness, wall: string) =>
    h.frontDesk(TINY_FIRM, 'POST', '/appointments', {
      patientId: 1,
      providerId: 1,
      locationId: 1,
      appointmentTypeId: 1,
      start: `2026-11-23T${wall}`,
      durationMinutes: 15,
    });

  /** After the hold TTL, one recovery pass of a fresh service with the real connector. */
  async function recoverLater(seconds = 60): Promise<void> {
    harness().clock.advanceSeconds(seconds);
    await service().recover();
  }

  it('keeps a booking whose verify read failed after the write, and recovery commits it', async () => {
    const h = await setUp();
    const real = h.connectors[0]!;
    let reads = 0;
    // The live re-check reads once before the write; the verify read after it fails.
    const failingVerify: Connector = Object.create(real, {
      appointmentsInWindow: {
        value: (...args: Parameters<Connector['appointmentsInWindow']>) =>
          ++reads > 1 ? Promise.reject(down()) : real.appointmentsInWindow(...args),
      },
    }) as Connector;
    const outcome = await service(failingVerify).book(TINY_FIRM, await request());
    expect(outcome.ok).toBe(false);
    const failure = outcome as BookingFailure;
    expect(marked(failure.bookingId!).map((a) => a.status)).toEqual(['scheduled']);
    expect(await sagaState(failure.bookingId!)).not.toBe('released');

    await recoverLater();
    expect(await sagaState(failure.bookingId!)).toBe('committed');
    expect(marked(failure.bookingId!).map((a) => a.status)).toEqual(['scheduled']);
    expect(await claims()).toEqual([]);
  });

  it('keeps a booking whose commit transaction failed after the write, and recovery commits it', async () => {
    await setUp();
    let failNextWrite = false;
    const real = db().store;
    // The store fails the one transaction after the verify checkpoint: the commit.
    const failingCommit = Object.create(real, {
      write: {
        value: (...args: Parameters<Store['write']>) => {
          if (failNextWrite) {
            failNextWrite = false;
            return Promise.reject(new Error('database connection lost'));
          }
          return real.write(...args);
        },
      },
    }) as Store;
    const s = service(undefined, {
      store: failingCommit,
      checkpoint: (step) => {
        if (step === 'verified') failNextWrite = true;
      },
    });
    const outcome = await s.book(TINY_FIRM, await request());
    expect(outcome.ok).toBe(false);
    const { bookingId } = outcome as BookingFailure;
    expect(marked(bookingId!).map((a) => a.status)).toEqual(['scheduled']);
    expect(await sagaState(bookingId!)).not.toBe('released');

    await recoverLater();
    expect(await sagaState(bookingId!)).toBe('committed');
    expect(marked(bookingId!).map((a) => a.status)).toEqual(['scheduled']);
  });

  it('retries a compensating cancel that failed, in recovery, instead of abandoning the appointment', async () => {
    const h = await setUp();
    const real = h.connectors[0]!;
    let cancelFails = true;
    const racing: Connector = Object.create(real, {
      createAppointment: {
        value: async (...args: Parameters<Connector['createAppointment']>) => {
          await frontDeskBooks(h, '10:30');
          return real.createAppointment(...args);
        },
      },
      cancelAppointment: {
        value: (...args: Parameters<Connector['cancelAppointment']>) =>
          cancelFails ? Promise.reject(down()) : real.cancelAppointment(...args),
      },
    }) as Connector;
    const outcome = await service(racing).book(TINY_FIRM, await request());
    expect(outcome.ok).toBe(false);
    const failure = outcome as BookingFailure;
    expect(failure.code).not.toBe('slot-taken');
    expect(await sagaState(failure.bookingId!)).toBe('compensating');

    // Still refused on the first pass: the saga stays in reconciliation.
    h.clock.advanceSeconds(60);
    await service(racing).recover();
    expect(await sagaState(failure.bookingId!)).toBe('compensating');

    // The next attempt waits twice as long.
    cancelFails = false;
    await recoverLater(45);
    expect(await sagaState(failure.bookingId!)).toBe('compensating');
    await recoverLater(30);
    expect(marked(failure.bookingId!).map((a) => a.status)).toEqual(['cancelled']);
    expect(await sagaState(failure.bookingId!)).toBe('released');
    expect(await claims()).toEqual([]);
  });

  it('moves a reschedule that lost its race at verify back to its original time', async () => {
    const h = await setUp();
    const real = h.connectors[0]!;
    const booked = (await service().book(TINY_FIRM, await request())) as BookingSuccess;
    const racing: Connector = Object.create(real, {
      rescheduleAppointment: {
        value: async (...args: Parameters<Connector['rescheduleAppointment']>) => {
          await frontDeskBooks(h, '10:45');
          return real.rescheduleAppointment(...args);
        },
      },
    }) as Connector;
    const outcome = await service(racing).reschedule(TINY_FIRM, booked.appointment.id!, {
      start: MONDAY_1045,
    });
    expect(outcome.ok ? 'moved' : outcome.code).toBe('slot-taken');
    const ours = marked(booked.bookingId);
    expect(ours.map((a) => [a.start, a.status])).toEqual([['2026-11-23T10:30', 'scheduled']]);
    const stored = await readResource(db().store, TINY_FIRM, 'Appointment', booked.appointment.id!);
    expect(stored?.resource.start).toBe('2026-11-23T10:30:00-05:00');
    expect(await claims()).toEqual([]);
  });

  it('opens a manual-intervention Task when the original time was taken meanwhile', async () => {
    const h = await setUp();
    const real = h.connectors[0]!;
    const booked = (await service().book(TINY_FIRM, await request())) as BookingSuccess;
    let moves = 0;
    const racing: Connector = Object.create(real, {
      rescheduleAppointment: {
        value: async (...args: Parameters<Connector['rescheduleAppointment']>) => {
          if (++moves === 1) {
            // The new time is taken as we move there; the old one is booked by the front desk once we left it.
            await frontDeskBooks(h, '10:45');
            const moved = await real.rescheduleAppointment(...args);
            await frontDeskBooks(h, '10:30');
            return moved;
          }
          return real.rescheduleAppointment(...args);
        },
      },
    }) as Connector;
    const outcome = await service(racing).reschedule(TINY_FIRM, booked.appointment.id!, {
      start: MONDAY_1045,
    });
    expect(outcome.ok ? 'moved' : outcome.code).toBe('needs-attention');
    const failure = outcome as BookingFailure;
    const saga = await db()
      .store.db.selectFrom('booking_sagas')
      .select('state')
      .where('id', '=', failure.bookingId!)
      .executeTakeFirstOrThrow();
    expect(saga.state).toBe('needs-attention');
    expect(await eventTypes()).toContain('booking.needs-attention');
    const tasks = await db()
      .store.db.selectFrom('resources')
      .select(['resource_type', 'id'])
      .where('resource_type', '=', 'Task')
      .execute();
    expect(tasks).toHaveLength(1);
    const task = await readResource(db().store, TINY_FIRM, 'Task', tasks[0]!.id);
    expect(task?.resource).toMatchObject({
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      focus: { reference: `Appointment/${booked.appointment.id}` },
      for: { reference: `Patient/${(await request()).patientId}` },
    });
  });
});
