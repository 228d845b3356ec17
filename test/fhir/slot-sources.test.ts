import type { Bundle, Slot } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import type { FhirRequestContext } from '../../fhir/access.js';
import { countInMemory, pageInMemory, type SearchSource } from '../../fhir/search/search-sources.js';
import { expectValidFhir } from '../support/fhir-validators.js';
import { testStoreFactories } from '../support/test-stores.js';
import {
  fhirGet,
  included,
  linkOf,
  matches,
  outcomeIssues,
  searchBundle,
  useSyncedFacade,
} from './support/fhir-http.js';

const FREE_PER_SCHEDULE = 150;

/**
 * A stand-in for the computed free-slot source: 150 fifteen-minute free Slots per stored Schedule from
 * 2026-11-24T13:00Z, with deterministic ids, filtered, sorted and paged by the facade's own in-memory helpers.
 */
function freeSlotSource(): SearchSource {
  const slotsFor = async (ctx: FhirRequestContext): Promise<Slot[]> => {
    const schedules = await ctx.store.db
      .selectFrom('resources')
      .select('id')
      .where('tenant_id', '=', ctx.tenant.id)
      .where('resource_type', '=', 'Schedule')
      .orderBy('id')
      .execute();
    return schedules.flatMap(({ id }) =>
      Array.from({ length: FREE_PER_SCHEDULE }, (_, i): Slot => {
        const start = Date.parse('2026-11-24T13:00:00Z') + i * 15 * 60_000;
        return {
          resourceType: 'Slot',
          id: `free-${id.slice(0, 8)}-${i}`,
          schedule: { reference: `Schedule/${id}` },
          status: 'free',
          start: new Date(start).toISOString(),
          end: new Date(start + 15 * 60_000).toISOString(),
        };
      }),
    );
  };
  return {
    page: async (query) => pageInMemory(await slotsFor(query.ctx), query),
    count: async (query) => countInMemory(await slotsFor(query.ctx), query),
    read: async (ctx, id) => (await slotsFor(ctx)).find((s) => s.id === id),
  };
}

describe.each(testStoreFactories)('Slot search merging a second source of Slots ($name)', (factory) => {
  const facade = useSyncedFacade(factory, { searchSources: { Slot: [freeSlotSource()] } });
  const STORED = 4;

  it('merges computed free Slots with stored busy ones in start order, across pages, each once', async () => {
    const h = facade();
    let page: Bundle | undefined = await searchBundle(h, 'Slot?_count=40');
    const seen: Slot[] = [];
    while (page) {
      expect(page.total).toBe(STORED + 2 * FREE_PER_SCHEDULE);
      seen.push(...matches<Slot>(page));
      const next = linkOf(page, 'next');
      page = next ? await searchBundle(h, next) : undefined;
    }
    expect(seen).toHaveLength(STORED + 2 * FREE_PER_SCHEDULE);
    expect(new Set(seen.map((s) => s.id)).size).toBe(seen.length);
    const starts = seen.map((s) => Date.parse(s.start));
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    expect(seen.filter((s) => s.status === 'busy-unavailable')).toHaveLength(STORED);

    const first = await searchBundle(h, 'Slot?_count=40&_sort=-start');
    const second = await searchBundle(h, linkOf(first, 'next') as string);
    const back = await searchBundle(h, linkOf(second, 'previous') as string);
    expect(matches(back).map((s) => s.id)).toEqual(matches(first).map((s) => s.id));
  });

  it('applies the same criteria to computed Slots as to stored ones', async () => {
    const h = facade();
    const [schedule] = matches(await searchBundle(h, 'Schedule?_count=1'));
    const free = await searchBundle(
      h,
      `Slot?status=free&schedule=Schedule/${schedule?.id}&start=ge2026-11-24T15:00:00Z&start=lt2026-11-24T16:00:00Z`,
    );
    expect(free.total).toBe(4);
    expect(matches<Slot>(free).map((s) => s.start)).toEqual([
      '2026-11-24T15:00:00.000Z',
      '2026-11-24T15:15:00.000Z',
      '2026-11-24T15:30:00.000Z',
      '2026-11-24T15:45:00.000Z',
    ]);
    expect((await searchBundle(h, 'Slot?status=busy-unavailable')).total).toBe(STORED);
    expect((await searchBundle(h, 'Slot?_summary=count&status=free')).total).toBe(2 * FREE_PER_SCHEDULE);
  });

  it('reads a computed Slot by id and includes its Schedule', async () => {
    const h = facade();
    const [slot] = matches<Slot>(await searchBundle(h, 'Slot?status=free&_count=1&_include=Slot:schedule'));
    const answer = await fhirGet<Slot>(h, `Slot/${slot?.id}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(slot);
    const withSchedule = await searchBundle(h, `Slot?_id=${slot?.id}&_include=Slot:schedule`);
    expect(included(withSchedule).map((r) => `Schedule/${r.id}`)).toEqual([slot?.schedule.reference]);
    expectValidFhir(withSchedule);
  });

  it('rev-includes computed Slots on a Schedule search, at most 200 per page, saying when it left some out', async () => {
    const h = facade();
    const bundle = await searchBundle(h, 'Schedule?_revinclude=Slot:schedule');
    expect(matches(bundle)).toHaveLength(2);
    expect(included(bundle)).toHaveLength(200);
    expect(outcomeIssues(bundle)).toContainEqual(
      expect.objectContaining({ severity: 'warning', code: 'too-costly', expression: ['_revinclude'] }),
    );
  });
});
