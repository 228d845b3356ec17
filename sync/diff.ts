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
  /** Hash of the upstream record it was mapped from, when known. */
  sourceHash?: string | null;
}

/** One incoming record: its FHIR id, its source hash if any, and the resource, built only when needed. */
export interface DiffInput<R extends Resource> {
  id: string;
  sourceHash?: string;
  resource(): R;
}

/** A resource to write, with the source hash it came from. */
export interface Sourced<R extends Resource> {
  resource: R;
  sourceHash?: string;
}

export interface Diff<R extends Resource> {
  /** Resources the store holds in a different version (or deleted): to write. */
  changed: Sourced<R>[];
  /** Resources the given stored map does not know: new, or held outside the pass's scope — the caller checks. */
  unseen: DiffInput<R>[];
  /** Unchanged content whose source hash the store does not have yet: worth recording for the next pass. */
  newSourceHashes: Sourced<R>[];
  /** Ids the store holds (not deleted) within the pass's scope that the records system no longer lists. */
  vanished: string[];
  unchanged: number;
}

/**
 * Streams `incoming` once, keeping only what must be written: a record whose source hash matches the stored one
 * is not even mapped, and a pass over 100,000 unchanged records holds no more than their ids
 * (BENCHMARKS.md, sync-diff).
 *
 * @param incoming every record the records system listed for the scope (a window, or a set of ids)
 * @param stored   what the store holds for the same scope
 */
export function diffResources<R extends Resource>(
  incoming: Iterable<DiffInput<R>>,
  stored: ReadonlyMap<string, StoredVersion>,
  hash: (resource: R) => string,
): Diff<R> {
  const changed: Sourced<R>[] = [];
  const unseen: DiffInput<R>[] = [];
  const newSourceHashes: Sourced<R>[] = [];
  const seen = new Set<string>();
  let unchanged = 0;
  for (const input of incoming) {
    if (seen.has(input.id)) continue; // a record listed twice (paging under concurrent writes) counts once
    seen.add(input.id);
    const current = stored.get(input.id);
    if (!current) {
      unseen.push(input);
      continue;
    }
    if (!current.deleted && input.sourceHash !== undefined && current.sourceHash === input.sourceHash) {
      unchanged++;
      continue;
    }
    const resource = input.resource();
    if (current.deleted || current.hash !== hash(resource)) {
      changed.push({ resource, sourceHash: input.sourceHash });
    } else {
      unchanged++;
      if (input.sourceHash !== undefined) newSourceHashes.push({ resource, sourceHash: input.sourceHash });
    }
  }
  const vanished: string[] = [];
  for (const [id, version] of stored) if (!version.deleted && !seen.has(id)) vanished.push(id);
  return { changed, unseen, newSourceHashes, vanished, unchanged };
}

/** Resources as diff inputs (no source hashes), for callers that already hold them. */
export function diffInputs<R extends Resource>(resources: Iterable<R>): DiffInput<R>[] {
  return [...resources].map((resource) => ({ id: resource.id as string, resource: () => resource }));
}
