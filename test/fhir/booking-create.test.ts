import type { Appointment, Bundle, OperationOutcome, Patient, Slot } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { ALTERNATIVE_SLOT_EXTENSION, RULE_EXPRESSIONS } from '../../fhir/booking/booking-outcome.js';
import type { Connector } from '../../src/connectors/connector.js';
import { readJournal } from '../../src/store/change-journal.js';
import { testStoreFactories } from '../support/test-stores.js';
import { FRONT_DESK_MONDAY_1030, TINY_FIRM } from '../support/tiny-firm.js';
import {
  detailCode,
  expectFailure,
  fhirRequest,
  useBookingFacade,
  type BookingFacade,
} from '../booking/support/booking-facade.js';

// The tiny practice (test/support/tiny-firm.ts): Dr. Johnson (provider 1) works Mondays 08–12 at location 1 (any
// type) and Tuesdays 13–17 (new-patient visits only); patient 1 has history, patient 2 has never been seen.
// The clock: Friday 2026-11-20, 10:00 in New York.
const MONDAY_1030 = '2026-11-23T10:30:00-05:00';

async function newAppointment(h: BookingFacade, overrides: Partial<Appointment> = {}): Promise<Appointment> {
  return {
    resourceType: 'Appointment',
    status: 'booked',
    appointmentType: { coding: [{ code: 'FU' }] },
    start: MONDAY_1030,
    end: '2026-11-23T10:45:00-05:00',
    participant: [
      { actor: { reference: `Patient/${await h.fhirId('Patient', 2)}` }, status: 'accepted' },
      { actor: { reference: `Practitioner/${await h.fhirId('Practitioner', 1)}` }, status: 'accepted' },
    ],
    ...overrides,
  };
}

const claims = (h: BookingFacade) => h.store.db.selectFrom('booking_claims').selectAll().execute();

describe.each(testStoreFactories)('POST Appointment books through the saga ($name)', (factory) => {
  const facade = useBookingFacade(factory);

  it('finds the patient, finds a slot, books it once upstream at the right local time, and reads back the same', async () => {
    const h = facade();
    // The agent: the caller says "John Smith, born 1985-06-30".
    const patients = await fhirRequest<Bundle>(h, 'GET', 'Patient?name=john%20smith&birthdate=1985-06-30');
    expect(patients.status).toBe(200);
    const patient = patients.body.entry?.[0]?.resource as Patient;
    expect(patients.body.entry).toHaveLength(1);
    const practitionerId = await h.fhirId('Practitioner', 1);
    const schedules = await fhirRequest<Bundle>(h, 'GET', `Schedule?actor=Practitioner/${practitionerId}`);
    const scheduleIds = (schedules.body.entry ?? []).map((e) => e.resource?.id).join(',');
    const slots = await fhirRequest<Bundle>(
      h,
      'GET',
      `Slot?schedule=${scheduleIds}&status=free&start=ge2026-11-23T10:30:00-05:00&start=lt2026-11-23T11:00:00-05:00&service-type=FU`,
    );
    expect(slots.status).toBe(200);
    const slot = slots.body.entry
      ?.map((e) => e.resource as Slot)
      .find((s) => s.start === MONDAY_1030 && s.end === '2026-11-23T10:45:00-05:00');
    expect(slot, JSON.stringify(slots.body)).toBeDefined();

    const created = await fhirRequest<Appointment>(h, 'POST', 'Appointment', {
      body: {
        resourceType: 'Appointment',
        status: 'booked',
        serviceType: [{ coding: [{ code: 'FU' }] }],
        slot: [{ reference: `Slot/${slot?.id}` }],
        comment: 'Knee pain',
        participant: [
          { actor: { reference: `Patient/${patient.id}` }, status: 'accepted' },
          { actor: { reference: `Practitioner/${practitionerId}` }, status: 'accepted' },
        ],
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const appointment = created.body;
    expect(created.headers.get('location')).toBe(
      `${h.base}/Appointment/${appointment.id}/_history/${appointment.meta?.versionId}`,
    );
    expect(created.headers.get('etag')).toBe(`W/"${appointment.meta?.versionId}"`);
    expect(appointment).toMatchObject({
      status: 'booked',
      start: MONDAY_1030,
      end: '2026-11-23T10:45:00-05:00',
      minutesDuration: 15,
      appointmentType: { coding: [{ code: 'FU' }] },
      comment: 'Knee pain',
    });
    expect(appointment.participant.map((p) => p.actor?.reference)).toEqual([
      `Patient/${patient.id}`,
      `Practitioner/${practitionerId}`,
      `Location/${await h.fhirId('Location', 1)}`,
    ]);

    // Once, in the records system's own API, with the right everything.
    const upstream = h.sync.sim
      .state(TINY_FIRM)
      .appointments.filter((a) => a.externalRef === appointment.identifier?.[0]?.value);
    expect(upstream).toHaveLength(1);
    expect(upstream[0]).toMatchObject({
      patientId: 2,
      providerId: 1,
      locationId: 1,
      appointmentTypeId: 1,
      start: '2026-11-23T10:30',
      durationMinutes: 15,
      notes: 'Knee pain',
      status: 'scheduled',
    });
    const read = await fhirRequest<Appointment>(h, 'GET', `Appointment/${appointment.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(appointment);
    // The slot is no longer offered.
    const after = await fhirRequest<Bundle>(
      h,
      'GET',
      `Slot?status=free&start=ge2026-11-23T10:30:00-05:00&start=lt2026-11-23T10:31:00-05:00&schedule=${slot?.schedule.reference}`,
    );
    expect(after.body.entry ?? []).toEqual([]);
    expect(h.audit).toContainEqual({
      action: 'create',
      resourceType: 'Appointment',
      resourceIds: [appointment.id],
      status: 201,
    });
  });

  it('books by start and end alone, taking the location from the practitioner’s schedule', async () => {
    const h = facade();
    const created = await fhirRequest<Appointment>(h, 'POST', 'Appointment', {
      body: await newAppointment(h),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(h.upstreamAt('2026-11-23T10:30')).toHaveLength(1);
    expect(await claims(h)).toEqual([]);
  });

  it.each([
    ['an id', { id: 'mine' }, 'Appointment.id'],
    ['no practitioner', 'drop-practitioner', 'Appointment.participant'],
    ['no patient', 'drop-patient', 'Appointment.participant'],
    ['no type', { appointmentType: undefined }, 'Appointment.appointmentType'],
    ['no time', { start: undefined, end: undefined }, 'Appointment.start'],
    ['a start without zone', { start: '2026-11-23T10:30:00' }, 'Appointment.start'],
    ['a status other than booked or proposed', { status: 'fulfilled' }, 'Appointment.status'],
    ['an end before the start', { end: '2026-11-23T10:00:00-05:00' }, 'Appointment.end'],
  ] as const)(
    'refuses an appointment with %s: 400 at the element, nothing written',
    async (_what, change, expression) => {
      const h = facade();
      const before = h.sync.sim.state(TINY_FIRM).appointments.length;
      let body = await newAppointment(h);
      if (change === 'drop-practitioner') body = { ...body, participant: body.participant.slice(0, 1) };
      else if (change === 'drop-patient') body = { ...body, participant: body.participant.slice(1) };
      else body = { ...body, ...(change as Partial<Appointment>) } as Appointment;
      const answer = await fhirRequest<OperationOutcome>(h, 'POST', 'Appointment', { body });
      expectFailure(answer, 400);
      expect(answer.body.issue[0]?.expression).toEqual([expression]);
      expect(h.sync.sim.state(TINY_FIRM).appointments).toHaveLength(before);
    },
  );

  it('answers 422 not-found for a patient it does not know, naming the participant', async () => {
    const h = facade();
    const body = await newAppointment(h);
    body.participant[0] = { actor: { reference: 'Patient/no-such-patient' }, status: 'accepted' };
    const answer = await fhirRequest<OperationOutcome>(h, 'POST', 'Appointment', { body });
    expectFailure(answer, 422);
    expect(answer.body.issue[0]).toMatchObject({
      code: 'not-found',
      expression: ['Appointment.participant[0].actor'],
    });
  });

  it.each([
    ['a Saturday', '2026-11-21T10:30:00-05:00', 'outside-hours'],
    ['Thanksgiving', '2026-11-26T10:30:00-05:00', 'outside-hours'],
    ['the past', '2026-11-16T10:30:00-05:00', 'in-the-past'],
    ['a type the window does not allow', '2026-11-24T14:00:00-05:00', 'type-not-offered'],
  ] as const)('refuses %s with 422 and its precise code', async (_what, start, code) => {
    const h = facade();
    const end = new Date(Date.parse(start) + 15 * 60_000).toISOString();
    const answer = await fhirRequest<OperationOutcome>(h, 'POST', 'Appointment', {
      body: await newAppointment(h, { start, end }),
    });
    expectFailure(answer, 422, code);
    expect(answer.body.issue[0]).toMatchObject({ severity: 'error', code: 'business-rule' });
    expect(answer.body.issue[0]?.diagnostics).toBeTruthy();
    expect(answer.body.issue[0]?.details?.text).toBe(answer.body.issue[0]?.diagnostics);
    // Issue 13 item 3: a broken booking rule names the element to change.
    if (code in RULE_EXPRESSIONS) {
      expect(answer.body.issue[0]?.expression).toEqual([
        RULE_EXPRESSIONS[code as keyof typeof RULE_EXPRESSIONS],
      ]);
    }
  });

  it('refuses a time the practitioner is blocked (a staff meeting) with 422 provider-unavailable', async () => {
    const h = facade();
    const answer = await fhirRequest<OperationOutcome>(h, 'POST', 'Appointment', {
      body: await newAppointment(h, {
        start: '2026-11-23T12:30:00-05:00',
        end: '2026-11-23T12:45:00-05:00',
        participant: [
          { actor: { reference: `Patient/${await h.fhirId('Patient', 2)}` }, status: 'accepted' },
          { actor: { reference: `Practitioner/${await h.fhirId('Practitioner', 2)}` }, status: 'accepted' },
          { actor: { reference: `Location/${await h.fhirId('Location', 2)}` }, status: 'accepted' },
        ],
      }),
    });
    expectFailure(answer, 422, 'provider-unavailable');
    expect(answer.body.issue[0]?.diagnostics).toBe('The doctor is not available at that time.');
  });

  it('answers 409 slot-taken with alternatives, writing nothing, when the front desk booked the same time just before', async () => {
    const h = facade();
    await h.sync.frontDesk(TINY_FIRM, 'POST', '/appointments', FRONT_DESK_MONDAY_1030);
    const answer = await fhirRequest<OperationOutcome>(h, 'POST', 'Appointment', {
      body: await newAppointment(h),
    });
    expectFailure(answer, 409, 'slot-taken');
    const outcome = answer.body;
    expect(outcome.issue[0]).toMatchObject({
      code: 'conflict',
      diagnostics: 'Sorry, that time was just taken.',
    });
    const alternatives = (outcome.contained ?? []) as Slot[];
    expect(alternatives.length).toBeGreaterThan(0);
    expect(alternatives.length).toBeLessThanOrEqual(3);
    const offered = outcome.issue.filter((i) => i.severity === 'information');
    expect(offered.map((i) => i.extension?.[0])).toEqual(
      alternatives.map((s) => ({
        url: ALTERNATIVE_SLOT_EXTENSION,
        valueReference: { reference: `#${s.id}` },
      })),
    );
    expect(h.upstreamAt('2026-11-23T10:30', { includeCancelled: true })).toHaveLength(1);
    expect(await claims(h)).toEqual([]);

    // An alternative (Dr. Johnson's first: same practitioner first) is bookable as it is.
    const retry = await fhirRequest<Appointment>(h, 'POST', 'Appointment', {
      body: await newAppointment(h, {
        start: undefined,
        end: undefined,
        slot: [{ reference: `Slot/${alternatives[0]?.id}` }],
      }),
    });
    expect(retry.status, JSON.stringify(retry.body)).toBe(201);
  });

  it('undoes its own write and answers 409 when the front desk books the same time while the agent books', async () => {
    const h = facade();
    const real = h.sync.connectors[0] as Connector;
    h.useConnector(
      Object.create(real, {
        createAppointment: {
          value: async (...args: Parameters<Connector['createAppointment']>) => {
            await h.sync.frontDesk(TINY_FIRM, 'POST', '/appointments', FRONT_DESK_MONDAY_1030);
            return real.createAppointment(...args);
          },
        },
      }) as Connector,
    );
    const answer = await fhirRequest(h, 'POST', 'Appointment', { body: await newAppointment(h) });
    expectFailure(answer, 409, 'slot-taken');
    expect(h.upstreamAt('2026-11-23T10:30').map((a) => a.patientId)).toEqual([1]);
    const events = await readJournal(h.store, TINY_FIRM, { limit: 1000 });
    expect(events.map((e) => e.eventType)).toContain('booking.rolled-back');
    expect(events.map((e) => e.eventType)).not.toContain('appointment.booked');
  });

  it('lets exactly one of 50 concurrent POSTs for one slot book: 1 × 201, 49 × 409 slot-taken, one upstream write', async () => {
    const h = facade();
    const body = await newAppointment(h);
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => fhirRequest(h, 'POST', 'Appointment', { body })),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    const refused = answers.filter((a) => a.status !== 201);
    expect(refused.map((a) => [a.status, detailCode(a)])).toEqual(Array(49).fill([409, 'slot-taken']));
    expect(h.upstreamAt('2026-11-23T10:30', { includeCancelled: true })).toHaveLength(1);
    expect(await claims(h)).toEqual([]);
  });

  it('fails fast with 503 ehr-unavailable and Retry-After when the records system is down, writing nothing', async () => {
    const h = facade();
    const before = h.sync.sim.state(TINY_FIRM).appointments.length;
    h.sync.sim.faults.set({ down: true });
    const answer = await fhirRequest(h, 'POST', 'Appointment', { body: await newAppointment(h) });
    h.sync.sim.faults.clear();
    expectFailure(answer, 503, 'ehr-unavailable');
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(h.sync.sim.state(TINY_FIRM).appointments).toHaveLength(before);
    expect(await claims(h)).toEqual([]);
  });

  it('answers a consistent 201 with exactly one upstream appointment when the records system commits and then fails', async () => {
    const h = facade();
    h.sync.sim.faults.set({ commitThenFailRate: 1 });
    const answer = await fhirRequest<Appointment>(h, 'POST', 'Appointment', {
      body: await newAppointment(h),
    });
    h.sync.sim.faults.clear();
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(h.upstreamAt('2026-11-23T10:30', { includeCancelled: true })).toHaveLength(1);
    const read = await fhirRequest<Appointment>(h, 'GET', `Appointment/${answer.body.id}`);
    expect(read.body.start).toBe(MONDAY_1030);
  });

  it('creates conditionally: If-None-Exist with a match answers 200 with it, with several 412, with none books', async () => {
    const h = facade();
    const created = await fhirRequest<Appointment>(h, 'POST', 'Appointment', {
      body: await newAppointment(h),
    });
    expect(created.status).toBe(201);
    const marker = created.body.identifier?.[0];
    const again = await fhirRequest<Appointment>(h, 'POST', 'Appointment', {
      body: await newAppointment(h),
      headers: { 'if-none-exist': `identifier=${marker?.system}|${marker?.value}` },
    });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(created.body.id);
    expect(again.headers.get('etag')).toBe(created.headers.get('etag'));
    const several = await fhirRequest(h, 'POST', 'Appointment', {
      body: await newAppointment(h),
      headers: { 'if-none-exist': `practitioner=${await h.fhirId('Practitioner', 1)}` },
    });
    expectFailure(several, 412);
    const none = await fhirRequest(h, 'POST', 'Appointment', {
      body: await newAppointment(h, { start: '2026-11-23T11:00:00-05:00', end: '2026-11-23T11:15:00-05:00' }),
      headers: { 'if-none-exist': 'identifier=urn:x|nothing' },
    });
    expect(none.status).toBe(201);
    expect(h.upstreamAt('2026-11-23T10:30')).toHaveLength(1);
  });
});
