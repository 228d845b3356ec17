/**
 * Issue 10 item 2 over HTTP: a reschedule that loses its race at verify is moved back and answered 409; one that
 * cannot be moved back (its original time was taken meanwhile) opens a manual-intervention Task that the facade
 * reads and searches, and is answered 202 `needs-attention` with the Task as `Location` — never a 409 that would
 * say it stayed where it was.
 */
import type { Appointment, Bundle, Task } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connectors/connector.js';
import { testStoreFactories } from '../support/test-stores.js';
import { TINY_FIRM } from '../support/tiny-firm.js';
import {
  detailCode,
  expectFailure,
  fhirRequest,
  useBookingFacade,
  type BookingFacade,
  booked,
} from '../booking/support/booking-facade.js';

/** The front desk books patient 1 at a Monday wall time in the sim's own API. */
const frontDeskBooks = (h: BookingFacade, wall: string) =>
  h.sync.frontDesk(TINY_FIRM, 'POST', '/appointments', {
    patientId: 1,
    providerId: 1,
    locationId: 1,
    appointmentTypeId: 1,
    start: `2026-11-23T${wall}`,
    durationMinutes: 15,
  });

/** A connector whose reschedule meets the front desk: at the new time first, then (optionally) at the old. */
function racingReschedule(h: BookingFacade, alsoTakeOriginal: boolean): Connector {
  const real = h.sync.connectors[0]!;
  let moves = 0;
  return Object.create(real, {
    rescheduleAppointment: {
      value: async (...args: Parameters<Connector['rescheduleAppointment']>) => {
        if (++moves > 1) return real.rescheduleAppointment(...args);
        await frontDeskBooks(h, '10:45');
        const moved = await real.rescheduleAppointment(...args);
        if (alsoTakeOriginal) await frontDeskBooks(h, '10:30');
        return moved;
      },
    },
  }) as Connector;
}

const patient2 = (h: BookingFacade) =>
  h.sync.sim
    .state(TINY_FIRM)
    .appointments.filter((a) => a.patientId === 2)
    .map((a) => [a.start, a.status]);

describe.each(testStoreFactories)('a reschedule that loses its race ($name)', (factory) => {
  const facade = useBookingFacade(factory);

  it('is moved back to its original time upstream and answered 409 slot-taken', async () => {
    const h = facade();
    const { appointment, etag } = await booked(h);
    h.useConnector(racingReschedule(h, false));
    const answer = await fhirRequest(h, 'PUT', `Appointment/${appointment.id}`, {
      body: { ...appointment, start: '2026-11-23T10:45:00-05:00', end: '2026-11-23T11:00:00-05:00' },
      headers: { 'if-match': etag },
    });
    expectFailure(answer, 409, 'slot-taken');
    expect(patient2(h)).toEqual([['2026-11-23T10:30', 'scheduled']]);
    const read = await fhirRequest<Appointment>(h, 'GET', `Appointment/${appointment.id}`);
    expect(read.body.start).toBe('2026-11-23T10:30:00-05:00');
  });

  it('opens a manual-intervention Task, readable and searchable, when its original time was taken meanwhile', async () => {
    const h = facade();
    const { appointment, etag } = await booked(h);
    h.useConnector(racingReschedule(h, true));
    const answer = await fhirRequest(h, 'PUT', `Appointment/${appointment.id}`, {
      body: { ...appointment, start: '2026-11-23T10:45:00-05:00', end: '2026-11-23T11:00:00-05:00' },
      headers: { 'if-match': etag },
    });
    // Not refused: the appointment stays at the new time until staff move it, so a 409 would be untrue. The
    // answer says the practice finishes it, and points at the manual-intervention Task.
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    expect(detailCode(answer)).toBe('needs-attention');
    const location = answer.headers.get('location') ?? '';
    expect(location).toMatch(/\/Task\/[^/]+$/);
    const search = await fhirRequest<Bundle<Task>>(
      h,
      'GET',
      `Task?status=requested&focus=Appointment/${appointment.id}`,
    );
    expect(search.status).toBe(200);
    const tasks = (search.body.entry ?? []).map((e) => e.resource as Task);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({
      status: 'requested',
      intent: 'order',
      focus: { reference: `Appointment/${appointment.id}` },
      for: { reference: `Patient/${await h.fhirId('Patient', 2)}` },
    });
    expect(tasks[0]?.reasonCode?.text).toMatch(/original time/);
    const byPatient = await fhirRequest<Bundle>(
      h,
      'GET',
      `Task?patient=Patient/${await h.fhirId('Patient', 2)}`,
    );
    expect(byPatient.body.entry).toHaveLength(1);
    const read = await fhirRequest<Task>(h, 'GET', `Task/${tasks[0]?.id}`);
    expect(read.status).toBe(200);
    expect(location.endsWith(`/Task/${tasks[0]?.id}`)).toBe(true);
  });
});
