/**
 * Version headers of a single resource (https://hl7.org/fhir/R4/http.html#versioning): `ETag: W/"{versionId}"`
 * and `Last-Modified` from `meta.lastUpdated`.
 */
import type { StoredResource } from '../../src/store/resource-store.js';

export function versionHeaders(
  stored: Pick<StoredResource, 'versionId' | 'lastUpdated'>,
): Record<string, string> {
  return {
    ETag: weakEtag(stored.versionId),
    'Last-Modified': new Date(stored.lastUpdated).toUTCString(),
  };
}

export function weakEtag(versionId: number): string {
  return `W/"${versionId}"`;
}

/** True when an `If-None-Match` header names this version (weak comparison, `*` included). */
export function matchesIfNoneMatch(header: string | undefined, versionId: number): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === `"${versionId}"`;
  });
}
