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
  if (value === null || typeof value !== 'object')
    return (JSON.stringify(value) as string | undefined) ?? 'null';
  // Plain loops and string concatenation: this runs for every record of every sync pass (BENCHMARKS.md).
  let out: string;
  if (Array.isArray(value)) {
    out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      out += (i === 0 ? '' : ',') + (item === undefined ? 'null' : canonicalJson(item));
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  out = '{';
  let first = true;
  for (const key of Object.keys(record).sort()) {
    const member = record[key];
    if (member === undefined || typeof member === 'function') continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(member)}`;
    first = false;
  }
  return `${out}}`;
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
