/**
 * Content hashes of FHIR resources: how the differ decides whether an upstream record changed
 * (DESIGN.md sections 1 and 3).
 */
import { createHash } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';

/**
 * JSON with object keys sorted recursively (arrays keep their order, `undefined` members are dropped as
 * `JSON.stringify` does), so equal content always serialises to equal text whatever order it was built in.
 *
 * @see DESIGN.md section 3
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value) as string | undefined;
    return text ?? 'null';
  }
  if (Array.isArray(value)) {
    return `[${value.map((item: unknown) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, member]) => member !== undefined && typeof member !== 'function')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`).join(',')}}`;
}

/**
 * SHA-256 (hex) of the resource's canonical JSON without `meta`: `meta.versionId` and `meta.lastUpdated` are
 * ours, so the same upstream content read twice hashes the same and writes nothing.
 *
 * @see DESIGN.md section 3
 */
export function contentHash(resource: Resource): string {
  const { meta: _meta, ...content } = resource;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}
