/**
 * Searchset and history Bundles (https://hl7.org/fhir/R4/bundle.html): absolute `fullUrl`s and `link`s built
 * from the public base URL, `search.mode` on every searchset entry, `request`/`response` on every history entry.
 */
import { randomUUID } from 'node:crypto';
import type {
  Bundle,
  BundleEntry,
  BundleLink,
  OperationOutcome,
  OperationOutcomeIssue,
  Resource,
} from '@medplum/fhirtypes';
import { deepFreeze, isDeeplyFrozen } from '../../src/deep-freeze.js';

/** `{base}/{type}/{id}`. */
export function resourceUrl(base: string, type: string, id: string): string {
  return `${base}/${type}/${encodeURIComponent(id)}`;
}

/** `{base}/{path}?{params}`: a link that repeats the parameters of a request. */
export function linkUrl(
  base: string,
  path: string,
  params: ReadonlyArray<readonly [string, string]>,
): string {
  const query = new URLSearchParams(params.map(([n, v]): [string, string] => [n, v])).toString();
  return `${base}/${path}${query ? `?${query}` : ''}`;
}

/** Links with their relations, in the order given, skipping those without a URL. */
export function bundleLinks(links: ReadonlyArray<[relation: string, url: string | undefined]>): BundleLink[] {
  return links.flatMap(([relation, url]) => (url === undefined ? [] : [{ relation, url }]));
}

export interface SearchsetParts {
  base: string;
  matches: readonly Resource[];
  included: readonly Resource[];
  /** Warnings about the search (ignored parameters, clamps, left-out includes): one OperationOutcome entry. */
  warnings: readonly OperationOutcomeIssue[];
  total: number | undefined;
  links: BundleLink[];
}

export function searchsetBundle(parts: SearchsetParts): Bundle {
  const entry: BundleEntry[] = [
    ...parts.matches.map((resource) => entryOf(parts.base, resource, 'match')),
    ...parts.included.map((resource) => entryOf(parts.base, resource, 'include')),
  ];
  if (parts.warnings.length > 0) {
    const outcome: OperationOutcome = { resourceType: 'OperationOutcome', issue: [...parts.warnings] };
    entry.push({ fullUrl: `urn:uuid:${randomUUID()}`, resource: outcome, search: { mode: 'outcome' } });
  }
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { lastUpdated: new Date().toISOString() },
    type: 'searchset',
    ...(parts.total === undefined ? {} : { total: parts.total }),
    link: parts.links,
    ...(entry.length > 0 ? { entry } : {}),
  };
}

function entryOf(base: string, resource: Resource, mode: 'match' | 'include'): BundleEntry {
  if (!isDeeplyFrozen(resource)) return newEntry(base, resource, mode);
  // A resource shared frozen between requests (a kept free Slot) gets one frozen entry per base and mode, so the
  // response writes the entry's JSON text once (fhir/frozen-json.ts) instead of on every search that returns it.
  let entries = frozenEntries.get(resource);
  if (!entries) {
    entries = new Map();
    frozenEntries.set(resource, entries);
  }
  const key = `${mode} ${base}`;
  let entry = entries.get(key);
  if (!entry) {
    entry = deepFreeze(newEntry(base, resource, mode));
    entries.set(key, entry);
  }
  return entry;
}

/** The frozen entries of deeply frozen resources, by mode and base; an entry goes when its resource does. */
const frozenEntries = new WeakMap<Resource, Map<string, BundleEntry>>();

function newEntry(base: string, resource: Resource, mode: 'match' | 'include'): BundleEntry {
  return { fullUrl: resourceUrl(base, resource.resourceType, resource.id ?? ''), resource, search: { mode } };
}

/** One version in a history Bundle. */
export interface HistoryVersion {
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: string;
  deleted: boolean;
  resource: Resource;
}

export interface HistoryParts {
  base: string;
  versions: readonly HistoryVersion[];
  total: number | undefined;
  links: BundleLink[];
}

/**
 * A `history` Bundle, newest first. Version 1 reads as the create (`POST`), later versions as updates (`PUT`),
 * a deleted version as `DELETE` without a resource.
 */
export function historyBundle(parts: HistoryParts): Bundle {
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { lastUpdated: new Date().toISOString() },
    type: 'history',
    ...(parts.total === undefined ? {} : { total: parts.total }),
    link: parts.links,
    ...(parts.versions.length > 0
      ? {
          entry: parts.versions.map((v): BundleEntry => {
            const created = v.versionId === 1 && !v.deleted;
            return {
              fullUrl: resourceUrl(parts.base, v.resourceType, v.id),
              ...(v.deleted ? {} : { resource: v.resource }),
              request: {
                method: v.deleted ? 'DELETE' : created ? 'POST' : 'PUT',
                url: created ? v.resourceType : `${v.resourceType}/${v.id}`,
              },
              response: {
                status: v.deleted ? '204 No Content' : created ? '201 Created' : '200 OK',
                etag: `W/"${v.versionId}"`,
                lastModified: v.lastUpdated,
              },
            };
          }),
        }
      : {}),
  };
}
