import type {
  Appointment,
  Bundle,
  Location,
  Patient,
  Practitioner,
  Resource,
  Schedule,
  Slot,
} from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { commitChanges } from '../../src/events/change-writer.js';
import { readResource } from '../../src/store/resource-store.js';
import { expectValidFhir } from '../support/fhir-validators.js';
import { testStoreFactories } from '../support/test-stores.js';
import { TINY_FIRM, tinyFirm } from '../support/tiny-firm.js';
import {
  expectOutcome,
  fhirGet,
  included,
  kit,
  matches,
  searchBundle,
  useSyncedFacade,
} from './support/fhir-http.js';

/** The tiny firm; the first appointment carries Switchboard's booking marker, so it has an identifier. */
function firmWithMarker() {
  const data = tinyFirm();
  const first = data.appointments.find((a) => a.id === 1);
  if (first) first.externalRef = 'switchboard:booking-1';
  return { name: TINY_FIRM, data };
}

const APPOINTMENT_TYPES = 'urn:switchboard:tiny:appointment-type';

describe.each(testStoreFactories)('scheduling searches over HTTP ($name)', (factory) => {
  const facade = useSyncedFacade(factory, { firm: firmWithMarker() });
  const ids: Record<string, string> = {};

  const find = async <T extends Resource>(query: string): Promise<T[]> =>
    matches<T>(await searchBundle(facade(), query));
  const idsOf = async (query: string): Promise<string[]> =>
    (await find(query)).map((r) => r.id as string).sort();
  const sortedIds = (...names: string[]) => names.map((n) => ids[n] as string).sort();

  beforeAll(async () => {
    const all = async <T extends Resource>(type: string) => find<T>(`${type}?_count=100`);
    for (const p of await all<Practitioner>('Practitioner')) ids[p.name?.[0]?.family ?? ''] = p.id as string;
    for (const l of await all<Location>('Location')) ids[l.name ?? ''] = l.id as string;
    for (const p of await all<Patient>('Patient'))
      ids[`${p.name?.[0]?.given?.[0]} ${p.birthDate}`] = p.id as string;
    for (const s of await all<Schedule>('Schedule')) {
      const practitioner = s.actor.find((a) => a.reference?.startsWith('Practitioner/'))?.reference;
      ids[`schedule ${practitioner === `Practitioner/${ids.Johnson}` ? 'Johnson' : 'Martínez'}`] =
        s.id as string;
    }
    for (const a of await all<Appointment>('Appointment')) ids[`appointment ${a.start}`] = a.id as string;
    for (const s of await all<Slot>('Slot'))
      ids[`slot ${s.comment} ${s.schedule.reference}`] = s.id as string;
  });
  const A1 = 'appointment 2026-11-23T09:00:00-05:00';
  const A2 = 'appointment 2026-11-23T10:00:00-05:00';
  const A4 = 'appointment 2026-11-30T11:00:00-05:00';

  it('searches Practitioner by accent-free name, NPI identifier and sorts by family', async () => {
    expect(await idsOf('Practitioner?name=martinez')).toEqual(sortedIds('Martínez'));
    expect(await idsOf('Practitioner?name=dr%20ana')).toEqual(sortedIds('Johnson'));
    expect(await idsOf('Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|1234567893')).toEqual(
      sortedIds('Johnson'),
    );
    expect((await find<Practitioner>('Practitioner?_sort=-family')).map((p) => p.id)).toEqual([
      ids['Martínez'],
      ids.Johnson,
    ]);
    expect(await idsOf('Practitioner?active=true')).toEqual(sortedIds('Johnson', 'Martínez'));
  });

  it('searches Location by name and by any part of the address', async () => {
    expect(await idsOf('Location?name=annex')).toEqual(sortedIds('Riverside Annex'));
    expect(await idsOf('Location?name=main%20street')).toEqual(sortedIds('Main Street Clinic'));
    expect(await idsOf('Location?address=albany')).toEqual(
      sortedIds('Main Street Clinic', 'Riverside Annex'),
    );
    expect(await idsOf('Location?address=annex%20way')).toEqual(sortedIds('Riverside Annex'));
    expect(await idsOf('Location?address=12207&address=river')).toEqual(sortedIds('Main Street Clinic'));
    expect(await idsOf('Location?address:exact=Albany')).toHaveLength(2);
    expect(await idsOf('Location?address:exact=albany')).toEqual([]);
    expect(await idsOf('Location?address:contains=nnex')).toEqual(sortedIds('Riverside Annex'));
    expect(await idsOf('Location?status=active')).toHaveLength(2);
  });

  it('searches Schedule by actor (Type/id, bare id, :Type), active and service-type', async () => {
    expect(await idsOf(`Schedule?actor=Practitioner/${ids.Johnson}`)).toEqual(sortedIds('schedule Johnson'));
    expect(await idsOf(`Schedule?actor=${ids.Johnson}`)).toEqual(sortedIds('schedule Johnson'));
    expect(await idsOf(`Schedule?actor:Location=${ids['Riverside Annex']}`)).toEqual(
      sortedIds('schedule Martínez'),
    );
    expect(await idsOf(`Schedule?actor:Practitioner=${ids['Riverside Annex']}`)).toEqual([]);
    expect(await idsOf('Schedule?active=true')).toHaveLength(2);
    expect(await idsOf('Schedule?active=false')).toEqual([]);
    expect(await idsOf('Schedule?service-type=NP')).toEqual(sortedIds('schedule Johnson'));
    expect(await idsOf(`Schedule?service-type=${APPOINTMENT_TYPES}|FU`)).toHaveLength(2);
    // Synced schedules publish the booking horizon (today 2026-11-20 … +90 days) as planningHorizon (Schedule.date).
    expect(await idsOf('Schedule?date=ge2026-11-20')).toHaveLength(2);
    expect(await idsOf('Schedule?date=ge2026-12-01&date=le2026-12-01')).toHaveLength(2);
    expect(await idsOf('Schedule?date=ge2027-06-01')).toEqual([]);
    expect(await idsOf('Schedule?date:missing=true')).toEqual([]);
  });

  it('includes Schedule actors and rev-includes the Slots of each Schedule', async () => {
    const bundle = await searchBundle(
      facade(),
      `Schedule?_id=${ids['schedule Johnson']}&_include=Schedule:actor&_revinclude=Slot:schedule`,
    );
    expect(matches(bundle).map((r) => r.id)).toEqual([ids['schedule Johnson']]);
    const extra = included(bundle);
    expect(extra.map((r) => `${r.resourceType}/${r.id}`).sort()).toEqual(
      [
        `Practitioner/${ids.Johnson}`,
        `Location/${ids['Main Street Clinic']}`,
        ...extra.filter((r) => r.resourceType === 'Slot').map((r) => `Slot/${r.id}`),
      ].sort(),
    );
    expect(
      extra
        .filter((r) => r.resourceType === 'Slot')
        .map((s) => (s as Slot).comment)
        .sort(),
    ).toEqual(['Thanksgiving', 'Vacation']);
    for (const entry of bundle.entry ?? []) {
      expect(entry.fullUrl).toBe(`${facade().base}/${entry.resource?.resourceType}/${entry.resource?.id}`);
    }

    const onlyLocations = await searchBundle(facade(), 'Schedule?_include=Schedule:actor:Location');
    expect(included(onlyLocations).map((r) => r.resourceType)).toEqual(['Location', 'Location']);
  });

  it('answers _summary=true with the summary elements and the mandatory ones only', async () => {
    const [schedule] = await find<Schedule>(`Schedule?_id=${ids['schedule Johnson']}&_summary=true`);
    expect(schedule?.comment).toBeUndefined();
    expect(schedule?.actor).toHaveLength(2);
    expect(schedule?.serviceType?.length).toBeGreaterThan(0);
    const [appointment] = await find<Appointment>(`Appointment?_id=${ids[A2]}&_summary=true`);
    expect(appointment?.comment).toBeUndefined();
    expect(appointment?.participant).toHaveLength(3);
  });

  it('searches Slot by schedule, status and start, reading zone-less dates in the practice zone', async () => {
    const johnson = ids['schedule Johnson'] as string;
    expect(await find<Slot>(`Slot?schedule=Schedule/${johnson}`)).toHaveLength(2);
    expect(await find<Slot>(`Slot?schedule=${johnson}`)).toHaveLength(2);
    expect(await find<Slot>('Slot?status=busy-unavailable')).toHaveLength(4);
    expect(await find<Slot>('Slot?status=http://hl7.org/fhir/slotstatus|busy-unavailable')).toHaveLength(4);
    expect(await find<Slot>('Slot?status=free')).toEqual([]);
    const comments = async (query: string) => (await find<Slot>(`Slot?${query}`)).map((s) => s.comment);
    // Thanksgiving closures start at local midnight, 05:00Z.
    expect(await comments('start=2026-11-26')).toEqual(['Thanksgiving', 'Thanksgiving']);
    expect(await comments('start=ge2026-11-23&start=lt2026-11-24')).toEqual(['Staff meeting']);
    expect(await comments('start=2026-11-23T12:00')).toEqual(['Staff meeting']);
    expect(await comments('start=2026-11-23T17:00:00Z')).toEqual(['Staff meeting']);
    expect(await comments('start=2026-11-23T12:00:00-05:00')).toEqual(['Staff meeting']);
    expect(await comments('start=lt2026-11-20')).toEqual(['Vacation']);
    expect(await comments('start=2026-11')).toHaveLength(4);
    expect(await comments('_sort=-start')).toEqual([
      'Thanksgiving',
      'Thanksgiving',
      'Staff meeting',
      'Vacation',
    ]);
    expect(await comments('service-type=FU')).toEqual([]);
    expectOutcome(await fhirGet(facade(), 'Slot?_sort=_id', { prefer: 'handling=strict' }), 400, '_sort');
  });

  it('includes the Schedule of each Slot', async () => {
    const bundle = await searchBundle(facade(), 'Slot?start=2026-11-26&_include=Slot:schedule');
    expect(matches(bundle)).toHaveLength(2);
    expect(
      included(bundle)
        .map((r) => r.id)
        .sort(),
    ).toEqual(sortedIds('schedule Johnson', 'schedule Martínez'));
  });

  it('searches Appointment by patient, practitioner, location and actor references', async () => {
    const john = ids['John 1970-01-15'] as string;
    expect(await idsOf(`Appointment?patient=Patient/${john}`)).toEqual(sortedIds(A1, A4));
    expect(await idsOf(`Appointment?patient=${john}`)).toEqual(sortedIds(A1, A4));
    expect(await idsOf(`Appointment?patient=${facade().base}/Patient/${john}`)).toEqual(sortedIds(A1, A4));
    expect(await idsOf(`Appointment?practitioner=Practitioner/${ids.Johnson}`)).toEqual(sortedIds(A1, A4));
    expect(await idsOf(`Appointment?location=${ids['Riverside Annex']}`)).toEqual(sortedIds(A2));
    expect(await idsOf(`Appointment?actor=Patient/${ids['José 1990-03-03']}`)).toEqual(sortedIds(A2));
    expect(await idsOf(`Appointment?actor:Practitioner=${ids['Martínez']}`)).toEqual(sortedIds(A2));
    expect(await idsOf(`Appointment?actor=${ids['Martínez']},${john}`)).toEqual(sortedIds(A1, A2, A4));
    expect(await idsOf(`Appointment?patient=Practitioner/${ids.Johnson}`)).toEqual([]);
    expectOutcome(await fhirGet(facade(), 'Appointment?patient=not%20an%20id'), 400, 'patient');
    expectOutcome(await fhirGet(facade(), 'Appointment?patient:Location=x'), 400, 'patient:Location');
  });

  it('searches Appointment date (its start) with the practice-local day and every prefix', async () => {
    expect(await idsOf('Appointment?date=2026-11-23')).toEqual(sortedIds(A1, A2));
    expect(await idsOf('Appointment?date=2026-11-23T09:00')).toEqual(sortedIds(A1));
    expect(await idsOf('Appointment?date=ge2026-11-24')).toEqual(sortedIds(A4));
    expect(await idsOf('Appointment?date=gt2026-11-23')).toEqual(sortedIds(A4));
    expect(await idsOf('Appointment?date=lt2026-11-23T10:00:00-05:00')).toEqual(sortedIds(A1));
    expect(await idsOf('Appointment?date=le2026-11-23T10:00')).toEqual(sortedIds(A1, A2));
    expect(await idsOf('Appointment?date=sa2026-11-23')).toEqual(sortedIds(A4));
    expect(await idsOf('Appointment?date=eb2026-11-30')).toEqual(sortedIds(A1, A2));
    expect(await idsOf('Appointment?date=ne2026-11-23')).toEqual(sortedIds(A4));
    expect(await idsOf('Appointment?date=2026-11-23T14:00:00Z')).toEqual(sortedIds(A1));
  });

  it('searches Appointment status, codes and identifier as tokens', async () => {
    expect(await idsOf('Appointment?status=booked')).toEqual(sortedIds(A1, A2));
    expect(await idsOf('Appointment?status=cancelled')).toEqual(sortedIds(A4));
    expect(await idsOf('Appointment?status:not=cancelled')).toEqual(sortedIds(A1, A2));
    expect(await idsOf('Appointment?status=http://hl7.org/fhir/appointmentstatus|booked,noshow')).toEqual(
      sortedIds(A1, A2),
    );
    expect(await idsOf('Appointment?service-type=FU')).toHaveLength(3);
    expect(await idsOf(`Appointment?appointment-type=${APPOINTMENT_TYPES}|FU`)).toHaveLength(3);
    expect(await idsOf('Appointment?appointment-type=NP')).toEqual([]);
    expect(
      await idsOf('Appointment?identifier=urn:switchboard:tiny:correlation|switchboard:booking-1'),
    ).toEqual(sortedIds(A1));
    expect(await idsOf('Appointment?identifier:missing=true')).toEqual(sortedIds(A2, A4));
  });

  it('sorts Appointments by date, ascending by default', async () => {
    expect((await find('Appointment')).map((a) => a.id)).toEqual([ids[A1], ids[A2], ids[A4]]);
    expect((await find('Appointment?_sort=-date')).map((a) => a.id)).toEqual([ids[A4], ids[A2], ids[A1]]);
  });

  it('includes the patient, practitioner, location or every actor of each Appointment, once each', async () => {
    const kinds = (bundle: Bundle) =>
      included(bundle)
        .map((r) => r.resourceType)
        .sort();
    const base = `Appointment?date=2026-11-23`;
    expect(kinds(await searchBundle(facade(), `${base}&_include=Appointment:patient`))).toEqual([
      'Patient',
      'Patient',
    ]);
    expect(kinds(await searchBundle(facade(), `${base}&_include=Appointment:practitioner`))).toEqual([
      'Practitioner',
      'Practitioner',
    ]);
    expect(kinds(await searchBundle(facade(), `${base}&_include=Appointment:location`))).toEqual([
      'Location',
      'Location',
    ]);
    expect(kinds(await searchBundle(facade(), `${base}&_include=Appointment:actor`))).toEqual([
      'Location',
      'Location',
      'Patient',
      'Patient',
      'Practitioner',
      'Practitioner',
    ]);
    // John Smith has two appointments: included once.
    const john = await searchBundle(
      facade(),
      `Appointment?patient=${ids['John 1970-01-15']}&_include=Appointment:patient&_include=Appointment:practitioner`,
    );
    expect(matches(john)).toHaveLength(2);
    expect(kinds(john)).toEqual(['Patient', 'Practitioner']);

    const viaKit = await kit<Bundle>(
      facade().fhirKit.search({
        resourceType: 'Appointment',
        searchParams: { date: '2026-11-23', _include: 'Appointment:actor' },
      }),
    );
    expectValidFhir(viaKit);
    expect(included(viaKit)).toHaveLength(6);
    const medplum = await facade().medplum.search(
      'Appointment',
      'date=2026-11-23&_include=Appointment:patient',
    );
    expectValidFhir(medplum);
    expect(included(medplum)).toHaveLength(2);
  });

  it('refuses include paths it does not serve, and :iterate', async () => {
    const strict = { prefer: 'handling=strict' };
    expectOutcome(await fhirGet(facade(), 'Appointment?_include=Appointment:slot', strict), 400, '_include');
    expectOutcome(
      await fhirGet(facade(), 'Appointment?_include=Patient:organization', strict),
      400,
      '_include',
    );
    expectOutcome(
      await fhirGet(facade(), 'Appointment?_include:iterate=Appointment:patient'),
      400,
      '_include:iterate',
    );
    expectOutcome(
      await fhirGet(facade(), 'Schedule?_revinclude=Appointment:slot', strict),
      400,
      '_revinclude',
    );
  });

  // Last: it writes a new version of an appointment into the shared store.
  it('finds an Appointment by the Slot it was booked into', async () => {
    const h = facade();
    const stored = await readResource(h.store, h.tenant, 'Appointment', ids[A2] as string);
    await commitChanges(h.store, h.tenant, [
      {
        op: 'upsert',
        resource: {
          ...(stored?.resource as Appointment & { id: string }),
          slot: [{ reference: 'Slot/slot-123' }],
        },
      },
    ]);
    expect(await idsOf('Appointment?slot=Slot/slot-123')).toEqual(sortedIds(A2));
    expect(await idsOf('Appointment?slot=slot-123')).toEqual(sortedIds(A2));
    expect(await idsOf('Appointment?slot=slot-12')).toEqual([]);
    expect(await idsOf('Appointment?slot=Slot/slot-123,Slot/other')).toEqual(sortedIds(A2));
  });
});
