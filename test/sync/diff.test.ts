import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { contentHash } from '../../src/store/content-hash.js';
import { diffResources, type StoredVersion } from '../../sync/diff.js';

const patient = (id: string, family: string): Patient => ({
  resourceType: 'Patient',
  id,
  name: [{ family }],
});
const stored = (...entries: Array<[Patient, boolean?]>) =>
  new Map<string, StoredVersion>(
    entries.map(([p, deleted]) => [
      p.id as string,
      { hash: contentHash(p), versionId: 1, deleted: deleted ?? false },
    ]),
  );

describe('diffResources', () => {
  it('finds nothing to write when every hash matches', () => {
    const a = patient('a', 'Ames');
    expect(diffResources([a], stored([a]), contentHash)).toEqual({
      changed: [],
      unseen: [],
      vanished: [],
      unchanged: 1,
    });
  });

  it('separates changed resources from unseen ones and lists what vanished', () => {
    const [a, b, c] = [patient('a', 'Ames'), patient('b', 'Bell'), patient('c', 'Cole')];
    const diff = diffResources([{ ...a, name: [{ family: 'Amesbury' }] }, c], stored([a], [b]), contentHash);
    expect(diff.changed.map((p) => p.id)).toEqual(['a']);
    expect(diff.unseen.map((p) => p.id)).toEqual(['c']);
    expect(diff.vanished).toEqual(['b']);
    expect(diff.unchanged).toBe(0);
  });

  it('brings back a deleted resource that reappears and never lists a deleted one as vanished', () => {
    const [a, b] = [patient('a', 'Ames'), patient('b', 'Bell')];
    const diff = diffResources([a], stored([a, true], [b, true]), contentHash);
    expect(diff.changed.map((p) => p.id)).toEqual(['a']);
    expect(diff.vanished).toEqual([]);
  });

  it('counts a record listed twice (paging under concurrent writes) once', () => {
    const a = patient('a', 'Ames');
    expect(diffResources([a, a], new Map(), contentHash).unseen).toHaveLength(1);
  });

  it('consumes the incoming records lazily, one at a time', () => {
    let produced = 0;
    function* lazy() {
      for (const id of ['a', 'b']) {
        produced++;
        yield patient(id, 'Ames');
      }
    }
    const diff = diffResources(lazy(), new Map(), contentHash);
    expect([produced, diff.unseen.length]).toEqual([2, 2]);
  });

  it('ignores meta when comparing, so store bookkeeping never looks like a change', () => {
    const a = patient('a', 'Ames');
    const withMeta = { ...a, meta: { versionId: '7', lastUpdated: '2026-11-20T10:00:00Z' } };
    expect(diffResources([withMeta], stored([a]), contentHash).unchanged).toBe(1);
  });
});
