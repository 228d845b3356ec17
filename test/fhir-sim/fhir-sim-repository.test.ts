/**
 * The FHIR simulator's quicker search (src/fhir-sim/fhir-sim-repository.ts) answers exactly what Medplum's
 * `MemoryRepository` answers: same entries in the same order, same total, over the demo practice and seeded random
 * searches bounding the start (date, dateTime with offsets, one or both ends), with sorts, offsets and counts.
 */
import { parseSearchRequest, type SearchRequest } from '@medplum/core';
import { MemoryRepository } from '@medplum/fhir-router';
import { describe, expect, it } from 'vitest';
import { loadFhirDefinitions } from '../../src/fhir-sim/fhir-sim-definitions.js';
import { FhirSimRepository } from '../../src/fhir-sim/fhir-sim-repository.js';
import { buildFhirSimSeed } from '../../src/fhir-sim/fhir-sim-seed.js';
import { buildDemoPractice } from '../../src/sim/demo-practice.js';
import { createSeededRandom } from '../../src/sim/seeded-random.js';

const NOW = new Date('2026-11-23T14:00:00Z');

describe('the FHIR simulator repository', () => {
  it('answers every start-bounded search exactly as MemoryRepository does', async () => {
    loadFhirDefinitions();
    const data = buildDemoPractice({ today: '2026-11-23', now: NOW });
    const { resources } = buildFhirSimSeed(data, 'riverside', NOW);
    const quick = new FhirSimRepository();
    for (const resource of resources) void quick.createResource(resource);
    // The same repository searched by MemoryRepository's own search: same resources, same meta.
    const medplum = {
      search: (request: SearchRequest) => MemoryRepository.prototype.search.call(quick, request),
    };
    const random = createSeededRandom(20261207);
    const day = (offset: number) => new Date(NOW.getTime() + offset * 86_400_000).toISOString().slice(0, 10);
    const bound = (offset: number) =>
      random.pick([
        day(offset),
        `${day(offset)}T00:00:00-05:00`,
        `${day(offset)}T09:30:00Z`,
        `${day(offset)}T23:45:00+09:00`,
      ]);
    let found = 0;
    for (let i = 0; i < 40; i++) {
      const type = random.pick(['Appointment', 'Slot']);
      const param = type === 'Appointment' ? 'date' : 'start';
      const from = random.int(-40, 60);
      const query = new URLSearchParams();
      if (random.chance(0.9)) query.append(param, `${random.pick(['ge', 'gt'])}${bound(from)}`);
      if (random.chance(0.9))
        query.append(param, `${random.pick(['lt', 'le'])}${bound(from + random.int(0, 8))}`);
      if (random.chance(0.5)) query.set('_sort', random.pick([param, `-${param}`, '_id']));
      if (random.chance(0.5)) query.set('_offset', String(random.int(0, 30)));
      query.set('_count', String(random.int(1, 200)));
      if (type === 'Slot' && random.chance(0.5)) query.set('status', random.pick(['free', 'busy']));
      const request = parseSearchRequest(`${type}?${query.toString()}`);
      const [expected, actual] = await Promise.all([medplum.search(request), quick.search(request)]);
      const ids = (bundle: typeof expected) => bundle.entry?.map((e) => e.resource?.id);
      expect([actual.total, ids(actual)], `${type}?${query.toString()}`).toEqual([
        expected.total,
        ids(expected),
      ]);
      expect(actual.entry, `${type}?${query.toString()}`).toEqual(expected.entry);
      found += actual.entry?.length ?? 0;
    }
    // Not vacuous: the searches found resources (none at all when the search parameters are unknown).
    expect(found).toBeGreaterThan(500);
  }, 120_000);
});
