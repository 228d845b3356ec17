/**
 * One step of every poll pass (DESIGN.md section 1, read path): give upstream records their FHIR ids, map them,
 * diff them against the store by content hash, and write what changed — resources, versions and change-journal
 * rows — in one transaction. Unchanged data writes nothing and emits nothing.
 */
import type { Resource, ResourceType } from '@medplum/fhirtypes';
import type { FhirIdResolver, SyncedResourceType, UpstreamRecord } from '../src/connectors/connector.js';
import { resolveFhirIds } from '../src/connectors/resolve-fhir-ids.js';
import { commitChanges } from '../src/events/change-writer.js';
import type { JournalEventInput } from '../src/events/event-types.js';
import { contentHash } from '../src/store/content-hash.js';
import type { Store } from '../src/store/database.js';
import {
  currentHashes,
  readResource,
  type CurrentHash,
  type CurrentHashFilter,
  type ResourceChange,
} from '../src/store/resource-store.js';
import { changeEventType } from './change-events.js';
import { diffResources, type DiffInput } from './diff.js';

/** One resource type's part of a pass. */
export interface RecordSet<R extends Resource = Resource> {
  resourceType: R['resourceType'] & SyncedResourceType;
  records: readonly UpstreamRecord<R>[];
  /** What part of the store these records are the whole truth about; vanished resources are looked for there. */
  scope: CurrentHashFilter;
  /**
   * What to do with stored resources in scope that the records system no longer listed: `delete` them, `ignore`
   * them (an incremental read says nothing about absence), or `confirm` each one (returns its current upstream
   * record, or null when it is really gone).
   */
  vanished: 'delete' | 'ignore' | ((fhirId: string) => Promise<UpstreamRecord<R> | null>);
  /**
   * Of the resources this pass would write, the ids to leave alone for now (an appointment whose booking saga is
   * still in flight or being rolled back: its saga publishes it, or nobody does). Default: none.
   */
  withhold?: (resources: readonly Resource[]) => Promise<ReadonlySet<string>>;
}

export interface ApplyOptions {
  /** A baseline load (the stream's first successful pass): write resources but emit no journal events. */
  baseline: boolean;
  /**
   * The tenant's journal sequence number before the pass asked the records system: a resource written since
   * (a local cancel or reschedule committing meanwhile) is not overwritten with what the pass read before it
   * (DESIGN.md section 5); the next pass reads it again.
   */
  unchangedSinceSeq?: number;
}

export interface ApplyResult {
  /** Versions written, by resource type. */
  written: number;
  unchanged: number;
  deleted: number;
  events: number;
}

/**
 * Applies the record sets of one pass in a single commit.
 * @see DESIGN.md section 1 (data flow) and section 5 (full-window passes detect hard deletes by absence)
 */
export async function applyRecords(
  store: Store,
  tenantId: string,
  sets: readonly RecordSet[],
  options: ApplyOptions,
): Promise<ApplyResult> {
  const resolve = await resolveFhirIds(
    store,
    tenantId,
    sets.flatMap((s) => s.records),
  );
  const changes: ResourceChange[] = [];
  const events: JournalEventInput[] = [];
  let unchanged = 0;
  let deleted = 0;

  for (const set of sets) {
    const type = set.resourceType as ResourceType;
    const stored = await currentHashes(store, tenantId, type, set.scope);
    const diff = diffResources(diffInputsOf(set.records, resolve), stored, contentHash);
    // Records the scope did not cover may still be stored (an appointment moving into the window): compare them.
    const outside = diff.unseen.length
      ? await currentHashes(store, tenantId, type, { ids: diff.unseen.map((r) => r.id) })
      : new Map<string, CurrentHash>();
    const rest = diffResources(diff.unseen, outside, contentHash);
    unchanged += diff.unchanged + rest.unchanged;
    const upserts = [
      ...diff.changed,
      ...rest.changed,
      ...rest.unseen.map((input) => ({ resource: input.resource(), sourceHash: input.sourceHash })),
    ];
    const setChanges: ResourceChange[] = upserts.map(({ resource, sourceHash }) => ({
      op: 'upsert',
      resource: resource as Resource & { id: string },
      ...(sourceHash === undefined ? {} : { sourceHash }),
    }));
    // Same content, first time with a source hash: commit records the hash (no version, no event).
    const hashOnly: ResourceChange[] = [...diff.newSourceHashes, ...rest.newSourceHashes].map(
      ({ resource, sourceHash }) => ({
        op: 'upsert',
        resource: resource as Resource & { id: string },
        sourceHash,
      }),
    );

    if (set.withhold) {
      const upserted = setChanges.flatMap((c) => (c.op === 'upsert' ? [c.resource] : []));
      const withheld = upserted.length > 0 ? await set.withhold(upserted) : new Set<string>();
      if (withheld.size > 0) {
        const kept = setChanges.filter((c) => c.op !== 'upsert' || !withheld.has(c.resource.id));
        setChanges.splice(0, setChanges.length, ...kept);
      }
    }

    for (const id of diff.vanished) {
      if (set.vanished === 'ignore') break;
      // An appointment that left the window may have moved rather than gone: ask before deleting.
      const current = set.vanished === 'delete' ? null : await set.vanished(id);
      if (current === null) {
        setChanges.push({ op: 'delete', resourceType: type, id });
        deleted++;
      } else {
        const fresh = current.toFhir(await resolveFhirIds(store, tenantId, [current]));
        setChanges.push({ op: 'upsert', resource: fresh as Resource & { id: string } });
      }
    }

    if (!options.baseline) {
      for (const change of setChanges) {
        const id = change.op === 'upsert' ? change.resource.id : change.id;
        const before = await readResource(store, tenantId, type, id);
        const previous = before && !before.deleted ? before.resource : undefined;
        const next = change.op === 'upsert' ? change.resource : undefined;
        events.push({ eventType: changeEventType(previous, next), resourceType: type, resourceId: id });
      }
    }
    changes.push(...setChanges, ...hashOnly);
  }

  const result = await commitChanges(store, tenantId, changes, events, {
    ...(options.unchangedSinceSeq === undefined
      ? {}
      : { guard: { unchangedSinceSeq: options.unchangedSinceSeq } }),
  });
  return {
    written: result.written.length,
    unchanged,
    deleted,
    events: result.journal.length,
  };
}

/** Records as lazy diff inputs: a record is mapped only if the differ needs its content. */
function diffInputsOf<R extends Resource>(
  records: readonly UpstreamRecord<R>[],
  resolve: FhirIdResolver,
): DiffInput<R>[] {
  return records.map((record) => ({
    id: resolve(record.resourceType, record.upstreamId),
    ...(record.sourceHash === undefined ? {} : { sourceHash: record.sourceHash }),
    resource: () => record.toFhir(resolve),
  }));
}
