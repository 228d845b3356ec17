import { describe, expect, it } from 'vitest';
import { fhirIdsFor, upstreamIdFor, upstreamIdsFor } from '../../src/store/upstream-ids.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe.each(testStoreFactories)('upstream ids ($name)', (factory) => {
  const testStore = useTestStore(factory);

  it('mints random UUIDs that do not reveal upstream numbering, one per distinct upstream id', async () => {
    const { store } = testStore();
    // Upstream ids long enough that a random UUID cannot contain them by chance (a 3-digit one did, ~1 run in 30).
    const ids = await fhirIdsFor(store, 'a', 'Patient', ['98765431', '98765432', '98765431']);
    expect([...ids.keys()].sort()).toEqual(['98765431', '98765432']);
    for (const fhirId of ids.values()) {
      expect(fhirId).toMatch(UUID);
      expect(fhirId).not.toContain('98765431');
      expect(fhirId).not.toContain('98765432');
    }
    expect(ids.get('98765431')).not.toBe(ids.get('98765432'));
  });

  it('returns the same FHIR id for an upstream id every time, also through another store', async () => {
    const handle = testStore();
    const first = await fhirIdsFor(handle.store, 'a', 'Patient', ['101']);
    const second = await fhirIdsFor(handle.store, 'a', 'Patient', ['102', '101']);
    const other = await handle.openAnother();
    const third = await fhirIdsFor(other, 'a', 'Patient', ['101']);
    expect(second.get('101')).toBe(first.get('101'));
    expect(third.get('101')).toBe(first.get('101'));
    expect(await fhirIdsFor(handle.store, 'a', 'Patient', [])).toEqual(new Map());
  });

  it('agrees on one FHIR id when many callers map the same upstream ids at once', async () => {
    const handle = testStore();
    const other = await handle.openAnother();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        fhirIdsFor(i % 2 ? other : handle.store, 'a', 'Appointment', ['7', '8']),
      ),
    );
    const first = results[0];
    for (const result of results) expect(result).toEqual(first);
    const rows = await handle.store.db.selectFrom('upstream_ids').selectAll().execute();
    expect(rows).toHaveLength(2);
  });

  it('maps FHIR ids back to upstream ids', async () => {
    const { store } = testStore();
    const ids = await fhirIdsFor(store, 'a', 'Practitioner', ['5', '6']);
    const five = ids.get('5') ?? '';
    expect(await upstreamIdFor(store, 'a', 'Practitioner', five)).toBe('5');
    expect(await upstreamIdFor(store, 'a', 'Practitioner', 'unknown')).toBeUndefined();
    const back = await upstreamIdsFor(store, 'a', 'Practitioner', [...ids.values(), 'unknown']);
    expect(new Map([...back].map(([fhir, upstream]) => [upstream, fhir]))).toEqual(ids);
  });

  it('keeps mappings per tenant and per resource type', async () => {
    const { store } = testStore();
    const a = (await fhirIdsFor(store, 'a', 'Patient', ['1'])).get('1') ?? '';
    const b = (await fhirIdsFor(store, 'b', 'Patient', ['1'])).get('1') ?? '';
    const practitioner = (await fhirIdsFor(store, 'a', 'Practitioner', ['1'])).get('1') ?? '';
    expect(new Set([a, b, practitioner]).size).toBe(3);
    expect(await upstreamIdFor(store, 'b', 'Patient', a)).toBeUndefined();
    expect(await upstreamIdFor(store, 'a', 'Practitioner', a)).toBeUndefined();
    expect(await upstreamIdFor(store, 'b', 'Patient', b)).toBe('1');
  });
});
