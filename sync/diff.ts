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
  /** New, changed or reappearing resources. */
  upserts: R[];
  /** Ids the store holds (not deleted) within the pass's scope that the records system no longer lists. */
  vanished: string[];
  unchanged: number;
}

/**
 * @param incoming every resource the records system listed for the scope (a window, or a set of ids)
 * @param stored   what the store holds for the same scope
 */
export function diffResources<R extends Resource>(
  incoming: readonly R[],
  stored: ReadonlyMap<string, StoredVersion>,
  hash: (resource: R) => string,
): Diff<R> {
  const upserts: R[] = [];
  const seen = new Set<string>();
  let unchanged = 0;
  for (const resource of incoming) {
    const id = resource.id as string;
    if (seen.has(id)) continue; // a record listed twice (paging under concurrent writes) counts once
    seen.add(id);
    const current = stored.get(id);
    if (current && !current.deleted && current.hash === hash(resource)) unchanged++;
    else upserts.push(resource);
  }
  const vanished = [...stored].filter(([id, v]) => !v.deleted && !seen.has(id)).map(([id]) => id);
  return { upserts, vanished, unchanged };
}
