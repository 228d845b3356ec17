/**
 * Free Slots of the demo practice through the FHIR API (DESIGN.md sections 2 and 4): the facade over real HTTP
 * with the computed slot source, the sim's demo practice generated for Saturday 2026-11-21 and the harness clock
 * at Friday 2026-11-20T15:00Z (10:00 in New York), on both dialects. Every body is checked by both validators.
 */
import type { Bundle, CapabilityStatement, Location, Practitioner, Schedule, Slot } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { createComputedSlotSource } from '../../fhir/search/computed-slot-source.js';
import { claimTime, releaseClaims } from '../../src/booking/time-claims.js';
import { buildDemoPractice } from '../../src/sim/demo-practice.js';
import type { SimAppointment } from '../../src/sim/sim-types.js';
import { instantToWallTime, isoWeekdayOf, wallTimeToInstant } from '../../src/wall-time.js';
import { expectValidFhir } from '../support/fhir-validators.js';
import { testStoreFactories } from '../support/test-stores.js';
import type { FacadeHarness } from './support/facade-harness.js';
import {
  fhirGet,
  kit,
  kitNextPage,
  linkOf,
  matches,
  searchBundle,
  useSyncedFacade,
} from './support/fhir-http.js';

const FIRM = 'riverside';
const ZONE = 'America/New_York';
const THANKSGIVING = '2026-11-26';
const NOW = Date.parse('2026-11-20T15:00:00Z');
const NOTICE_MS = 60 * 60_000;
const data = buildDemoPractice({ today: '2026-11-21' });

const wallOf = (iso: string): string => instantToWallTime(new Date(iso), ZONE);
const dateOf = (slot: Slot): string => wallOf(slot.start).slice(0, 10);
const clockOf = (slot: Slot): string => wallOf(slot.start).slice(11);
const weekdayOf = (slot: Slot): number => isoWeekdayOf(dateOf(slot));
const minutesOf = (slot: Slot): number => (Date.parse(slot.end) - Date.parse(slot.start)) / 60_000;
const codesOf = (slot: Slot): string[] => (slot.serviceType ?? []).map((c) => c.coding?.[0]?.code ?? '');
const scheduleOf = (slot: Slot): string => slot.schedule.reference?.split('/')[1] ?? '';
const idsOf = (slots: readonly Slot[]): string[] => slots.map((s) => s.id ?? '');
const overlaps = (slot: Slot, start: number, end: number): boolean =>
  Date.parse(slot.start) < end && start < Date.parse(slot.end);

/** Every page of a search, following `next` links: each Slot once, as many as the total says. */
async function allPages(h: FacadeHarness, query: string): Promise<Slot[]> {
  let bundle = await searchBundle(h, query);
  const total = bundle.total;
  const slots = [...matches<Slot>(bundle)];
  for (let next = linkOf(bundle, 'next'); next; next = linkOf(bundle, 'next')) {
    bundle = await searchBundle(h, next);
    slots.push(...matches<Slot>(bundle));
  }
  expect(slots, query).toHaveLength(total ?? -1);
  expect(new Set(idsOf(slots)).size, query).toBe(slots.length);
  return slots;
}

describe.each(testStoreFactories)('free Slots of the demo practice over FHIR ($name)', (factory) => {
  const facade: () => FacadeHarness = useSyncedFacade(factory, {
    firm: { name: FIRM, data },
    searchSources: { Slot: [createComputedSlotSource({ now: () => facade().sync.clock.now() })] },
  });
  /** Upstream last name → FHIR Practitioner id; FHIR Schedule id → its practitioner and location ids. */
  const practitioner: Record<string, string> = {};
  const location: Record<string, string> = {};
  const schedules = new Map<string, { practitionerId: string; locationId: string }>();
  let typeSystem = '';

  beforeAll(async () => {
    const h = facade();
    expect(h.sync.clock.now().getTime()).toBe(NOW);
    for (const p of matches<Practitioner>(await searchBundle(h, 'Practitioner?_count=100')))
      practitioner[p.name?.[0]?.family ?? ''] = p.id ?? '';
    for (const l of matches<Location>(await searchBundle(h, 'Location?_count=100')))
      location[(l.name ?? '').includes('Northgate') ? 'northgate' : 'main'] = l.id ?? '';
    for (const s of matches<Schedule>(await searchBundle(h, 'Schedule?_count=100'))) {
      const actor = (type: string) =>
        s.actor.find((a) => a.reference?.startsWith(`${type}/`))?.reference?.split('/')[1] ?? '';
      schedules.set(s.id ?? '', { practitionerId: actor('Practitioner'), locationId: actor('Location') });
      typeSystem ||= s.serviceType?.[0]?.coding?.[0]?.system ?? '';
    }
    expect(Object.keys(practitioner).sort()).toEqual(['Chen', 'Johnson', 'Martinez', 'Williams']);
    expect(typeSystem).not.toBe('');
  });

  const schedulesOf = (lastName: string): Set<string> =>
    new Set([...schedules].filter(([, s]) => s.practitionerId === practitioner[lastName]).map(([id]) => id));
  const providerOf = (slot: Slot): number => {
    const id = schedules.get(scheduleOf(slot))?.practitionerId;
    const lastName = Object.keys(practitioner).find((name) => practitioner[name] === id);
    return data.providers.find((p) => p.lastName === lastName)?.id ?? 0;
  };
  const typeOf = (code: string) => {
    const type = data.appointmentTypes.find((t) => t.code === code);
    if (!type) throw new Error(`no type ${code}`);
    return type;
  };
  const free = (lastName: string | undefined, window: string, extra = '') =>
    allPages(
      facade(),
      `Slot?status=free&_count=100${lastName ? `&practitioner=Practitioner/${practitioner[lastName]}` : ''}&${window}${extra}`,
    );

  it('offers free Slots on working days only: never on weekends, on Thanksgiving or before now plus the notice', async () => {
    const slots = await free(undefined, 'start=ge2026-11-20&start=lt2026-12-01');
    expect(slots.length).toBeGreaterThan(100);
    for (const slot of slots) {
      expect(weekdayOf(slot), slot.id).toBeLessThan(6);
      expect(dateOf(slot), slot.id).not.toBe(THANKSGIVING);
      expect(Date.parse(slot.start), slot.id).toBeGreaterThanOrEqual(NOW + NOTICE_MS);
      expect(slot.status).toBe('free');
    }
    // The rest of today after the notice, then every working day but Thanksgiving.
    expect([...new Set(slots.map(dateOf))].sort()).toEqual([
      '2026-11-20',
      '2026-11-23',
      '2026-11-24',
      '2026-11-25',
      '2026-11-27',
      '2026-11-30',
    ]);
    const starts = slots.map((s) => Date.parse(s.start));
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    expect(new Set(slots.map(providerOf))).toEqual(new Set(data.providers.map((p) => p.id)));
  });

  it('never offers a slot overlapping a booked appointment of that practitioner', async () => {
    const slots = await free(undefined, 'start=ge2026-11-30&start=lt2026-12-05');
    const busy = data.appointments
      .filter((a) => a.status !== 'cancelled' && a.status !== 'no-show' && a.start >= '2026-11-29')
      .map((a) => {
        const start = wallTimeToInstant(a.start, ZONE).getTime();
        return { providerId: a.providerId, start, end: start + a.durationMinutes * 60_000 };
      });
    expect(busy.length).toBeGreaterThan(50);
    for (const slot of slots) {
      const clash = busy.find((a) => a.providerId === providerOf(slot) && overlaps(slot, a.start, a.end));
      expect(clash, slot.id).toBeUndefined();
    }
  });

  it('offers Dr. Williams nothing during his vacation next week, and shows the vacation as his busy Slots', async () => {
    const slots = await free('Williams', 'start=ge2026-11-23&start=lt2026-12-05');
    const dates = new Set(slots.map(dateOf));
    for (const date of ['2026-11-23', '2026-11-24', '2026-11-25', '2026-11-27'])
      expect(dates.has(date), date).toBe(false);
    expect([...dates].some((d) => d >= '2026-11-30' && d <= '2026-12-04')).toBe(true);
    const own = schedulesOf('Williams');
    expect(own.size).toBe(2);
    for (const slot of slots) expect(own.has(scheduleOf(slot)), slot.id).toBe(true);

    const blocks = matches<Slot>(
      await searchBundle(
        facade(),
        `Slot?status=busy-unavailable&practitioner=${practitioner.Williams}&start=lt2026-11-28&_count=100`,
      ),
    );
    const midVacation = Date.parse('2026-11-24T17:00:00Z');
    expect(
      blocks
        .filter((b) => overlaps(b, midVacation, midVacation + 1))
        .map(scheduleOf)
        .sort(),
    ).toEqual([...own].sort());
    for (const block of blocks) expect(own.has(scheduleOf(block)), block.id).toBe(true);
  });

  it('offers Dr. Martinez nothing on Fridays', async () => {
    const slots = await free('Martinez', 'start=ge2026-11-27&start=lt2026-12-12');
    expect(slots.length).toBeGreaterThan(0);
    expect(slots.filter((s) => weekdayOf(s) === 5)).toEqual([]);
    expect(new Set(slots.map(weekdayOf))).toEqual(new Set([1, 2, 3, 4]));
  });

  it("offers Dr. Chen nothing in her extended lunch, though other days' afternoons start at 13:00", async () => {
    const block = data.blocks.find((b) => b.reason === 'Extended lunch' && b.start >= '2026-11-21');
    expect(block).toBeDefined();
    const day = block?.start.slice(0, 10) ?? '';
    const start = wallTimeToInstant(block?.start ?? '', ZONE).getTime();
    const end = wallTimeToInstant(block?.end ?? '', ZONE).getTime();
    const slots = await free('Chen', `start=ge${day}&start=le${day}`);
    expect(slots.length).toBeGreaterThan(0);
    expect(slots.filter((s) => overlaps(s, start, end))).toEqual([]);
    expect(slots.some((s) => clockOf(s) === '14:00')).toBe(true);
    const later = await free('Chen', 'start=ge2026-12-07&start=lt2027-01-01');
    expect(later.some((s) => dateOf(s) !== day && clockOf(s) === '13:00')).toBe(true);
  });

  it('offers new-patient visits with Dr. Johnson only on Tuesday afternoons, and never his Tuesday mornings', async () => {
    const window = 'start=ge2026-11-20&start=lt2026-12-12';
    const newPatient = await free('Johnson', window, '&service-type=new-patient');
    expect(newPatient.length).toBeGreaterThan(0);
    for (const slot of newPatient) {
      expect(weekdayOf(slot), slot.id).toBe(2);
      expect(clockOf(slot) >= '13:00', slot.id).toBe(true);
      expect(codesOf(slot)).toContain('new-patient');
    }
    const bySystem = await free(
      'Johnson',
      window,
      `&service-type=${encodeURIComponent(`${typeSystem}|new-patient`)}`,
    );
    expect(idsOf(bySystem)).toEqual(idsOf(newPatient));
    expect(await free('Johnson', window, '&service-type=other-system%7Cnew-patient')).toEqual([]);

    const all = await free('Johnson', window);
    expect(all.filter((s) => weekdayOf(s) === 2 && clockOf(s) < '12:00')).toEqual([]);
    expect(idsOf(all.filter((s) => codesOf(s).includes('new-patient')))).toEqual(idsOf(newPatient));
    // Other practitioners see new patients whenever they work.
    const martinez = await free('Martinez', window, '&service-type=new-patient');
    expect(new Set(martinez.map(weekdayOf)).size).toBeGreaterThan(1);
  });

  it('lasts exactly the duration of each appointment type it offers', async () => {
    const slots = await free(undefined, 'start=ge2026-11-30&start=lt2026-12-02');
    for (const slot of slots) {
      expect(codesOf(slot).length, slot.id).toBeGreaterThan(0);
      for (const code of codesOf(slot)) expect(minutesOf(slot), slot.id).toBe(typeOf(code).durationMinutes);
    }
    expect(new Set(slots.map(minutesOf))).toEqual(new Set([15, 20, 30, 45]));
    expect(slots.some((s) => codesOf(s).includes('procedure-consult'))).toBe(true);
    for (const slot of slots.filter((s) => codesOf(s).includes('procedure-consult')))
      expect(['Johnson', 'Chen'].map((n) => practitioner[n])).toContain(
        schedules.get(scheduleOf(slot))?.practitionerId,
      );
  });

  it('gives the same ids to the same search twice, and reads each back by id', async () => {
    const h = facade();
    const query = `Slot?status=free&practitioner=${practitioner.Martinez}&start=2026-12-01&_count=100`;
    const first = matches<Slot>(await searchBundle(h, query));
    const second = matches<Slot>(await searchBundle(h, query));
    expect(first.length).toBeGreaterThan(5);
    expect(idsOf(second)).toEqual(idsOf(first));
    for (const slot of [first[0], first[first.length - 1]] as Slot[]) {
      const read = await fhirGet<Slot>(h, `Slot/${slot.id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(slot);
    }
    const pair = [first[0], first[1]] as Slot[];
    const byId = await searchBundle(h, `Slot?_id=${idsOf(pair).join(',')}`);
    expect(byId.total).toBe(2);
    expect(idsOf(matches(byId))).toEqual(idsOf(pair));
    // Well-formed ids of a time nobody works (a Saturday) and of a length no type has are simply not found.
    const saturday = (first[0]?.id ?? '').replace(/\.20261201(\d{4})\./, '.20261205$1.');
    expect((await fhirGet(h, `Slot/${saturday}`)).status).toBe(404);
    expect((await fhirGet(h, `Slot/${first[0]?.id}9`)).status).toBe(404);
  });

  it('pages through a week of free slots with fhir-kit-client and MedplumClient, each slot once', async () => {
    const h = facade();
    const params = {
      status: 'free',
      practitioner: `Practitioner/${practitioner.Chen}`,
      start: ['ge2026-11-30', 'lt2026-12-05'],
      _count: '15',
    };
    const expected = await free('Chen', 'start=ge2026-11-30&start=lt2026-12-05');
    expect(expected.length).toBeGreaterThan(45);

    const kitSeen: Slot[] = [];
    let page: Bundle | undefined = await kit<Bundle>(
      h.fhirKit.search({ resourceType: 'Slot', searchParams: params }),
    );
    while (page) {
      expectValidFhir(page);
      expect(page.total).toBe(expected.length);
      kitSeen.push(...matches<Slot>(page));
      page = await kitNextPage(h.fhirKit, page);
    }
    expect(idsOf(kitSeen)).toEqual(idsOf(expected));

    const medplumSeen: Slot[] = [];
    const query = new URLSearchParams([
      ['status', 'free'],
      ['practitioner', params.practitioner],
      ['start', 'ge2026-11-30'],
      ['start', 'lt2026-12-05'],
      ['_count', '15'],
    ]);
    for await (const slots of h.medplum.searchResourcePages('Slot', query)) {
      expectValidFhir(slots.bundle);
      medplumSeen.push(...slots);
    }
    expect(idsOf(medplumSeen)).toEqual(idsOf(expected));
  });

  it('asks by practitioner, location and appointment type, as metadata advertises', async () => {
    const h = facade();
    const statement = (await fhirGet<CapabilityStatement>(h, 'metadata')).body;
    const slotParams = statement.rest?.[0]?.resource?.find((r) => r.type === 'Slot')?.searchParam ?? [];
    for (const name of ['practitioner', 'location']) {
      expect(slotParams.find((p) => p.name === name)).toMatchObject({
        type: 'reference',
        definition: `https://switchboard.health/fhir/SearchParameter/Slot-${name}`,
        documentation: expect.stringContaining('Schedule'),
      });
    }
    expect(slotParams.find((p) => p.name === 'service-type')?.type).toBe('token');

    const window = 'start=ge2026-11-30T00:00:00-05:00&start=lt2026-12-03T00:00:00-05:00';
    const wide = await free(undefined, window);
    const within = (ids: Set<string>) => idsOf(wide.filter((s) => ids.has(scheduleOf(s))));
    const at = (place: string) =>
      new Set([...schedules].filter(([, s]) => s.locationId === location[place]).map(([id]) => id));

    const chenSick = await free('Chen', window, '&service-type=sick-visit');
    expect(chenSick.length).toBeGreaterThan(0);
    expect(idsOf(chenSick)).toEqual(
      idsOf(wide.filter((s) => schedulesOf('Chen').has(scheduleOf(s)) && codesOf(s).includes('sick-visit'))),
    );
    const q = (params: string) => allPages(h, `Slot?status=free&_count=100&${window}&${params}`);
    expect(idsOf(await q(`practitioner=${practitioner.Williams}`))).toEqual(within(schedulesOf('Williams')));
    expect(idsOf(await q(`practitioner:Practitioner=${practitioner.Williams},${practitioner.Chen}`))).toEqual(
      within(new Set([...schedulesOf('Williams'), ...schedulesOf('Chen')])),
    );
    expect(idsOf(await q(`location=Location/${location.northgate}`))).toEqual(within(at('northgate')));
    expect(idsOf(await q(`location=${location.northgate}&practitioner=${practitioner.Williams}`))).toEqual(
      within(new Set([...at('northgate')].filter((id) => schedulesOf('Williams').has(id)))),
    );
    const [someSchedule] = schedulesOf('Martinez');
    expect(idsOf(await q(`schedule=Schedule/${someSchedule}`))).toEqual(
      within(new Set([someSchedule ?? ''])),
    );
    expect(idsOf(await q('service-type=procedure-consult'))).toEqual(
      idsOf(wide.filter((s) => codesOf(s).includes('procedure-consult'))),
    );
    expect(await q(`practitioner=no-such-practitioner`)).toEqual([]);
    expect(await q(`location=${practitioner.Chen}`)).toEqual([]);
    const count = await searchBundle(
      h,
      `Slot?_summary=count&status=free&${window}&practitioner=${practitioner.Chen}`,
    );
    expect(count.total).toBe(within(schedulesOf('Chen')).length);
  });

  it('never offers time held by a booking in flight, and offers it again once released', async () => {
    const h = facade();
    const window = 'start=ge2026-12-02&start=lt2026-12-03';
    const before = await free('Martinez', window);
    const target = before.find((s) => minutesOf(s) === 30) as Slot;
    expect(target).toBeDefined();
    const start = new Date(target.start);
    const end = new Date(target.end);
    await h.store.write((trx) =>
      claimTime(trx, h.tenant, practitioner.Martinez ?? '', start, end, 'saga-under-test'),
    );
    const held = await free('Martinez', window);
    expect(held.filter((s) => overlaps(s, start.getTime(), end.getTime()))).toEqual([]);
    expect(idsOf(held)).toEqual(idsOf(before.filter((s) => !overlaps(s, start.getTime(), end.getTime()))));
    expect((await fhirGet(h, `Slot/${target.id}`)).status).toBe(404);

    await h.store.write((trx) => releaseClaims(trx, h.tenant, 'saga-under-test'));
    expect(idsOf(await free('Martinez', window))).toEqual(idsOf(before));
    expect((await fhirGet(h, `Slot/${target.id}`)).status).toBe(200);
  });

  // Near the end: it changes the practice's reference data in the sim, and puts it back.
  it('offers the hours of a new working-hours template after the reference sync, and stops when it is removed', async () => {
    const h = facade();
    const referencePass = async () => {
      const report = await h.sync.engine.runStream(FIRM, 'reference');
      expect(report.outcome).toBe('ok');
    };
    const window = 'start=ge2026-12-04&start=lt2026-12-05'; // a Friday: Dr. Martinez's day off
    // Searched first, so whatever availability derives from the Schedules is cached before the change.
    expect(await free('Martinez', window)).toEqual([]);
    const martinez = data.providers.find((p) => p.lastName === 'Martinez')?.id as number;
    const templates = h.sync.sim.state(FIRM).templates;
    const usual = templates.find((t) => t.providerId === martinez) as (typeof templates)[number];
    const added = { ...usual, id: 9_999, weekday: 5, start: '09:00', end: '11:00' };
    templates.push(added);
    try {
      // Not before the change reaches the store.
      expect(await free('Martinez', window)).toEqual([]);
      await referencePass();
      const friday = await free('Martinez', window);
      expect(friday.length).toBeGreaterThan(0);
      for (const slot of friday) {
        expect(clockOf(slot) >= '09:00' && clockOf(slot) < '11:00', slot.id).toBe(true);
        expect(providerOf(slot)).toBe(martinez);
      }
    } finally {
      templates.splice(templates.indexOf(added), 1);
    }
    await referencePass();
    expect(await free('Martinez', window)).toEqual([]);
  });

  // Last: it books and cancels in the sim (and leaves the practice as it found it).
  it('removes the overlapping slots after a front-desk booking syncs in the hot pass, and brings them back when it is cancelled', async () => {
    const h = facade();
    const hotPass = async () => {
      const report = await h.sync.engine.runStream(FIRM, 'window-hot');
      expect(report.outcome).toBe('ok');
    };
    // The engine runs a hot pass every few seconds; one first also replaces sim connections closed while idle.
    await hotPass();
    const window = 'start=ge2026-12-01&start=lt2026-12-04';
    const before = await free('Chen', window);
    const target = before.find((s) => minutesOf(s) === 30) as Slot;
    expect(target).toBeDefined();
    const sick = typeOf('sick-visit');
    const start = Date.parse(target.start);
    const end = start + sick.durationMinutes * 60_000;
    expect(before.filter((s) => overlaps(s, start, end)).length).toBeGreaterThan(2);

    const chen = data.providers.find((p) => p.lastName === 'Chen')?.id;
    const created = await h.sync.frontDesk<SimAppointment>(FIRM, 'POST', '/appointments', {
      patientId: data.patients[0]?.id,
      providerId: chen,
      locationId: data.templates.find((t) => t.providerId === chen)?.locationId,
      appointmentTypeId: sick.id,
      start: wallOf(target.start),
      durationMinutes: sick.durationMinutes,
    });
    expect(created.status).toBe(201);
    // Not before the records system's change reaches the store.
    expect((await fhirGet(h, `Slot/${target.id}`)).status).toBe(200);
    await hotPass();
    const booked = await free('Chen', window);
    expect(booked.filter((s) => overlaps(s, start, end))).toEqual([]);
    expect(idsOf(booked)).toEqual(idsOf(before.filter((s) => !overlaps(s, start, end))));
    expect((await fhirGet(h, `Slot/${target.id}`)).status).toBe(404);

    const cancelled = await h.sync.frontDesk(FIRM, 'POST', `/appointments/${created.body.id}/cancel`, {
      reason: 'Feeling better',
    });
    expect(cancelled.status).toBe(200);
    await hotPass();
    expect(idsOf(await free('Chen', window))).toEqual(idsOf(before));
    expect((await fhirGet<Slot>(h, `Slot/${target.id}`)).body).toEqual(target);
  });
});
