/**
 * The computed slot source's window and matching rules, slot by slot, on the tiny firm (DESIGN.md section 4):
 * harness clock Friday 2026-11-20T15:00Z (10:00 in New York), minimum notice 60 minutes, horizon 90 days. Johnson
 * works Mondays 08–12 (follow-up FU 15 min, new patient NP 45 min) and Tuesdays 13–17 (NP only); Martínez Mondays
 * 09–17 and Wednesdays 09–12 (FU only), with a staff meeting on Monday 2026-11-23 12–14. Booked: Johnson 11-23
 * 09:00 FU, Martínez 11-23 10:00 FU. Thanksgiving closes the practice.
 */
import type { Bundle, Location, OperationOutcome, Practitioner, Schedule, Slot } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { createComputedSlotSource } from '../../fhir/search/computed-slot-source.js';
import { commitChanges } from '../../src/events/change-writer.js';
import { readResource } from '../../src/store/resource-store.js';
import { instantToWallTime } from '../../src/wall-time.js';
import { testStoreFactories } from '../support/test-stores.js';
import type { FacadeHarness } from './support/facade-harness.js';
import { fhirGet, included, matches, searchBundle, useSyncedFacade } from './support/fhir-http.js';

const ZONE = 'America/New_York';
const wall = (slot: Slot): string => instantToWallTime(new Date(slot.start), ZONE);
const minutesOf = (slot: Slot): number => (Date.parse(slot.end) - Date.parse(slot.start)) / 60_000;
const codesOf = (slot: Slot): string[] => (slot.serviceType ?? []).map((c) => c.coding?.[0]?.code ?? '');

/** `HH:mm` every 15 minutes from `from` up to and including `last`. */
function grid(from: string, last: string): string[] {
  const minutes = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3));
  const times: string[] = [];
  for (let m = minutes(from); m <= minutes(last); m += 15)
    times.push(`${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`);
  return times;
}

describe.each(testStoreFactories)('computed free Slots of the tiny firm ($name)', (factory) => {
  const facade: () => FacadeHarness = useSyncedFacade(factory, {
    searchSources: { Slot: [createComputedSlotSource({ now: () => facade().sync.clock.now() })] },
  });
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const h = facade();
    for (const p of matches<Practitioner>(await searchBundle(h, 'Practitioner')))
      ids[p.name?.[0]?.family ?? ''] = p.id ?? '';
    for (const l of matches<Location>(await searchBundle(h, 'Location'))) ids[l.name ?? ''] = l.id ?? '';
    for (const s of matches<Schedule>(await searchBundle(h, 'Schedule'))) {
      const johnson = s.actor.some((a) => a.reference === `Practitioner/${ids.Johnson}`);
      ids[johnson ? 'schedule Johnson' : 'schedule Martínez'] = s.id ?? '';
    }
  });
  const search = async (query: string): Promise<Bundle> => searchBundle(facade(), query);
  const slots = async (query: string): Promise<Slot[]> => matches<Slot>(await search(query));

  it("offers Johnson's Tuesday afternoon as new-patient visits only, every 15 minutes, each ending by 17:00", async () => {
    const tuesday = await slots(`Slot?status=free&practitioner=${ids.Johnson}&start=2026-11-24`);
    expect(tuesday.map((s) => wall(s).slice(11))).toEqual(grid('13:00', '16:15'));
    for (const slot of tuesday) {
      expect(minutesOf(slot)).toBe(45);
      expect(codesOf(slot)).toEqual(['NP']);
      expect(slot.schedule.reference).toBe(`Schedule/${ids['schedule Johnson']}`);
    }
  });

  it("merges Martínez' free Monday with the stored staff meeting, in start order, by practitioner or location", async () => {
    const monday = await slots(
      `Slot?practitioner=Practitioner/${ids['Martínez']}&start=2026-11-23&_count=100`,
    );
    const free = grid('09:00', '16:45').filter((t) => t !== '10:00' && (t < '12:00' || t >= '14:00'));
    expect(monday.filter((s) => s.status === 'free').map((s) => wall(s).slice(11))).toEqual(free);
    expect(monday.filter((s) => s.status === 'free').every((s) => minutesOf(s) === 15)).toBe(true);
    const meeting = monday.filter((s) => s.status === 'busy-unavailable');
    expect(meeting.map((s) => [wall(s), s.comment])).toEqual([['2026-11-23T12:00', 'Staff meeting']]);
    expect(monday.map((s) => wall(s).slice(11))).toEqual(
      [...free, '12:00'].sort((a, b) => a.localeCompare(b)),
    );
    const atAnnex = await slots(`Slot?location=${ids['Riverside Annex']}&start=2026-11-23&_count=100`);
    expect(atAnnex.map((s) => s.id)).toEqual(monday.map((s) => s.id));
    const descending = await slots(
      `Slot?practitioner=${ids['Martínez']}&start=2026-11-23&_count=100&_sort=-start`,
    );
    expect(descending.map((s) => s.id)).toEqual(monday.map((s) => s.id).reverse());
    expect(await slots(`Slot?location=${ids['Main Street Clinic']}&practitioner=${ids['Martínez']}`)).toEqual(
      [],
    );
  });

  it('reads zone-less start bounds in the practice zone and applies every prefix as the store does', async () => {
    const martinez = `Slot?status=free&practitioner=${ids['Martínez']}`;
    const hour = await slots(`${martinez}&start=ge2026-11-23T10:00&start=lt2026-11-23T11:00`);
    expect(hour.map((s) => wall(s).slice(11))).toEqual(['10:15', '10:30', '10:45']);
    const after = await slots(`${martinez}&start=gt2026-11-23T16:15&start=le2026-11-23T16:45`);
    expect(after.map((s) => wall(s).slice(11))).toEqual(['16:30', '16:45']);
    const exact = await slots(`${martinez}&start=2026-11-23T15:30:00-05:00`);
    expect(exact.map((s) => wall(s))).toEqual(['2026-11-23T15:30']);
    const either = await slots(`${martinez}&start=2026-11-23T09:00,2026-11-25T11:45`);
    expect(either.map((s) => wall(s))).toEqual(['2026-11-23T09:00', '2026-11-25T11:45']);
    expect((await search(`${martinez}&start=ne2026-11-23&_summary=count`)).total).toBe(
      ((await search(`${martinez}&_summary=count`)).total ?? 0) - 23,
    );
    expect(await slots(`${martinez}&start=2026-11-26`)).toEqual([]); // Thanksgiving
  });

  it('offers from now plus the notice to the horizon when no start is given, and nothing outside it', async () => {
    const total = (await search('Slot?status=free&_summary=count')).total;
    expect(total).toBeGreaterThan(500);
    expect(
      (await search('Slot?status=free&start=ge2020-01-01&start=lt2030-01-01&_summary=count')).total,
    ).toBe(total);
    const [first] = await slots('Slot?status=free&_count=1');
    expect(wall(first as Slot)).toBe('2026-11-23T08:00');
    // 90 local days after Friday 2026-11-20 10:00 is Thursday 2027-02-18 10:00: the last working day before is
    // Wednesday, Martínez until noon.
    const [last] = await slots('Slot?status=free&_count=1&_sort=-start');
    expect(wall(last as Slot)).toBe('2027-02-17T11:45');
    expect(await slots('Slot?status=free&start=ge2027-02-18')).toEqual([]);
    expect(await slots('Slot?status=free&start=lt2026-11-23')).toEqual([]);
  });

  it('answers status as the store does: computed Slots are free, stored blocks busy-unavailable', async () => {
    expect((await search('Slot?status=busy-unavailable')).total).toBe(4);
    const martinez = `Slot?practitioner=${ids['Martínez']}&start=2026-11-23`;
    expect((await search(`${martinez}&status=free,busy-unavailable`)).total).toBe(24);
    expect((await search(`${martinez}&status:not=free`)).total).toBe(1);
    expect((await search(`${martinez}&status=http://hl7.org/fhir/slotstatus|free`)).total).toBe(23);
    expect((await search(`${martinez}&status=other-system|free`)).total).toBe(0);
  });

  it('reads a computed Slot by id only while it is free, and still reads stored ones', async () => {
    const h = facade();
    const johnson = ids['schedule Johnson'] as string;
    const id = (utc: string, minutes: number) => `${johnson}.${utc}.${minutes}`;
    // 09:00 New York is 14:00 UTC: the booked follow-up, and the new-patient visit from 08:30 that would overlap it.
    expect((await fhirGet(h, `Slot/${id('202611231400', 15)}`)).status).toBe(404);
    expect((await fhirGet(h, `Slot/${id('202611231330', 45)}`)).status).toBe(404);
    expect((await fhirGet(h, `Slot/${id('202611231315', 45)}`)).status).toBe(200);
    const early = await fhirGet<Slot>(h, `Slot/${id('202611231300', 45)}`);
    expect(early.status).toBe(200);
    expect(early.body).toMatchObject({
      resourceType: 'Slot',
      id: id('202611231300', 45),
      status: 'free',
      start: '2026-11-23T08:00:00-05:00',
      end: '2026-11-23T08:45:00-05:00',
      schedule: { reference: `Schedule/${johnson}` },
    });
    expect(codesOf(early.body)).toEqual(['NP']);
    const [stored] = await slots('Slot?status=busy-unavailable&_count=1');
    expect((await fhirGet(h, `Slot/${stored?.id}`)).status).toBe(200);
  });

  it('rev-includes the computed Slots of a Schedule with its stored ones', async () => {
    const bundle = await search(`Schedule?_id=${ids['schedule Martínez']}&_revinclude=Slot:schedule`);
    const slotsOf = included<Slot>(bundle);
    expect(new Set(slotsOf.map((s) => s.status))).toEqual(new Set(['free', 'busy-unavailable']));
    for (const slot of slotsOf) expect(slot.schedule.reference).toBe(`Schedule/${ids['schedule Martínez']}`);
  });

  // Last: it writes a planning horizon onto a schedule in the shared store.
  it("searches Schedules by their planning horizon, and offers nothing outside a schedule's own horizon", async () => {
    const h = facade();
    const scheduleId = ids['schedule Martínez'] as string;
    const stored = await readResource(h.store, h.tenant, 'Schedule', scheduleId);
    await commitChanges(h.store, h.tenant, [
      {
        op: 'upsert',
        resource: {
          ...(stored?.resource as Schedule & { id: string }),
          planningHorizon: { start: '2026-11-25T00:00:00-05:00', end: '2026-12-31' },
        },
      },
    ]);
    // Every synced Schedule publishes the booking horizon (2026-11-20 … 2027-02-19 here); this one is narrowed.
    const schedules = async (query: string) =>
      matches(await search(`Schedule?_id=${scheduleId}&${query}`)).map((s) => s.id);
    expect(await schedules('date=ge2026-12-01')).toEqual([scheduleId]);
    expect(await schedules('date=sa2026-11-24')).toEqual([scheduleId]);
    expect(await schedules('date=ge2027-01-01')).toEqual([]);
    expect(await schedules('date=lt2026-11-25')).toEqual([]);
    // The bare end date covers its whole day: the horizon does not end before 2026-12-31 starts.
    expect(await schedules('date=eb2026-12-31')).toEqual([]);
    expect(await schedules('date=eb2027-01-02')).toEqual([scheduleId]);
    expect(matches(await search('Schedule?date:missing=true'))).toEqual([]);
    const johnson = ids['schedule Johnson'] as string;
    expect(matches(await search(`Schedule?_id=${johnson}&date=ge2027-02-01`)).map((x) => x.id)).toEqual([
      johnson,
    ]);
    expect(matches(await search(`Schedule?_id=${johnson}&date=ge2027-03-01`))).toEqual([]);
    const martinez = `Slot?status=free&practitioner=${ids['Martínez']}`;
    expect(await slots(`${martinez}&start=2026-11-23`)).toEqual([]);
    expect((await slots(`${martinez}&start=2026-11-25`)).length).toBe(12);
    expect(await slots(`${martinez}&start=ge2027-01-01`)).toEqual([]);
  });

  // Issue 13 item 3: a slip in a type code is not "no availability".
  it("warns in the Bundle when a service-type code is not one of the practice's, naming the valid codes; 400 when strict", async () => {
    const h = facade();
    const bundle = await search('Slot?status=free&service-type=followup&start=2026-11-23');
    expect(matches(bundle)).toEqual([]);
    const outcome = bundle.entry?.find((e) => e.search?.mode === 'outcome')?.resource as OperationOutcome;
    expect(outcome.issue).toContainEqual({
      severity: 'warning',
      code: 'code-invalid',
      diagnostics: 'service-type=followup is not an appointment type of this practice; its codes are: FU, NP',
      expression: ['service-type'],
    });
    const known = await search('Slot?status=free&service-type=FU&start=2026-11-23');
    expect(known.entry?.some((e) => e.search?.mode === 'outcome') ?? false).toBe(false);
    const strict = await fhirGet<OperationOutcome>(h, 'Slot?status=free&service-type=followup', {
      Prefer: 'handling=strict',
    });
    expect(strict.status).toBe(400);
    expect(strict.body.issue[0]).toMatchObject({ code: 'code-invalid', expression: ['service-type'] });
    expect(strict.body.issue[0]?.diagnostics).toContain('its codes are: FU, NP');
  });

  // Last: it adds an appointment type to a schedule in the shared store. The known codes are derived once per
  // reference data; a Schedule write must make the next search see the new type.
  it('knows an appointment type as soon as a Schedule offering it is written', async () => {
    const h = facade();
    const codesIn = async (query: string) => {
      const bundle = await search(query);
      const outcome = bundle.entry?.find((e) => e.search?.mode === 'outcome')?.resource as
        OperationOutcome | undefined;
      return outcome?.issue.map((i) => i.diagnostics) ?? [];
    };
    expect(await codesIn('Slot?status=free&service-type=XR&start=2026-11-23')).toEqual([
      'service-type=XR is not an appointment type of this practice; its codes are: FU, NP',
    ]);
    const scheduleId = ids['schedule Martínez'] as string;
    const stored = (await readResource(h.store, h.tenant, 'Schedule', scheduleId))?.resource as Schedule & {
      id: string;
    };
    const [first] = stored.serviceType ?? [];
    if (!first) throw new Error('the schedule offers no type');
    const xray = {
      ...first,
      coding: (first.coding ?? []).map((c) => ({ ...c, code: 'XR', display: 'X-ray' })),
    };
    await commitChanges(h.store, h.tenant, [
      { op: 'upsert', resource: { ...stored, serviceType: [...(stored.serviceType ?? []), xray] } },
    ]);
    expect(await codesIn('Slot?status=free&service-type=XR&start=2026-11-23')).toEqual([]);
    expect(await codesIn('Slot?status=free&service-type=followup&start=2026-11-23')).toEqual([
      'service-type=followup is not an appointment type of this practice; its codes are: FU, NP, XR',
    ]);
  });
});
