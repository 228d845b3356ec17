import type { Appointment, Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { HOLD_EXPIRES_EXTENSION } from '../../fhir/booking/held-appointment.js';
import { readJournal } from '../../src/store/change-journal.js';
import { testStoreFactories } from '../support/test-stores.js';
import { TINY_FIRM } from '../support/tiny-firm.js';
import {
  expectFailure,
  failureOutcome,
  fhirRequest,
  findMonday,
  parameters,
  useBookingFacade,
  type BookingFacade,
} from '../booking/support/booking-facade.js';

const MONDAY_1030 = '2026-11-23T10:30:00-05:00';

const proposals = (bundle: Bundle) => (bundle.entry ?? []).map((e) => e.resource as Appointment);
const claims = (h: BookingFacade) => h.store.db.selectFrom('booking_claims').selectAll().execute();

describe.each(testStoreFactories)('IHE scheduling operations find, hold and book ($name)', (factory) => {
  const facade = useBookingFacade(factory, { holdSeconds: 300 });

  it('$find proposes free times as proposed Appointments, earliest first, with total and _count', async () => {
    const h = facade();
    const patientId = await h.fhirId('Patient', 2);
    const bundle = await findMonday(h, [
      { name: 'patient-reference', valueReference: { reference: `Patient/${patientId}` } },
      { name: '_count', valueInteger: 3 },
    ]);
    expect(bundle.type).toBe('searchset');
    const found = proposals(bundle);
    expect(found).toHaveLength(3);
    // 10:00–12:00 in 15-minute steps is 8 follow-up times.
    expect(bundle.total).toBe(8);
    expect(found.map((a) => a.start)).toEqual([
      '2026-11-23T10:00:00-05:00',
      '2026-11-23T10:15:00-05:00',
      '2026-11-23T10:30:00-05:00',
    ]);
    expect(found[0]).toMatchObject({
      status: 'proposed',
      minutesDuration: 15,
      appointmentType: { coding: [{ code: 'FU' }] },
    });
    expect(found[0]?.participant.map((p) => [p.actor?.reference, p.status])).toEqual([
      [`Patient/${patientId}`, 'needs-action'],
      [`Practitioner/${await h.fhirId('Practitioner', 1)}`, 'needs-action'],
      [`Location/${await h.fhirId('Location', 1)}`, 'needs-action'],
    ]);
    expect(bundle.entry?.every((e) => e.search?.mode === 'match')).toBe(true);

    // The GET form answers the same.
    const get = await fhirRequest<Bundle>(
      h,
      'GET',
      `Appointment/$find?start=2026-11-23T10:00:00-05:00&end=2026-11-23T12:00:00-05:00&practitioner=${await h.fhirId('Practitioner', 1)}&visit-type=FU&_count=3&patient=${patientId}`,
    );
    expect(get.status).toBe(200);
    expect(proposals(get.body).map((a) => a.id)).toEqual(found.map((a) => a.id));

    expectFailure(await fhirRequest(h, 'GET', 'Appointment/$find?end=2026-11-24'), 400);
  });

  it('$find filters by specialty and location, and a date as end includes that day', async () => {
    const h = facade();
    const internal = await fhirRequest<Bundle>(
      h,
      'GET',
      'Appointment/$find?start=2026-11-23&end=2026-11-23&specialty=internal%20medicine&visit-type=FU&_count=100',
    );
    expect(internal.status).toBe(200);
    const martinez = `Practitioner/${await h.fhirId('Practitioner', 2)}`;
    expect(proposals(internal.body).length).toBeGreaterThan(0);
    expect(
      proposals(internal.body).every((a) => a.participant.some((p) => p.actor?.reference === martinez)),
    ).toBe(true);
    const atMain = await fhirRequest<Bundle>(
      h,
      'GET',
      `Appointment/$find?start=2026-11-23&end=2026-11-23&location=Location/${await h.fhirId('Location', 1)}`,
    );
    expect(
      proposals(atMain.body).every((a) => a.participant.some((p) => p.actor?.reference === martinez)),
    ).toBe(false);
  });

  it('$hold holds a proposal (pending, Expires), hides it from $find, and $book books it once upstream', async () => {
    const h = facade();
    const [proposal] = proposals(await findMonday(h));
    expect(proposal?.start).toBe('2026-11-23T10:00:00-05:00');
    const hold = await fhirRequest<Bundle>(h, 'POST', 'Appointment/$hold', {
      body: parameters({
        name: 'appointment-reference',
        valueReference: { reference: `Appointment/${proposal?.id}` },
      }),
    });
    expect(hold.status, JSON.stringify(hold.body)).toBe(200);
    const held = hold.body.entry?.[0]?.resource as Appointment;
    expect(hold.body.total).toBe(1);
    expect(held).toMatchObject({ status: 'pending', start: proposal?.start, end: proposal?.end });
    expect(held.participant.every((p) => p.status === 'tentative')).toBe(true);
    const expires = held.extension?.find((e) => e.url === HOLD_EXPIRES_EXTENSION)?.valueInstant;
    expect(expires).toBe(new Date(h.sync.clock.now().getTime() + 300_000).toISOString());
    expect(hold.headers.get('expires')).toBe(new Date(expires as string).toUTCString());
    // The hold is readable and searchable as the pending Appointment $hold returned.
    const read = await fhirRequest<Appointment>(h, 'GET', `Appointment/${held.id}`);
    expect([read.status, read.body.status, read.body.start]).toEqual([200, 'pending', proposal?.start]);
    const pending = await fhirRequest<Bundle>(h, 'GET', 'Appointment?status=pending');
    expect(pending.body.entry?.map((e) => e.resource?.id)).toEqual([held.id]);
    // Nothing upstream yet; the time is no longer proposed (ITI-115: held appointments are not returned).
    expect(h.upstreamAt('2026-11-23T10:00')).toEqual([]);
    expect(proposals(await findMonday(h)).map((a) => a.id)).not.toContain(proposal?.id);
    // Nor can anybody else book it meanwhile.
    expectFailure(
      await fhirRequest(h, 'POST', 'Appointment/$hold', {
        body: parameters({
          name: 'appointment-reference',
          valueReference: { reference: `Appointment/${proposal?.id}` },
        }),
      }),
      409,
      'slot-taken',
    );

    const patientId = await h.fhirId('Patient', 2);
    const book = await fhirRequest<Bundle>(h, 'POST', 'Appointment/$book', {
      body: parameters(
        { name: 'appointment-reference', valueReference: { reference: `Appointment/${held.id}` } },
        { name: 'patient-id', valueUri: `Patient/${patientId}` },
        { name: 'comment', valueString: 'Follow-up on the knee' },
      ),
    });
    expect(book.status, JSON.stringify(book.body)).toBe(200);
    const booked = book.body.entry?.[0]?.resource as Appointment;
    expect(booked).toMatchObject({
      // The held Appointment, now booked: one resource from hold to booking.
      id: held.id,
      status: 'booked',
      start: '2026-11-23T10:00:00-05:00',
      comment: 'Follow-up on the knee',
    });
    expect(h.upstreamAt('2026-11-23T10:00')).toMatchObject([
      { patientId: 2, providerId: 1, locationId: 1, appointmentTypeId: 1, durationMinutes: 15 },
    ]);
    expect(await claims(h)).toEqual([]);
    // Booking the hold again answers the same appointment, without a second write.
    const again = await fhirRequest<Bundle>(h, 'POST', 'Appointment/$book', {
      body: parameters({
        name: 'appointment-reference',
        valueReference: { reference: `Appointment/${held.id}` },
      }),
    });
    expect(again.body.entry?.[0]?.resource?.id).toBe(booked.id);
    expect(h.upstreamAt('2026-11-23T10:00', { includeCancelled: true })).toHaveLength(1);
  });

  it('releases an expired hold through the saga’s recovery, offering the time again', async () => {
    const h = facade();
    const [proposal] = proposals(await findMonday(h));
    const hold = await fhirRequest<Bundle>(h, 'POST', 'Appointment/$hold', {
      body: parameters({
        name: 'appointment-reference',
        valueReference: { reference: `Appointment/${proposal?.id}` },
      }),
    });
    const holdId = hold.body.entry?.[0]?.resource?.id as string;
    // Within the hold, recovery leaves it alone even though its saga step is older than the step TTL.
    h.sync.clock.advanceSeconds(60);
    await h.booking.recover();
    expect(await claims(h)).not.toEqual([]);
    h.sync.clock.advanceSeconds(300);
    await h.booking.recover();
    expect(await claims(h)).toEqual([]);
    expect((await h.booking.readHold(TINY_FIRM, holdId))?.state).toBe('released');
    const events = await readJournal(h.store, TINY_FIRM, { limit: 1000 });
    expect(events.map((e) => e.eventType)).toContain('booking.hold-expired');
    expect(proposals(await findMonday(h)).map((a) => a.start)).toContain('2026-11-23T10:00:00-05:00');

    // Booking a lapsed hold still books the time if it is free.
    const book = await fhirRequest<Bundle>(h, 'POST', 'Appointment/$book', {
      body: parameters(
        { name: 'appointment-reference', valueReference: { reference: `Appointment/${holdId}` } },
        { name: 'patient-id', valueString: await h.fhirId('Patient', 2) },
      ),
    });
    expect(book.status, JSON.stringify(book.body)).toBe(200);
    expect(h.upstreamAt('2026-11-23T10:00')).toHaveLength(1);
  });

  it('releases a hold cancelled by PATCH at once', async () => {
    const h = facade();
    const [proposal] = proposals(await findMonday(h));
    const hold = await fhirRequest<Bundle>(h, 'POST', 'Appointment/$hold', {
      body: parameters({
        name: 'appointment-reference',
        valueReference: { reference: `Appointment/${proposal?.id}` },
      }),
    });
    const holdId = hold.body.entry?.[0]?.resource?.id as string;
    const cancel = await fhirRequest<Appointment>(h, 'PATCH', `Appointment/${holdId}`, {
      body: [{ op: 'replace', path: '/status', value: 'cancelled' }],
      contentType: 'application/json-patch+json',
    });
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
    expect(cancel.body).toMatchObject({ id: holdId, status: 'cancelled' });
    expect(await claims(h)).toEqual([]);
    expect(h.upstreamAt('2026-11-23T10:00', { includeCancelled: true })).toEqual([]);
  });

  it('$hold of an appointment resource names the patient early; $book of the held resource books it', async () => {
    const h = facade();
    const patientId = await h.fhirId('Patient', 2);
    const hold = await fhirRequest<Bundle>(h, 'POST', 'Appointment/$hold', {
      body: parameters({
        name: 'appointment-resource',
        resource: {
          resourceType: 'Appointment',
          status: 'proposed',
          appointmentType: { coding: [{ code: 'FU' }] },
          start: MONDAY_1030,
          end: '2026-11-23T10:45:00-05:00',
          participant: [
            { actor: { reference: `Patient/${patientId}` }, status: 'needs-action' },
            {
              actor: { reference: `Practitioner/${await h.fhirId('Practitioner', 1)}` },
              status: 'needs-action',
            },
          ],
        },
      }),
    });
    expect(hold.status, JSON.stringify(hold.body)).toBe(200);
    const held = hold.body.entry?.[0]?.resource as Appointment;
    expect(held.participant[0]?.actor?.reference).toBe(`Patient/${patientId}`);
    expect(held.end).toBe('2026-11-23T10:45:00-05:00');
    const book = await fhirRequest<Bundle>(h, 'POST', 'Appointment/$book', {
      body: parameters({ name: 'appointment-resource', resource: held }),
    });
    expect(book.status, JSON.stringify(book.body)).toBe(200);
    expect(h.upstreamAt('2026-11-23T10:30')).toMatchObject([{ patientId: 2 }]);
  });

  it('$book books a proposal directly, registering a new patient given as patient-resource', async () => {
    const h = facade();
    const [proposal] = proposals(await findMonday(h));
    const book = await fhirRequest<Bundle>(h, 'POST', 'Appointment/$book', {
      body: parameters(
        { name: 'appointment-reference', valueReference: { reference: `Appointment/${proposal?.id}` } },
        {
          name: 'patient-resource',
          resource: {
            resourceType: 'Patient',
            name: [{ family: 'Nguyen', given: ['Linh'] }],
            birthDate: '1994-02-11',
            gender: 'female',
            telecom: [{ system: 'phone', value: '518-555-0199' }],
          },
        },
      ),
    });
    expect(book.status, JSON.stringify(book.body)).toBe(200);
    const [upstream] = h.upstreamAt('2026-11-23T10:00');
    const patient = h.sync.sim.state(TINY_FIRM).patients.find((p) => p.id === upstream?.patientId);
    expect(patient).toMatchObject({ firstName: 'Linh', lastName: 'Nguyen', dob: '1994-02-11' });
  });

  it('refuses to hold what $find never proposed (422 not-found, fatal) and a proposal since taken (409 with alternatives)', async () => {
    const h = facade();
    const unknown = await fhirRequest<OperationOutcome>(h, 'POST', 'Appointment/$hold', {
      body: parameters({
        name: 'appointment-reference',
        valueReference: { reference: 'Appointment/nothing-like-it' },
      }),
    });
    expectFailure(unknown, 422);
    expect(failureOutcome(unknown).issue[0]).toMatchObject({ severity: 'fatal', code: 'not-found' });

    const [proposal] = proposals(await findMonday(h));
    await h.sync.frontDesk(TINY_FIRM, 'POST', '/appointments', {
      patientId: 1,
      providerId: 1,
      locationId: 1,
      appointmentTypeId: 1,
      start: '2026-11-23T10:00',
      durationMinutes: 15,
    });
    await h.syncNow();
    const taken = await fhirRequest<OperationOutcome>(h, 'POST', 'Appointment/$hold', {
      body: parameters({
        name: 'appointment-reference',
        valueReference: { reference: `Appointment/${proposal?.id}` },
      }),
    });
    expectFailure(taken, 409, 'slot-taken');
    expect(failureOutcome(taken).contained?.length).toBeGreaterThan(0);
  });
});
