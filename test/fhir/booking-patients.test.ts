import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { MATCH_GRADE_EXTENSION } from '../../fhir/operations/patient-match.js';
import { NEEDS_REVIEW_TAG } from '../../src/booking/patient-registration.js';
import { readJournal } from '../../src/store/change-journal.js';
import { testStoreFactories } from '../support/test-stores.js';
import { TINY_FIRM } from '../support/tiny-firm.js';
import { expectFailure, fhirRequest, useBookingFacade } from '../booking/support/booking-facade.js';

const LINH: Patient = {
  resourceType: 'Patient',
  name: [{ family: 'Nguyen', given: ['Linh'] }],
  birthDate: '1994-02-11',
  gender: 'female',
  telecom: [{ system: 'phone', value: '(518) 555-0199' }],
};

/** The tiny practice's John Smith born 1985-06-30 (phone 518.555.0002), as a caller might describe him. */
const JOHN_1985: Patient = {
  resourceType: 'Patient',
  name: [{ family: 'smith', given: ['John'] }],
  birthDate: '1985-06-30',
  telecom: [{ system: 'phone', value: '+1 518 555 0002' }],
};

const match = (
  patient: Patient,
  extra: Array<{ name: string; valueBoolean?: boolean; valueInteger?: number }> = [],
) => ({
  resourceType: 'Parameters',
  parameter: [{ name: 'resource', resource: patient }, ...extra],
});

describe.each(testStoreFactories)('new patients and matching ($name)', (factory) => {
  const facade = useBookingFacade(factory);

  it('creates a new patient in the records system, flagged for staff review, and journals patient.created', async () => {
    const h = facade();
    const created = await fhirRequest<Patient>(h, 'POST', 'Patient', { body: LINH });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const patient = created.body;
    expect(created.headers.get('location')).toBe(`${h.base}/Patient/${patient.id}/_history/1`);
    expect(patient.meta?.tag).toEqual([NEEDS_REVIEW_TAG]);
    expect(patient).toMatchObject({ name: [{ family: 'Nguyen', given: ['Linh'] }], birthDate: '1994-02-11' });
    const upstream = h.sync.sim.state(TINY_FIRM).patients.filter((p) => p.lastName === 'Nguyen');
    expect(upstream).toMatchObject([{ firstName: 'Linh', dob: '1994-02-11', gender: 'female' }]);
    const events = await readJournal(h.store, TINY_FIRM, { limit: 1000 });
    const created_ = events.filter((e) => e.eventType === 'patient.created');
    expect(created_).toMatchObject([{ resourceId: patient.id, payload: { needsReview: true } }]);

    // Found by name and birth date; the next sync pass changes nothing and keeps the flag.
    const found = await fhirRequest<Bundle>(h, 'GET', 'Patient?family=nguyen&birthdate=1994-02-11');
    expect(found.body.entry?.map((e) => e.resource?.id)).toEqual([patient.id]);
    await h.syncNow();
    const read = await fhirRequest<Patient>(h, 'GET', `Patient/${patient.id}`);
    expect(read.body.meta?.tag).toEqual([NEEDS_REVIEW_TAG]);
    expect(read.body.meta?.versionId).toBe('1');
  });

  it('returns the existing patient (200) instead of a duplicate when name, birth date and phone match', async () => {
    const h = facade();
    const before = h.sync.sim.state(TINY_FIRM).patients.length;
    const answer = await fhirRequest<Patient>(h, 'POST', 'Patient', { body: JOHN_1985 });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.id).toBe(await h.fhirId('Patient', 2));
    expect(h.sync.sim.state(TINY_FIRM).patients).toHaveLength(before);

    // The same patient twice at once is created once.
    const twice = await Promise.all([
      fhirRequest<Patient>(h, 'POST', 'Patient', { body: LINH }),
      fhirRequest<Patient>(h, 'POST', 'Patient', { body: LINH }),
    ]);
    expect(twice.map((a) => a.status).sort()).toEqual([200, 201]);
    expect(twice[0]?.body.id).toBe(twice[1]?.body.id);
    expect(h.sync.sim.state(TINY_FIRM).patients.filter((p) => p.lastName === 'Nguyen')).toHaveLength(1);
  });

  it('creates a second John Smith with another birth date: only a certain match is reused', async () => {
    const h = facade();
    const answer = await fhirRequest<Patient>(h, 'POST', 'Patient', {
      body: { ...JOHN_1985, birthDate: '1999-09-09' },
    });
    expect(answer.status).toBe(201);
    expect(
      h.sync.sim.state(TINY_FIRM).patients.filter((p) => p.lastName.toLowerCase() === 'smith'),
    ).toHaveLength(3);
  });

  it.each([
    ['no family name', { name: [{ given: ['Linh'] }] }, 'Patient.name'],
    ['no birth date', { birthDate: undefined }, 'Patient.birthDate'],
    ['a birth date in the future', { birthDate: '2030-01-01' }, 'Patient.birthDate'],
    ['an id', { id: 'mine' }, 'Patient.id'],
  ] as const)('refuses a patient with %s: 400 at the element', async (_what, change, expression) => {
    const h = facade();
    const answer = await fhirRequest<OperationOutcome>(h, 'POST', 'Patient', {
      body: { ...LINH, ...change },
    });
    expectFailure(answer, 400);
    expect(answer.body.issue[0]?.expression).toEqual([expression]);
  });

  it('$match grades: certain for name, birth date and phone; probable without the phone; possible on name alone', async () => {
    const h = facade();
    const john1985 = await h.fhirId('Patient', 2);
    const john1970 = await h.fhirId('Patient', 1);
    const certain = await fhirRequest<Bundle>(h, 'POST', 'Patient/$match', { body: match(JOHN_1985) });
    expect(certain.status, JSON.stringify(certain.body)).toBe(200);
    expect(certain.body.type).toBe('searchset');
    const graded = (bundle: Bundle) =>
      (bundle.entry ?? []).map((e) => [
        e.resource?.id,
        e.search?.extension?.find((x) => x.url === MATCH_GRADE_EXTENSION)?.valueCode,
        e.search?.mode,
      ]);
    expect(graded(certain.body)).toEqual([
      [john1985, 'certain', 'match'],
      [john1970, 'possible', 'match'],
    ]);
    const scores = (certain.body.entry ?? []).map((e) => e.search?.score as number);
    expect(scores[0]).toBeGreaterThan(scores[1] as number);
    expect(scores[0]).toBeLessThanOrEqual(1);

    const noPhone = await fhirRequest<Bundle>(h, 'POST', 'Patient/$match', {
      body: match({ ...JOHN_1985, telecom: undefined }),
    });
    expect(graded(noPhone.body)[0]).toEqual([john1985, 'probable', 'match']);

    const onlyCertain = await fhirRequest<Bundle>(h, 'POST', 'Patient/$match', {
      body: match(JOHN_1985, [{ name: 'onlyCertainMatches', valueBoolean: true }]),
    });
    expect(graded(onlyCertain.body)).toEqual([[john1985, 'certain', 'match']]);
    const one = await fhirRequest<Bundle>(h, 'POST', 'Patient/$match', {
      body: match(JOHN_1985, [{ name: 'count', valueInteger: 1 }]),
    });
    expect(one.body.entry).toHaveLength(1);

    // Accents and punctuation do not get in the way.
    const jose = await fhirRequest<Bundle>(h, 'POST', 'Patient/$match', {
      body: match({
        resourceType: 'Patient',
        name: [{ family: 'alvarez nunez', given: ['Jose'] }],
        birthDate: '1990-03-03',
      }),
    });
    expect(graded(jose.body)[0]).toEqual([await h.fhirId('Patient', 3), 'probable', 'match']);

    const nobody = await fhirRequest<Bundle>(h, 'POST', 'Patient/$match', {
      body: match({
        resourceType: 'Patient',
        name: [{ family: 'Nobody', given: ['Here'] }],
        birthDate: '1950-01-01',
      }),
    });
    expect(nobody.body.entry ?? []).toEqual([]);
    expect(nobody.body.total).toBe(0);
    expectFailure(
      await fhirRequest(h, 'POST', 'Patient/$match', { body: { resourceType: 'Parameters' } }),
      400,
    );
  });
});
