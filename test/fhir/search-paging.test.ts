import type { Appointment, Bundle, Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { foldText } from '../../src/store/search-parameters/token-values.js';
import { buildDemoPractice } from '../../src/sim/demo-practice.js';
import { expectValidFhir } from '../support/fhir-validators.js';
import { testStoreFactories } from '../support/test-stores.js';
import {
  expectOutcome,
  fhirGet,
  kit,
  kitNextPage,
  linkOf,
  matches,
  searchBundle,
  useSyncedFacade,
} from './support/fhir-http.js';

/** The demo practice as of the sync harness's clock (2026-11-20). */
const demo = () => ({
  name: 'riverside',
  data: buildDemoPractice({ today: '2026-11-20', now: new Date('2026-11-20T15:00:00Z') }),
});

const familyKey = (p: Patient) => foldText(p.name?.[0]?.family ?? '');

describe.each(testStoreFactories)('paging large results over HTTP ($name)', (factory) => {
  const facade = useSyncedFacade(factory, { firm: demo() });

  it('walks every page of the appointments through next links with fhir-kit-client, each once, in date order', async () => {
    const h = facade();
    let page: Bundle | undefined = await kit<Bundle>(
      h.fhirKit.search({ resourceType: 'Appointment', searchParams: { _count: 100 } }),
    );
    const seen: Appointment[] = [];
    let total: number | undefined;
    let pages = 0;
    while (page) {
      expectValidFhir(page);
      total = page.total;
      pages++;
      expect(matches(page).length).toBeLessThanOrEqual(100);
      seen.push(...matches<Appointment>(page));
      page = await kitNextPage(h.fhirKit, page);
    }
    expect(total).toBeGreaterThan(500);
    expect(seen).toHaveLength(total as number);
    expect(new Set(seen.map((a) => a.id)).size).toBe(total);
    expect(pages).toBe(Math.ceil((total as number) / 100));
    const starts = seen.map((a) => Date.parse(a.start as string));
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
  });

  it('walks every page of the patients sorted by family name with MedplumClient', async () => {
    const h = facade();
    const seen: Patient[] = [];
    for await (const page of h.medplum.searchResourcePages('Patient', { _count: 50, _sort: 'family' })) {
      expectValidFhir(page.bundle);
      seen.push(...page);
    }
    expect(seen).toHaveLength(500);
    expect(new Set(seen.map((p) => p.id)).size).toBe(500);
    const families = seen.map(familyKey);
    expect(families).toEqual([...families].sort());
  });

  it('walks back through previous links to exactly the pages it came from', async () => {
    const h = facade();
    const first = await searchBundle(h, 'Patient?_count=25&_sort=-birthdate');
    const second = await searchBundle(h, linkOf(first, 'next') as string);
    const third = await searchBundle(h, linkOf(second, 'next') as string);
    expect(linkOf(first, 'previous')).toBeUndefined();
    const backToSecond = await searchBundle(h, linkOf(third, 'previous') as string);
    const backToFirst = await searchBundle(h, linkOf(backToSecond, 'previous') as string);
    const ids = (b: Bundle) => matches(b).map((r) => r.id);
    expect(ids(backToSecond)).toEqual(ids(second));
    expect(ids(backToFirst)).toEqual(ids(first));
    expect(linkOf(backToFirst, 'previous')).toBeUndefined();
    expect(linkOf(first, 'self')).toBe(`${h.base}/Patient?_count=25&_sort=-birthdate`);
    expect(linkOf(second, 'first')).toBe(linkOf(first, 'self'));
    expect(second.total).toBe(500);
  });

  it('refuses a cursor made for another sort order', async () => {
    const h = facade();
    const first = await searchBundle(h, 'Patient?_count=10&_sort=family');
    const cursor = new URL(linkOf(first, 'next') as string).searchParams.get('_cursor') as string;
    expectOutcome(await fhirGet(h, `Patient?_count=10&_sort=given&_cursor=${cursor}`), 400, '_cursor');
    expect((await fhirGet(h, `Patient?_count=10&_sort=family&_cursor=${cursor}`)).status).toBe(200);
  });

  // Last: it adds patients to the shared practice.
  it('neither repeats nor skips the patients that existed when paging began, while patients are added', async () => {
    const h = facade();
    const seen: Patient[] = [];
    let page: Bundle | undefined = await searchBundle(h, 'Patient?_count=50&_sort=family');
    seen.push(...matches<Patient>(page));
    page = await searchBundle(h, linkOf(page, 'next') as string);
    seen.push(...matches<Patient>(page));
    const original = page.total as number;

    // Two new patients: one sorting before the pages already read (an offset would now repeat a row), one after.
    for (const lastName of ['Aaberg', 'Zyzzyva']) {
      const created = await h.sync.frontDesk('riverside', 'POST', '/patients', {
        firstName: 'Nova',
        lastName,
        dob: '2000-01-01',
        gender: 'female',
        phone: null,
        email: null,
        address: null,
      });
      expect(created.status).toBe(201);
    }
    await h.syncNow();

    while (linkOf(page, 'next')) {
      page = await searchBundle(h, linkOf(page, 'next') as string);
      seen.push(...matches<Patient>(page));
    }
    expect(page.total).toBe(original + 2);
    const ids = seen.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const families = seen.map((p) => p.name?.[0]?.family);
    expect(families).toContain('Zyzzyva');
    expect(families).not.toContain('Aaberg');
    expect(seen).toHaveLength(original + 1);
    expect(seen.map(familyKey)).toEqual([...seen.map(familyKey)].sort());
  });
});
