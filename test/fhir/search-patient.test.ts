import type { Bundle, Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { expectValidFhir } from '../support/fhir-validators.js';
import { testStoreFactories } from '../support/test-stores.js';
import { TINY_FIRM, tinyFirm } from '../support/tiny-firm.js';
import {
  expectOutcome,
  fhirGet,
  fhirPostForm,
  kit,
  linkOf,
  matches,
  outcomeIssues,
  searchBundle,
  useSyncedFacade,
} from './support/fhir-http.js';

/** The tiny firm, with an email address on Mary-Kate Lee. */
function firmWithEmail() {
  const data = tinyFirm();
  const lee = data.patients.find((p) => p.lastName === 'Lee');
  if (lee) lee.email = 'Mary.Lee@Example.com';
  return { name: TINY_FIRM, data };
}

/** "Given Family (birthDate)" of each match, in Bundle order. */
function people(bundle: Bundle): string[] {
  return matches<Patient>(bundle).map(
    (p) => `${p.name?.[0]?.given?.join(' ')} ${p.name?.[0]?.family} (${p.birthDate})`,
  );
}
const sorted = (list: string[]) => [...list].sort();

const JOHN_1970 = 'John Smith (1970-01-15)';
const JOHN_1985 = 'John Smith (1985-06-30)';
const JOSE = 'José Álvarez-Núñez (1990-03-03)';
const ZOE = "Zoë O'Brien (2001-12-24)";
const MARY = 'Mary-Kate Lee (1962-07-04)';

describe.each(testStoreFactories)('Patient search over HTTP ($name)', (factory) => {
  const facade = useSyncedFacade(factory, { firm: firmWithEmail() });
  const find = async (query: string) => people(await searchBundle(facade(), `Patient?${query}`));

  it('finds "jose nunez" as José Álvarez-Núñez: names ignore case and accents', async () => {
    expect(await find('name=jose%20nunez')).toEqual([JOSE]);
    expect(await find('name=JOS%C3%89')).toEqual([JOSE]);
    expect(await find('family=alvarez-nunez')).toEqual([JOSE]);
    expect(await find('family=ALVAREZ')).toEqual([JOSE]);
    expect(await find('given=zoe')).toEqual([ZOE]);
    expect(await find('name=obrien')).toEqual([ZOE]);
    expect(await find("name=o'brien")).toEqual([ZOE]);
    expect(await find('given=mary%20kate')).toEqual([MARY]);
  });

  it('matches each word as a prefix by default, anywhere with :contains, whole and exact with :exact', async () => {
    expect(sorted(await find('name=jo'))).toEqual(sorted([JOHN_1970, JOHN_1985, JOSE]));
    expect(await find('name=smi%20jo')).toHaveLength(2);
    expect(await find('name=mith')).toEqual([]);
    expect(sorted(await find('name:contains=mith'))).toEqual(sorted([JOHN_1970, JOHN_1985]));
    expect(await find('family:contains=rie')).toEqual([ZOE]);
    expect(await find('family:exact=Smith')).toHaveLength(2);
    expect(await find('family:exact=smith')).toEqual([]);
    expect(await find('family:exact=Smi')).toEqual([]);
    expect(await find('family:exact=%C3%81lvarez-N%C3%BA%C3%B1ez')).toEqual([JOSE]);
    expect(await find('family:exact=Alvarez-Nunez')).toEqual([]);
  });

  it('searches birthdate by whole days, months and years with every prefix', async () => {
    expect(await find('birthdate=1970-01-15')).toEqual([JOHN_1970]);
    expect(await find('birthdate=1985')).toEqual([JOHN_1985]);
    expect(await find('birthdate=1985-06')).toEqual([JOHN_1985]);
    expect(await find('birthdate=eq1985-06-29')).toEqual([]);
    expect(sorted(await find('birthdate=ge1985-06-30'))).toEqual(sorted([JOHN_1985, JOSE, ZOE]));
    expect(sorted(await find('birthdate=gt1985-06-30'))).toEqual(sorted([JOSE, ZOE]));
    expect(sorted(await find('birthdate=le1970-01-15'))).toEqual(sorted([MARY, JOHN_1970]));
    expect(await find('birthdate=lt1970-01-15')).toEqual([MARY]);
    expect(await find('birthdate=ne1970-01-15')).toHaveLength(4);
    expect(sorted(await find('birthdate=sa1985'))).toEqual(sorted([JOSE, ZOE]));
    expect(await find('birthdate=eb1970')).toEqual([MARY]);
    expect(await find('birthdate=gt1970')).toHaveLength(3);
  });

  it('ORs comma-separated values and ANDs repeated parameters', async () => {
    expect(sorted(await find('birthdate=1970-01-15,1962-07-04'))).toEqual(sorted([JOHN_1970, MARY]));
    expect(sorted(await find('birthdate=ge1970&birthdate=lt1986'))).toEqual(sorted([JOHN_1970, JOHN_1985]));
    expect(await find('name=john&birthdate=1985')).toEqual([JOHN_1985]);
    expect(sorted(await find('gender=female,male&name=smith,lee'))).toEqual(
      sorted([JOHN_1970, JOHN_1985, MARY]),
    );
  });

  it('searches gender as a token with or without its system, and :not', async () => {
    expect(await find('gender=male')).toHaveLength(3);
    expect(sorted(await find('gender=http://hl7.org/fhir/administrative-gender|female'))).toEqual(
      sorted([ZOE, MARY]),
    );
    expect(await find('gender=http://example.org/other|female')).toEqual([]);
    expect(sorted(await find('gender:not=male'))).toEqual(sorted([ZOE, MARY]));
  });

  it('searches identifier as system|value, value, |value and system|', async () => {
    expect(await find('identifier=urn:switchboard:tiny:mrn|RFM000001')).toEqual([JOHN_1970]);
    expect(await find('identifier=RFM000002')).toEqual([JOHN_1985]);
    expect(await find('identifier=|RFM000001')).toEqual([]);
    expect(await find('identifier=urn:switchboard:tiny:mrn|')).toHaveLength(5);
    expect(await find('identifier=urn:other|RFM000001')).toEqual([]);
  });

  it('compares phone numbers by their digits and email addresses without case', async () => {
    expect(await find('phone=(518)%20555-0001')).toEqual([JOHN_1970]);
    expect(await find('phone=5185550004')).toEqual([ZOE]);
    expect(await find('phone=15185550004')).toEqual([ZOE]);
    expect(await find('telecom=518.555.0005')).toEqual([MARY]);
    expect(await find('email=mary.lee@example.com')).toEqual([MARY]);
    expect(await find('telecom=MARY.LEE@EXAMPLE.COM')).toEqual([MARY]);
    expect(await find('phone:missing=true')).toEqual([JOSE]);
    expect(await find('email:missing=false')).toEqual([MARY]);
  });

  it('searches _id and _lastUpdated', async () => {
    const all = matches<Patient>(await searchBundle(facade(), 'Patient?_sort=birthdate'));
    const [mary, john] = all;
    expect(sorted(await find(`_id=${mary?.id},${john?.id}`))).toEqual(sorted([MARY, JOHN_1970]));
    expect(await find(`_id:not=${mary?.id}`)).toHaveLength(4);
    const lastUpdated = mary?.meta?.lastUpdated as string;
    expect(await find(`_id=${mary?.id}&_lastUpdated=${lastUpdated}`)).toEqual([MARY]);
    expect(await find('_lastUpdated=gt2000-01-01')).toHaveLength(5);
    expect(await find('_lastUpdated=lt2000-01-01')).toEqual([]);
  });

  it('sorts by family, given and birthdate, - for descending, several keys in turn', async () => {
    // The two Smiths tie on family name; ids order them, arbitrarily but stably.
    const byFamily = await find('_sort=family');
    expect(byFamily.slice(0, 3)).toEqual([JOSE, MARY, ZOE]);
    expect(sorted(byFamily.slice(3))).toEqual(sorted([JOHN_1970, JOHN_1985]));
    expect(await find('_sort=family')).toEqual(byFamily);
    expect(await find('_sort=-birthdate')).toEqual([ZOE, JOSE, JOHN_1985, JOHN_1970, MARY]);
    expect(await find('_sort=family,-birthdate')).toEqual([JOSE, MARY, ZOE, JOHN_1985, JOHN_1970]);
    expect(sorted((await find('_sort=given')).slice(0, 2))).toEqual(sorted([JOHN_1970, JOHN_1985]));
    expect((await find('_sort=-given'))[0]).toEqual(ZOE);
  });

  it('answers _summary=count and _count=0 with the total only', async () => {
    for (const query of ['_summary=count', '_count=0']) {
      const bundle = await searchBundle(facade(), `Patient?gender=male&${query}`);
      expect(bundle.total).toBe(3);
      expect(bundle.entry).toBeUndefined();
    }
  });

  it('returns only the asked-for elements with _elements, marked SUBSETTED', async () => {
    const bundle = await searchBundle(facade(), 'Patient?name=lee&_elements=name,birthDate');
    const [lee] = matches<Patient>(bundle);
    expect(Object.keys(lee ?? {}).sort()).toEqual(['birthDate', 'id', 'meta', 'name', 'resourceType']);
    expect(lee?.meta?.tag).toContainEqual({
      system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
      code: 'SUBSETTED',
    });
  });

  it('leaves out the total with _total=none and keeps it by default', async () => {
    expect((await searchBundle(facade(), 'Patient?_total=none')).total).toBeUndefined();
    expect((await searchBundle(facade(), 'Patient?_total=accurate')).total).toBe(5);
    expect((await searchBundle(facade(), 'Patient')).total).toBe(5);
  });

  it('ignores unknown parameters, naming them in a warning, unless Prefer: handling=strict', async () => {
    const bundle = await searchBundle(facade(), 'Patient?name=lee&colour=blue');
    expect(people(bundle)).toEqual([MARY]);
    expect(outcomeIssues(bundle)).toContainEqual(
      expect.objectContaining({ severity: 'warning', expression: ['colour'] }),
    );
    expect(linkOf(bundle, 'self')).not.toContain('colour');

    const strict = await fhirGet(facade(), 'Patient?name=lee&colour=blue', { prefer: 'handling=strict' });
    const outcome = expectOutcome(strict, 400, 'colour');
    expect(outcome.issue[0]?.code).toBe('not-supported');
    expectOutcome(
      await fhirGet(facade(), 'Patient?name.family=lee', { prefer: 'handling=strict' }),
      400,
      'name.family',
    );
  });

  it('answers malformed values with 400 and an expression naming the parameter', async () => {
    const bad: Array<[string, string]> = [
      ['birthdate=1970-13-45', 'birthdate'],
      ['birthdate=soon', 'birthdate'],
      ['birthdate=ap1970', 'birthdate'],
      ['_count=-1', '_count'],
      ['_count=ten', '_count'],
      ['name:sounds-like=lee', 'name:sounds-like'],
      ['active=maybe', 'active'],
      ['_summary=some', '_summary'],
      ['_total=exact', '_total'],
      ['_elements=name.given', '_elements'],
      ['_include=*', '_include'],
      ['_cursor=not-a-cursor', '_cursor'],
      ['_sort=family&_sort=given', '_sort'],
    ];
    for (const [query, expression] of bad) {
      expectOutcome(await fhirGet(facade(), `Patient?${query}`), 400, expression);
    }
    expectOutcome(
      await fhirGet(facade(), 'Patient?_sort=colour', { prefer: 'handling=strict' }),
      400,
      '_sort',
    );
  });

  it('clamps _count to 100 and says so in a warning', async () => {
    const bundle = await searchBundle(facade(), 'Patient?_count=500');
    expect(linkOf(bundle, 'self')).toContain('_count=100');
    expect(outcomeIssues(bundle)).toContainEqual(
      expect.objectContaining({ severity: 'warning', expression: ['_count'] }),
    );
  });

  it('answers POST _search with the same Bundle as GET, through fhir-kit-client and MedplumClient', async () => {
    const h = facade();
    const viaGet = await searchBundle(h, 'Patient?family=smith&birthdate=1985');
    const viaForm = await fhirPostForm<Bundle>(h, 'Patient/_search', 'family=smith&birthdate=1985');
    expect(viaForm.status).toBe(200);
    expect(people(viaForm.body)).toEqual(people(viaGet));

    const kitPost = await kit<Bundle>(
      h.fhirKit.search({
        resourceType: 'Patient',
        searchParams: { family: 'smith', birthdate: '1985' },
        options: { postSearch: true },
      }),
    );
    expectValidFhir(kitPost);
    expect(people(kitPost)).toEqual([JOHN_1985]);

    const kitGet = await kit<Bundle>(
      h.fhirKit.search({ resourceType: 'Patient', searchParams: { name: 'jose nunez' } }),
    );
    expectValidFhir(kitGet);
    expect(people(kitGet)).toEqual([JOSE]);

    const medplum = await h.medplum.search('Patient', { name: 'zoe obrien' });
    expectValidFhir(medplum);
    expect(people(medplum)).toEqual([ZOE]);
    const found = await h.medplum.searchResources('Patient', 'gender=female&_sort=birthdate');
    found.forEach((p) => expectValidFhir(p));
    expect(found.map((p) => p.birthDate)).toEqual(['1962-07-04', '2001-12-24']);
  });
});
