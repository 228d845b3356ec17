/**
 * `_count` for searches answered from a short list held in memory (Subscription, the `Basic` topics), so `_count`
 * means the same everywhere (issue 14 item 10; R4 search.html): default {@link DEFAULT_PAGE_SIZE}, at most
 * {@link MAX_PAGE_SIZE} (clamped with a warning), `_count=0` for the total alone; `_offset` continues, and the
 * Bundle links `self`, `previous` and `next` page through. These lists are small and change rarely, so an offset
 * is enough here (the store's searches use keyset cursors).
 */
import type { BundleLink, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { FhirError } from '../operation-outcome.js';
import { bundleLinks, linkUrl } from './bundle-builder.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './search-limits.js';

/** The parameters this module reads; callers skip them as criteria. */
export const LIST_PAGE_PARAMETERS: ReadonlySet<string> = new Set(['_count', '_offset']);

export function listPage<T>(
  matches: readonly T[],
  request: { base: string; path: string; params: ReadonlyArray<readonly [string, string]> },
  warnings: OperationOutcomeIssue[],
): { page: T[]; links: BundleLink[] } {
  const count = whole(request.params, '_count', DEFAULT_PAGE_SIZE);
  const size = Math.min(count, MAX_PAGE_SIZE);
  if (count > MAX_PAGE_SIZE) {
    warnings.push({
      severity: 'warning',
      code: 'too-costly',
      diagnostics: `_count clamped to ${MAX_PAGE_SIZE}`,
      expression: ['_count'],
    });
  }
  const offset = whole(request.params, '_offset', 0);
  const criteria = request.params.filter(([name]) => !LIST_PAGE_PARAMETERS.has(name));
  const at = (from: number): string =>
    linkUrl(request.base, request.path, [
      ...criteria,
      ['_count', String(size)],
      ...(from > 0 ? [['_offset', String(from)] as const] : []),
    ]);
  return {
    page: matches.slice(offset, offset + size),
    links: bundleLinks([
      ['self', at(offset)],
      ['previous', offset > 0 && size > 0 ? at(Math.max(0, offset - size)) : undefined],
      ['next', size > 0 && offset + size < matches.length ? at(offset + size) : undefined],
    ]),
  };
}

function whole(params: ReadonlyArray<readonly [string, string]>, name: string, fallback: number): number {
  const values = params.filter(([n]) => n === name).map(([, v]) => v);
  if (values.length === 0) return fallback;
  const value = values[values.length - 1] as string;
  if (!/^\d{1,9}$/.test(value)) {
    throw FhirError.of(400, 'invalid', `${name} must be a whole number`, { expression: name });
  }
  return Number(value);
}
