import type { Appointment } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import type { Connector, UpstreamRecord } from '../../src/connectors/connector.js';
import { readJournal } from '../../src/store/change-journal.js';
import { testStoreFactories } from '../support/test-stores.js';
import { FRONT_DESK_MONDAY_1030, TINY_FIRM } from '../support/tiny-firm.js';
import {
  fhirRequest,
  monday1030,
  useBookingFacade,
  type BookingFacade,
} from '../booking/support/booking-facade.js';

const JSON_PATCH = 'application/json-patch+json';

/** A promise and its resolver. */
function gate(): { opened: Promise<void>; open(): void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/**
 * Puts a connector in place whose appointment creates write to the records system, open `written`, then wait for
 * `goOn` (and run `meanwhile`) before answering the saga.
 */
function pauseAfterCreate(h: BookingFacade, meanwhile?: () => Promise<unknown>) {
  const real = h.sync.connectors[0] as Connector;
  const written = gate();
  const goOn = gate();
  h.useConnector(
    Object.create(real, {
      createAppointment: {
        value: async (...args: Parameters<Connector['createAppointment']>) => {
          const record = await real.createAppointment(...args);
          written.open();
          await goOn.opened;
          await meanwhile?.();
          return record;
        },
      },
    }) as Connector,
  );
  return { written, goOn };
}

const eventsOf = async (h: BookingFacade, id: string) =>
  (await readJournal(h.store, TINY_FIRM, { limit: 10_000 }))
    .filter((e) => e.resourceId === id)
    .map((e) => e.eventType);

describe.each(testStoreFactories)('sync never reverts newer local writes ($name)', (factory) => {
  const facade = useBookingFacade(factory);

  it('keeps a cancel that commits while a pass is between its fetch and its commit: no flip-flop events', async () => {
    const h = facade();
    const booked = await fhirRequest<Appointment>(h, 'POST', 'Appointment', {
      body: await monday1030(h),
    });
    expect(booked.status, JSON.stringify(booked.body)).toBe(201);
    const id = booked.body.id as string;

    // The sync engine's window reads answer (with the appointment still booked), then wait for the cancel.
    const syncConnector = h.sync.connectors[0] as Connector & {
      appointmentPagesInWindow: Connector['appointmentPagesInWindow'];
    };
    const fetch = syncConnector.appointmentPagesInWindow.bind(syncConnector);
    const fetched = gate();
    const cancelled = gate();
    let armed = true;
    syncConnector.appointmentPagesInWindow = async function* (...args) {
      if (!armed) return yield* fetch(...args);
      const pages: Array<readonly UpstreamRecord<Appointment>[]> = [];
      for await (const page of fetch(...args)) pages.push(page);
      fetched.open();
      await cancelled.opened;
      yield* pages;
    };
    const pass = h.syncNow();
    await fetched.opened;
    armed = false;
    const cancel = await fhirRequest<Appointment>(h, 'PATCH', `Appointment/${id}`, {
      body: [{ op: 'replace', path: '/status', value: 'cancelled' }],
      contentType: JSON_PATCH,
      headers: { 'if-match': booked.headers.get('etag') as string },
    });
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
    cancelled.open();
    await pass;

    const read = await fhirRequest<Appointment>(h, 'GET', `Appointment/${id}`);
    expect(read.body.status).toBe('cancelled');
    await h.syncNow();
    expect((await fhirRequest<Appointment>(h, 'GET', `Appointment/${id}`)).body.status).toBe('cancelled');
    const events = await eventsOf(h, id);
    expect(events.filter((e) => e.startsWith('appointment.'))).toEqual([
      'appointment.booked',
      'appointment.cancelled',
    ]);
  });

  it('does not publish an upstream appointment as booked while the saga that wrote it is in flight, nor after it rolls back', async () => {
    const h = facade();
    const { written, goOn } = pauseAfterCreate(h, () =>
      // Meanwhile the front desk booked the same time: the saga must undo its write.
      h.sync.frontDesk(TINY_FIRM, 'POST', '/appointments', FRONT_DESK_MONDAY_1030),
    );
    const answer = fhirRequest(h, 'POST', 'Appointment', { body: await monday1030(h) });
    await written.opened;
    await h.syncNow();
    const journal = async () =>
      (await readJournal(h.store, TINY_FIRM, { limit: 10_000 })).map((e) => e.eventType);
    expect(await journal()).not.toContain('appointment.booked');
    goOn.open();
    const final = await answer;
    expect(final.status, JSON.stringify(final.body)).toBe(409);
    await h.syncNow();
    // The front desk's appointment is booked news; the rolled-back one of patient 2 never is.
    const booked = (await readJournal(h.store, TINY_FIRM, { limit: 10_000 })).filter(
      (e) => e.eventType === 'appointment.booked',
    );
    const patients = await Promise.all(
      booked.map(async (e) => {
        const read = await fhirRequest<Appointment>(h, 'GET', `Appointment/${e.resourceId}`);
        return read.body.participant.find((p) => p.actor?.reference?.startsWith('Patient/'))?.actor
          ?.reference;
      }),
    );
    expect(patients).toEqual([`Patient/${await h.fhirId('Patient', 1)}`]);
  });

  it('publishes an appointment booked while a pass ran once, as booked by its saga', async () => {
    const h = facade();
    const { written, goOn } = pauseAfterCreate(h);
    const answer = fhirRequest<Appointment>(h, 'POST', 'Appointment', { body: await monday1030(h) });
    await written.opened;
    await h.syncNow();
    goOn.open();
    const booked = await answer;
    expect(booked.status).toBe(201);
    await h.syncNow();
    const events = (await readJournal(h.store, TINY_FIRM, { limit: 10_000 })).filter(
      (e) => e.eventType === 'appointment.booked',
    );
    expect(events).toMatchObject([{ resourceId: booked.body.id, payload: { via: 'switchboard' } }]);
  });
});
