import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { canonicalJson, contentHash } from '../../src/store/content-hash.js';

describe('contentHash', () => {
  const patient: Patient = {
    resourceType: 'Patient',
    id: 'p1',
    name: [{ family: 'Smith', given: ['John'] }],
    birthDate: '1980-02-03',
  };

  it('ignores key order at every depth', () => {
    const reordered: Patient = {
      birthDate: '1980-02-03',
      name: [{ given: ['John'], family: 'Smith' }],
      id: 'p1',
      resourceType: 'Patient',
    };
    expect(contentHash(reordered)).toBe(contentHash(patient));
  });

  it('ignores meta, which the store itself writes', () => {
    expect(
      contentHash({ ...patient, meta: { versionId: '4', lastUpdated: '2026-11-24T19:00:00.000Z' } }),
    ).toBe(contentHash(patient));
  });

  it('changes when content changes, including array order', () => {
    expect(contentHash({ ...patient, birthDate: '1980-02-04' })).not.toBe(contentHash(patient));
    expect(contentHash({ ...patient, name: [{ family: 'Smith', given: ['Paul', 'John'] }] })).not.toBe(
      contentHash({ ...patient, name: [{ family: 'Smith', given: ['John', 'Paul'] }] }),
    );
  });

  it('is the sha256 hex of the canonical JSON', () => {
    expect(contentHash(patient)).toMatch(/^[0-9a-f]{64}$/);
    expect(canonicalJson({ b: 1, a: [{ d: null, c: 'x' }], e: undefined })).toBe(
      '{"a":[{"c":"x","d":null}],"b":1}',
    );
  });
});
