import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { contentHash } from '../../src/store/content-hash.js';
import { diffInputs, diffResources, type DiffInput, type StoredVersion } from '../../sync/diff.js';

const patient = (id: string, family: string): Patient => ({
  resourceType: 'Patient',
  id,
  name: [{ family }],
});
const stored = (...entries: Array<[Patient, boolean?, string?]>) =>
  new Map<string, StoredVersion>(
    entries.map(([p, deleted, sourceHash]) => [
      p.id as string,
      { hash: contentHash(p), versionId: 1, deleted: deleted ?? false, sourceHash: sourceHash ?? null },
    ]),
  );
const ids = (items: Array<{ resource: Patient } | DiffInput<Patient>>) =>
  items.map((i) => ('id' in i ? i.id : i.resource.id));

describe('diffResources', () => {
  it('finds nothing to write when every hash matches', () => {
    const a = patient('a', 'Ames');
    expect(diffResources(diffInputs([a]), stored([a]), contentHash)).toMatchObject({
      changed: [],
      unseen: [],
      vanished: [],
      unchanged: 1,
    });
  });

  it('separates changed resources from unseen ones and lists what vanished', () => {
    const [a, b, c] = [patient('a', 'Ames'), patient('b', 'Bell'), patient('c', 'Cole')];
    const diff = diffResources(
      diffInputs([{ ...a, name: [{ family: 'Amesbury' }] }, c]),
      stored([a], [b]),
      contentHash,
    );
    expect(ids(diff.changed)).toEqual(['a']);
    expect(ids(diff.unseen)).toEqual(['c']);
    expect(diff.vanished).toEqual(['b']);
    expect(diff.unchanged).toBe(0);
  });

  it('brings back a deleted resource that reappears and never lists a deleted one as vanished', () => {
    const [a, b] = [patient('a', 'Ames'), patient('b', 'Bell')];
    const diff = diffResources(diffInputs([a]), stored([a, true], [b, true]), contentHash);
    expect(ids(diff.changed)).toEqual(['a']);
    expect(diff.vanished).toEqual([]);
  });

  it('counts a record listed twice (paging under concurrent writes) once', () => {
    const a = patient('a', 'Ames');
    expect(diffResources(diffInputs([a, a]), new Map(), contentHash).unseen).toHaveLength(1);
  });

  it('does not even map a record whose source hash matches the stored one', () => {
    const a = patient('a', 'Ames');
    let mapped = 0;
    const input: DiffInput<Patient> = {
      id: 'a',
      sourceHash: 'src-1',
      resource: () => {
        mapped++;
        return a;
      },
    };
    expect(diffResources([input], stored([a, false, 'src-1']), contentHash).unchanged).toBe(1);
    expect(mapped).toBe(0);
    // A new source hash for the same content: mapped and compared, unchanged, and the hash offered for storing.
    const diff = diffResources([{ ...input, sourceHash: 'src-2' }], stored([a, false, 'src-1']), contentHash);
    expect([mapped, diff.unchanged, diff.changed.length, diff.newSourceHashes.length]).toEqual([1, 1, 0, 1]);
  });

  it('ignores meta when comparing, so store bookkeeping never looks like a change', () => {
    const a = patient('a', 'Ames');
    const withMeta = { ...a, meta: { versionId: '7', lastUpdated: '2026-11-20T10:00:00Z' } };
    expect(diffResources(diffInputs([withMeta]), stored([a]), contentHash).unchanged).toBe(1);
  });
});
