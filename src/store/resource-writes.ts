/**
 * The single write path of FHIR resources (DESIGN.md section 1 "Data flow", section 3): current versions, their
 * history and search tokens, written together with the change journal in one transaction. Recording changes so
 * that subscribers hear of them is `src/events/change-writer.ts`, which every writer uses.
 */
import type { Resource, ResourceType } from '@medplum/fhirtypes';
import {
  availabilityKeysOf,
  raiseAvailabilityVersions,
  type AvailabilityKey,
} from './availability-versions.js';
import { VALUES_PER_IN_LIST, chunk, rowsPerInsert } from './batching.js';
import { insertJournalEntries, journalledSince, lockTenantJournal } from './change-journal.js';
import type { JournalEntry, JournalRowInput } from './change-journal.js';
import { contentHash } from './content-hash.js';
import type { Store, StoreTransaction } from './database.js';
import type { IntBoolean, ResourceHistoryTable, ResourcesTable } from './schema.js';
import { replaceSearchTokens, type ResourceTokens } from './search-token-writes.js';
import { setMappedSourceHashes, type MappedSourceHash } from './upstream-ids.js';
import { searchIndexFor } from './search-parameters/index-rows.js';

/** One change to commit. */
export type ResourceChange =
  | {
      op: 'upsert';
      resource: Resource & { id: string };
      /** Hash of the upstream record this content came from, when the connector gave one. */
      sourceHash?: string;
    }
  | { op: 'delete'; resourceType: ResourceType; id: string };

/** One version a commit wrote. */
export interface WrittenVersion {
  resourceType: ResourceType;
  id: string;
  versionId: number;
  op: 'upsert' | 'delete';
  lastUpdated: string;
}

/** What {@link writeChanges} wrote. */
export interface CommitResult {
  written: WrittenVersion[];
  journal: JournalEntry[];
  /** Changes left out because the resource was written after {@link WriteGuard.unchangedSinceSeq}. */
  skipped?: Array<{ resourceType: ResourceType; id: string }>;
}

/**
 * Compare-and-set for writers whose data may be older than the store's (DESIGN.md section 5: "a pass commits a
 * resource only if the version it diffed against is still current, so it never reverts a newer local write").
 */
export interface WriteGuard {
  /**
   * The tenant's journal sequence number when the writer began reading its source (a sync pass: before it asked
   * the records system). A change to a resource journalled after it is skipped, with its events: the store then
   * holds something newer than what the writer read, and the writer's next pass reads again.
   */
  unchangedSinceSeq?: number;
}

/** Options of {@link writeChanges}. */
export interface CommitOptions {
  /** The time to stamp versions and journal rows with; default the store's clock. */
  now?: Date;
  /** Compare-and-set against newer writes (sync passes). */
  guard?: WriteGuard;
}

/**
 * Writes resource changes and journal rows in ONE write transaction. This is persistence only: recording changes
 * so that webhook subscribers hear of them is `src/events/change-writer.ts`, which every writer uses.
 *
 * An upsert whose content hash equals the current, non-deleted row writes nothing; otherwise it gets the next
 * version, `meta.versionId` and `meta.lastUpdated`, a history row and fresh search tokens. A delete of a live
 * resource writes a deleted version (the row stays, so reads answer 410); deleting a missing or deleted resource
 * writes nothing. Changes apply in order, so one commit may carry several versions of a resource.
 *
 * Events are then appended to the change journal. An event about a resource changed in this commit gets the
 * version just written (unless it names one); an event about a resource whose change here wrote nothing is
 * dropped, so an unchanged upsert emits nothing. Other events are appended as given.
 *
 * @see DESIGN.md section 1 "Data flow" and section 3
 */
export function writeChanges(
  store: Store,
  tenantId: string,
  changes: readonly ResourceChange[],
  events: readonly JournalRowInput[] = [],
  options: CommitOptions = {},
): Promise<CommitResult> {
  if (changes.length === 0 && events.length === 0) return Promise.resolve({ written: [], journal: [] });
  const now = options.now ?? store.now();
  return store.write((trx) => writeChangesInTransaction(trx, tenantId, changes, events, now));
}

/**
 * {@link writeChanges} inside a write transaction the caller already holds, so a caller can commit resources,
 * journal and its own rows (a booking saga step, a sync cursor) atomically.
 *
 * @see DESIGN.md section 3
 */
export async function writeChangesInTransaction(
  trx: StoreTransaction,
  tenantId: string,
  changes: readonly ResourceChange[],
  events: readonly JournalRowInput[],
  now: Date,
  guard: WriteGuard = {},
): Promise<CommitResult> {
  if (changes.length === 0 && events.length === 0) return { written: [], journal: [] };
  // Before reading current versions: concurrent commits of a tenant then see each other's results.
  await lockTenantJournal(trx, tenantId);
  let skipped: CommitResult['skipped'];
  if (guard.unchangedSinceSeq !== undefined) {
    const targets = changes.map((c) => (c.op === 'upsert' ? validTarget(c.resource) : c));
    const newer = await journalledSince(trx, tenantId, guard.unchangedSinceSeq, targets);
    if (newer.size > 0) {
      skipped = targets
        .filter((t) => newer.has(keyOf(t.resourceType, t.id)))
        .map((t) => ({ resourceType: t.resourceType, id: t.id }));
      changes = changes.filter((c) => {
        const t = c.op === 'upsert' ? validTarget(c.resource) : c;
        return !newer.has(keyOf(t.resourceType, t.id));
      });
      events = events.filter(
        (e) =>
          e.resourceType === undefined ||
          e.resourceId === undefined ||
          !newer.has(keyOf(e.resourceType, e.resourceId)),
      );
    }
  }

  const changeKeys = new Map<string, { resourceType: ResourceType; id: string }>();
  for (const change of changes) {
    const target = change.op === 'upsert' ? validTarget(change.resource) : change;
    changeKeys.set(keyOf(target.resourceType, target.id), {
      resourceType: target.resourceType,
      id: target.id,
    });
  }
  const current = await loadCurrent(trx, tenantId, [...changeKeys.values()]);

  const lastUpdated = now.toISOString();
  const rows = new Map<string, ResourcesTable>();
  const history: ResourceHistoryTable[] = [];
  const tokens = new Map<string, ResourceTokens>();
  const written: WrittenVersion[] = [];
  const writtenVersion = new Map<string, number>();
  /** Same content under a new source hash, by resource (the last one counts). */
  const sourceHashOnly = new Map<string, { resourceType: ResourceType; id: string; sourceHash: string }>();
  // Free time derived from the old or the new version of these is stale (availability-versions.ts).
  const availabilityChanged: AvailabilityKey[] = [];

  for (const change of changes) {
    const resourceType = change.op === 'upsert' ? change.resource.resourceType : change.resourceType;
    const id = change.op === 'upsert' ? change.resource.id : change.id;
    const key = keyOf(resourceType, id);
    const before = current.get(key);
    let stored: Resource;
    let hash: string;
    if (change.op === 'upsert') {
      hash = contentHash(change.resource);
      if (before && before.deleted === 0 && before.content_hash === hash) {
        // Same content from a different source record (or a first source hash): remember it, no new version.
        if (change.sourceHash !== undefined && change.sourceHash !== before.source_hash) {
          sourceHashOnly.set(key, { resourceType, id, sourceHash: change.sourceHash });
          before.source_hash = change.sourceHash;
        }
        continue;
      }
      stored = change.resource;
    } else {
      if (!before || before.deleted === 1) continue;
      hash = before.content_hash;
      stored = JSON.parse(before.resource) as Resource;
    }
    const versionId = (before?.version_id ?? 0) + 1;
    stored = { ...stored, meta: { ...stored.meta, versionId: String(versionId), lastUpdated } };
    const deleted: IntBoolean = change.op === 'delete' ? 1 : 0;
    const json = JSON.stringify(stored);
    const index = searchIndexFor(stored);
    const row: ResourcesTable = {
      tenant_id: tenantId,
      resource_type: resourceType,
      id,
      version_id: versionId,
      last_updated: lastUpdated,
      content_hash: hash,
      deleted,
      resource: json,
      source_hash: change.op === 'upsert' ? (change.sourceHash ?? null) : (before?.source_hash ?? null),
      ...index.columns,
    };
    if (before) availabilityChanged.push(...availabilityKeysOf(before));
    availabilityChanged.push(...availabilityKeysOf(row));
    current.set(key, row);
    rows.set(key, row);
    history.push({
      tenant_id: tenantId,
      resource_type: resourceType,
      id,
      version_id: versionId,
      last_updated: lastUpdated,
      deleted,
      resource: json,
    });
    tokens.set(key, { resourceType, id, tokens: deleted === 1 ? [] : index.tokens });
    written.push({ resourceType, id, versionId, op: change.op, lastUpdated });
    writtenVersion.set(key, versionId);
  }

  await writeResourceRows(trx, [...rows.values()]);
  await raiseAvailabilityVersions(trx, tenantId, availabilityChanged);
  // A resource this commit also gives a new version has its final source hash in that row: a hash-only change
  // before it must not overwrite the later version's hash after the row is written.
  const hashOnly = [...sourceHashOnly].flatMap(([key, change]) => (rows.has(key) ? [] : [change]));
  for (const { resourceType, id, sourceHash } of hashOnly) {
    await trx
      .updateTable('resources')
      .set({ source_hash: sourceHash })
      .where('tenant_id', '=', tenantId)
      .where('resource_type', '=', resourceType)
      .where('id', '=', id)
      .execute();
  }
  // Every mapping's hash follows its resource's live version (the skip lookup reads it; `upstream-ids.ts`).
  const mapped: MappedSourceHash[] = [
    ...hashOnly,
    ...[...rows.values()].map((row) => ({
      resourceType: row.resource_type,
      id: row.id,
      sourceHash: row.deleted === 1 ? null : row.source_hash,
    })),
  ];
  await setMappedSourceHashes(trx, tenantId, mapped);
  for (const part of chunk(history, rowsPerInsert(7)))
    await trx.insertInto('resource_history').values(part).execute();
  await replaceSearchTokens(trx, tenantId, [...tokens.values()]);

  const journalEvents: JournalRowInput[] = [];
  for (const event of events) {
    const key =
      event.resourceType !== undefined && event.resourceId !== undefined
        ? keyOf(event.resourceType, event.resourceId)
        : undefined;
    if (key === undefined || !changeKeys.has(key)) {
      journalEvents.push(event);
    } else if (writtenVersion.has(key)) {
      journalEvents.push({ ...event, versionId: event.versionId ?? writtenVersion.get(key) });
    }
  }
  const journal = await insertJournalEntries(trx, tenantId, journalEvents, now);
  return skipped ? { written, journal, skipped } : { written, journal };
}

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

function validTarget(resource: Resource): { resourceType: ResourceType; id: string } {
  if (typeof resource.id !== 'string' || !FHIR_ID.test(resource.id)) {
    throw new TypeError(
      `cannot store ${resource.resourceType} without a valid id (got ${String(resource.id)})`,
    );
  }
  return { resourceType: resource.resourceType, id: resource.id };
}

function keyOf(resourceType: string, id: string): string {
  return `${resourceType}/${id}`;
}

async function loadCurrent(
  trx: StoreTransaction,
  tenantId: string,
  targets: ReadonlyArray<{ resourceType: ResourceType; id: string }>,
): Promise<Map<string, ResourcesTable>> {
  const idsByType = new Map<ResourceType, string[]>();
  for (const { resourceType, id } of targets) {
    const ids = idsByType.get(resourceType) ?? [];
    ids.push(id);
    idsByType.set(resourceType, ids);
  }
  const current = new Map<string, ResourcesTable>();
  for (const [resourceType, ids] of idsByType) {
    for (const part of chunk(ids, VALUES_PER_IN_LIST)) {
      const found = await trx
        .selectFrom('resources')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('resource_type', '=', resourceType)
        .where('id', 'in', part)
        .execute();
      for (const row of found) current.set(keyOf(row.resource_type, row.id), row);
    }
  }
  return current;
}

async function writeResourceRows(trx: StoreTransaction, rows: ResourcesTable[]): Promise<void> {
  for (const part of chunk(rows, rowsPerInsert(18))) {
    await trx
      .insertInto('resources')
      .values(part)
      .onConflict((oc) =>
        oc.columns(['tenant_id', 'resource_type', 'id']).doUpdateSet((eb) => ({
          version_id: eb.ref('excluded.version_id'),
          last_updated: eb.ref('excluded.last_updated'),
          content_hash: eb.ref('excluded.content_hash'),
          deleted: eb.ref('excluded.deleted'),
          resource: eb.ref('excluded.resource'),
          period_start: eb.ref('excluded.period_start'),
          period_end: eb.ref('excluded.period_end'),
          status: eb.ref('excluded.status'),
          ref_patient: eb.ref('excluded.ref_patient'),
          ref_practitioner: eb.ref('excluded.ref_practitioner'),
          ref_location: eb.ref('excluded.ref_location'),
          ref_schedule: eb.ref('excluded.ref_schedule'),
          source_hash: eb.ref('excluded.source_hash'),
        })),
      )
      .execute();
  }
}
