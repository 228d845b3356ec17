/**
 * The differ (DESIGN.md section 1, read path): compares what the records system says now with what the store
 * holds, by content hash, so that a pass over unchanged data writes nothing.
 */
import type { Resource } from '@medplum/fhirtypes';

/** What the store knows of one resource. */
export interface StoredVersion {
  hash: string;
  versionId: number;
  deleted: boolean;
}

export interface Diff<R extends Resource> {
  /** Resources the store holds in a different version (or deleted): to write. */
  changed: R[];
  /** Resources the given stored map does not know: new, or held outside the pass's scope — the caller checks. */
  unseen: R[];
  /** Ids the store holds (not deleted) within the pass's scope that the records system no longer lists. */
  vanished: string[];
  unchanged: number;
}

/**
 * Streams `incoming` once, keeping only what must be written: a pass over 100,000 unchanged records holds no
 * more than their ids (BENCHMARKS.md, sync-diff).
 *
 * @param incoming every resource the records system listed for the scope (a window, or a set of ids), lazily
 * @param stored   what the store holds for the same scope
 */
export function diffResources<R extends Resource>(
  incoming: Iterable<R>,
  stored: ReadonlyMap<string, StoredVersion>,
  hash: (resource: R) => string,
): Diff<R> {
  const changed: R[] = [];
  const unseen: R[] = [];
  const seen = new Set<string>();
  let unchanged = 0;
  for (const resource of incoming) {
    const id = resource.id as string;
    if (seen.has(id)) continue; // a record listed twice (paging under concurrent writes) counts once
    seen.add(id);
    const current = stored.get(id);
    if (!current) unseen.push(resource);
    else if (!current.deleted && current.hash === hash(resource)) unchanged++;
    else changed.push(resource);
  }
  const vanished: string[] = [];
  for (const [id, version] of stored) if (!version.deleted && !seen.has(id)) vanished.push(id);
  return { changed, unseen, vanished, unchanged };
}
