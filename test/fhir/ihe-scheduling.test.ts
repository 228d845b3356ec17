/**
 * IHE ITI Scheduling (R4) exactly (issue 14 items 1–6): one test per requirement, each quoting it. Real HTTP to the
 * facade, the simulated records system (tiny practice: Dr. Johnson, Family Medicine, NPI 1234567893; Dr. Martínez,
 * Internal Medicine, NPI 1245319599) and a store of either dialect.
 */
import type { Appointment, Bundle, Parameters, Schedule } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { capabilityStatement } from '../../fhir/capability-statement.js';
import { SUPPORTED_RESOURCES } from '../../fhir/resources/supported-resources.js';
import { bookingCapabilities } from '../../fhir/routes/booking-routes.js';
import { expectValidFhir } from '../support/fhir-validators.js';
import { NPI_SYSTEM } from '../../src/connectors/sim/sim-fhir-mapping.js';
import { testStoreFactories } from '../support/test-stores.js';
import { TINY_FIRM } from '../support/tiny-firm.js';
import {
  failureOutcome,
  fhirRequest,
  useBookingFacade,
  type BookingFacade,
} from '../booking/support/booking-facade.js';

const JOHNSON_NPI = '1234567893';
const MARTINEZ_NPI = '1245319599';

function parameters(...parameter: NonNullable<Parameters['parameter']>): Parameters {
  return { resourceType: 'Parameters', parameter };
}

const monday = (...extra: NonNullable<Parameters['parameter']>): Parameters =>
  parameters(
    { name: 'start', valueDateTime: '2026-11-23T08:00:00-05:00' },
    { name: 'end', valueDateTime: '2026-11-23T17:00:00-05:00' },
    { name: 'visit-type', valueCoding: { code: 'FU' } },
    ...extra,
  );

const proposals = (bundle: Bundle) =>
  (bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource as Appointment);
const practitionersOf = (bundle: Bundle) => [
  ...new Set(
    proposals(bundle).flatMap((a) =>
      a.participant.flatMap((p) =>
        p.actor?.reference?.startsWith('Practitioner/') ? [p.actor.reference] : [],
      ),
    ),
  ),
];

async function find(h: BookingFacade, body: Parameters, query = ''): Promise<Bundle> {
  const answer = await fhirRequest<Bundle>(h, 'POST', `Appointment/$find${query}`, { body });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body;
}

/** The path below the tenant base of an absolute link. */
const below = (h: BookingFacade, url: string) => url.slice(h.base.length + 1);

describe.each(testStoreFactories)('IHE ITI Scheduling, exactly ($name)', (factory) => {
  const facade = useBookingFacade(factory, { holdSeconds: 300 });

  it('ITI-115 "practitioner … Reference (identifier-based logical references allowed)": an NPI finds that doctor only, an unknown one is refused naming it', async () => {
    const h = facade();
    const martinez = `Practitioner/${await h.fhirId('Practitioner', 2)}`;
    const byNpi = await find(
      h,
      monday({
        name: 'practitioner',
        valueReference: { identifier: { system: NPI_SYSTEM, value: MARTINEZ_NPI } },
      }),
    );
    expect(proposals(byNpi).length).toBeGreaterThan(0);
    expect(practitionersOf(byNpi)).toEqual([martinez]);

    // The GET form: practitioner:identifier=system|value.
    const get = await fhirRequest<Bundle>(
      h,
      'GET',
      `Appointment/$find?start=2026-11-23&end=2026-11-23&visit-type=FU&practitioner:identifier=${encodeURIComponent(`${NPI_SYSTEM}|${JOHNSON_NPI}`)}`,
    );
    expect(get.status).toBe(200);
    expect(practitionersOf(get.body)).toEqual([`Practitioner/${await h.fhirId('Practitioner', 1)}`]);

    // Never a dropped filter: an identifier or a reference that names nobody is an error naming it.
    for (const value of [
      { identifier: { system: NPI_SYSTEM, value: '1999999999' } },
      { reference: 'Practitioner/nobody-at-all' },
    ]) {
      const refused = await fhirRequest(h, 'POST', 'Appointment/$find', {
        body: monday({ name: 'practitioner', valueReference: value }),
      });
      expect(refused.status, JSON.stringify(refused.body)).toBe(422);
      const issue = failureOutcome(refused).issue[0];
      expect(issue).toMatchObject({ code: 'not-found', expression: ['practitioner'] });
      expect(issue?.diagnostics).toContain(
        'identifier' in value ? '1999999999' : 'Practitioner/nobody-at-all',
      );
    }
  });

  it('ITI-116 "the server shall return an OperationOutcome with … severity of fatal and code of not-found" and ITI-117 "An unsuccessful $book operation SHALL return only an OperationOutcome resource within the Bundle"', async () => {
    const h = facade();
    const [proposal] = proposals(await find(h, monday()));
    await h.sync.frontDesk(TINY_FIRM, 'POST', '/appointments', {
      patientId: 1,
      providerId: 1,
      locationId: 1,
      appointmentTypeId: 1,
      start: (proposal?.start as string).slice(0, 16),
      durationMinutes: 15,
    });
    await h.syncNow();
    const hold = await fhirRequest<Bundle>(h, 'POST', 'Appointment/$hold', {
      body: parameters({
        name: 'appointment-reference',
        valueReference: { reference: `Appointment/${proposal?.id}` },
      }),
    });
    expect(hold.status).toBe(409);
    expect(hold.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 0 });
    expect(failureOutcome(hold).issue[0]).toMatchObject({ severity: 'fatal', code: 'not-found' });

    const book = await fhirRequest<Bundle>(h, 'POST', 'Appointment/$book', {
      body: parameters({
        name: 'appointment-reference',
        valueReference: { reference: 'Appointment/never-proposed' },
      }),
    });
    expect(book.status).toBe(422);
    expect(book.body.resourceType).toBe('Bundle');
    expect(failureOutcome(book).issue[0]).toMatchObject({ code: 'not-found' });
  });

  it('ITI-115 "The server SHALL honour _count … the client SHALL support pagination": _count in the URL, and next links that page through all', async () => {
    const h = facade();
    const first = await find(
      h,
      monday({ name: 'practitioner', valueReference: { identifier: { value: JOHNSON_NPI } } }),
      '?_count=5',
    );
    expect(proposals(first)).toHaveLength(5);
    const total = first.total as number;
    expect(total).toBeGreaterThan(10);
    expect(first.link?.find((l) => l.relation === 'self')?.url).toContain('_count=5');
    const seen = proposals(first).map((a) => a.id);
    let next = first.link?.find((l) => l.relation === 'next')?.url;
    while (next) {
      const page = await fhirRequest<Bundle>(h, 'GET', below(h, next));
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      expect(proposals(page.body).length).toBeLessThanOrEqual(5);
      seen.push(...proposals(page.body).map((a) => a.id));
      next = page.body.link?.find((l) => l.relation === 'next')?.url;
    }
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
  });

  it('ITI-116 "The response to the $hold operation is an Appointment resource … status set to pending": the hold can be read and searched', async () => {
    const h = facade();
    const [proposal] = proposals(await find(h, monday()));
    const hold = await fhirRequest<Bundle>(h, 'POST', 'Appointment/$hold', {
      body: parameters({
        name: 'appointment-reference',
        valueReference: { reference: `Appointment/${proposal?.id}` },
      }),
    });
    const held = hold.body.entry?.[0]?.resource as Appointment;
    const read = await fhirRequest<Appointment>(h, 'GET', `Appointment/${held.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: held.id, status: 'pending', start: proposal?.start });
    const search = await fhirRequest<Bundle>(h, 'GET', `Appointment?_id=${held.id}`);
    expect(search.body.entry?.map((e) => e.resource?.id)).toEqual([held.id]);
    const pending = await fhirRequest<Bundle>(h, 'GET', 'Appointment?status=pending&date=2026-11-23');
    expect(pending.body.entry?.map((e) => e.resource?.id)).toContain(held.id);
  });

  it('ITI-115 "specialty … token (system|code)": a SNOMED CT specialty code matches the Schedules of that specialty', async () => {
    const h = facade();
    const internal = await fhirRequest<Bundle>(
      h,
      'GET',
      `Appointment/$find?start=2026-11-23&end=2026-11-23&visit-type=FU&specialty=${encodeURIComponent('http://snomed.info/sct|419192003')}`,
    );
    expect(internal.status).toBe(200);
    expect(practitionersOf(internal.body)).toEqual([`Practitioner/${await h.fhirId('Practitioner', 2)}`]);
    const general = await find(
      h,
      monday({
        name: 'specialty',
        valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '394814009' }] },
      }),
    );
    expect(practitionersOf(general)).toEqual([`Practitioner/${await h.fhirId('Practitioner', 1)}`]);
    // A code of another system does not match.
    const other = await find(
      h,
      monday({ name: 'specialty', valueCoding: { system: 'http://example.org/other', code: '419192003' } }),
    );
    expect(proposals(other)).toEqual([]);
  });

  it('ihe-sched-appt "requestedPeriod 1..1", a CapabilityStatement naming the IHE profiles, and Schedule.date over planningHorizon', async () => {
    const h = facade();
    const [proposal] = proposals(await find(h, monday()));
    expect(proposal?.requestedPeriod).toEqual([{ start: proposal?.start, end: proposal?.end }]);
    const hold = await fhirRequest<Bundle>(h, 'POST', 'Appointment/$hold', {
      body: parameters({
        name: 'appointment-reference',
        valueReference: { reference: `Appointment/${proposal?.id}` },
      }),
    });
    const held = hold.body.entry?.[0]?.resource as Appointment;
    expect(held.requestedPeriod).toEqual([{ start: held.start, end: held.end }]);
    const booked = await fhirRequest<Bundle>(h, 'POST', 'Appointment/$book', {
      body: parameters(
        { name: 'appointment-reference', valueReference: { reference: `Appointment/${held.id}` } },
        { name: 'patient-id', valueUri: `Patient/${await h.fhirId('Patient', 2)}` },
      ),
    });
    const appointment = booked.body.entry?.[0]?.resource as Appointment;
    expect(appointment.requestedPeriod).toEqual([{ start: appointment.start, end: appointment.end }]);

    // The CapabilityStatement with the booking routes (as the app serves it) names the IHE artefacts.
    const cs = capabilityStatement({
      baseUrl: h.base,
      tenantName: 'Tiny',
      softwareVersion: 'test',
      date: '2026-11-20T15:00:00Z',
      resources: SUPPORTED_RESOURCES,
      contributions: bookingCapabilities,
    });
    expectValidFhir(cs);
    expect(cs.instantiates).toContain(
      'https://profiles.ihe.net/ITI/Scheduling/CapabilityStatement/IHE.Scheduling.server',
    );
    expect(cs.rest?.[0]?.resource?.find((r) => r.type === 'Appointment')?.supportedProfile).toContain(
      'https://profiles.ihe.net/ITI/Scheduling/StructureDefinition/ihe-sched-appt',
    );

    // The harness clock is 2026-11-20 and the booking horizon 90 days. A date search on a Period: `ge` and `le`
    // together ask for a planning horizon that includes the day.
    const inside = await fhirRequest<Bundle>(h, 'GET', 'Schedule?date=ge2026-12-01&date=le2026-12-01');
    expect(inside.body.entry?.length).toBeGreaterThan(0);
    expect((inside.body.entry?.[0]?.resource as Schedule).planningHorizon?.start).toBe('2026-11-20');
    const beyond = await fhirRequest<Bundle>(h, 'GET', 'Schedule?date=ge2027-06-01');
    expect(beyond.body.entry ?? []).toEqual([]);
  });
});
