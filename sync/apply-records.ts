/**
 * One step of every poll pass (DESIGN.md section 1, read path): give upstream records their FHIR ids, map them,
 * diff them against the store by content hash, and write what changed — resources, versions and change-journal
 * rows. Unchanged data writes nothing and emits nothing. A record whose source hash (of everything its mapping
 * reads) equals the one its live resource was written from is set aside first, by one lookup per page by upstream
 * id: it is neither resolved nor mapped nor hashed, so a pass costs in proportion to what changed.
 *
 * Records arrive in pages and are applied page by page (issue 16 item 5: a pass over 100,000 appointments holds a
 * page or two, not the window; `record-pages.ts` regroups them in pages of {@link APPLY_PAGE_SIZE} and sends each
 * page's skip lookup while the page before is applied): ids resolved, stored hashes read and the diff made per
 * page; what changed is committed in
 * transactions of up to {@link CHANGES_PER_COMMIT} changes. The pass keeps the ids it saw (ids only: about 10 MB per
 * 100,000), and delete-by-absence waits until every page of every set has been read: only then are the resources
 * of a set's scope that this pass did not see the ones the records system no longer lists. A pass runs in one
 * process under its stream's lease, so what it saw needs no table (stored marks were measured: 100,000 upserts a
 * full pass, and a write every hot pass, for nothing a crash could use). A pass that fails on some page deletes
 * nothing; the changes it had not committed yet are dropped (the next pass
 * finds them again), those it had committed are true upstream state with the events the next pass would write.
 */
import type { Resource, ResourceType } from '@medplum/fhirtypes';
import type { FhirIdResolver, SyncedResourceType, UpstreamRecord } from '../src/connectors/connector.js';
import { resolveFhirIds, type ResolvedIdCache } from '../src/connectors/resolve-fhir-ids.js';
import { commitChanges } from '../src/events/change-writer.js';
import type { JournalEventInput } from '../src/events/event-types.js';
import { chunk } from '../src/store/batching.js';
import { contentHash } from '../src/store/content-hash.js';
import type { Store } from '../src/store/database.js';
import { currentVersions, type CurrentHashFilter, type CurrentVersion } from '../src/store/resource-store.js';
import type { CommitResult, ResourceChange } from '../src/store/resource-writes.js';
import { idsInScope } from '../src/store/scope-ids.js';
import { storedSourceHashes, type StoredSource } from '../src/store/stored-source-hashes.js';
import { changeEventType } from './change-events.js';
import { diffResources, type DiffInput } from './diff.js';
import { applyPages, withLookupsAhead, type RecordPages } from './record-pages.js';

/** Records applied (and committed) together; a longer page from the records system is split. */
export const APPLY_PAGE_SIZE = 1000;

/** Changes (with their events) a pass writes in one transaction, at the most; fewer at the end of its reading. */
export const CHANGES_PER_COMMIT = 1000;

/** Versions a pass writes before it refreshes the planner's statistics for the pages still to come. */
const STATISTICS_AFTER_VERSIONS = 5000;

/** After each refresh, the next comes when the pass has written this many times as much. */
const STATISTICS_GROWTH = 4;

/** Types records refer to, whose FHIR ids a pass keeps from page to page. */
const REFERENCED_TYPES: readonly SyncedResourceType[] = ['Patient', 'Practitioner', 'Location', 'Schedule'];

/** One resource type's part of a pass. */
export interface RecordSet<R extends Resource = Resource> {
  resourceType: R['resourceType'] & SyncedResourceType;
  /** Every record the records system lists for the scope; pages are read one at a time, in order. */
  records: RecordPages<R>;
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

/** The ids a pass saw, per resource type: what is in scope and not here has vanished upstream. */
type SeenIds = Map<ResourceType, Set<string>>;

/** The changes of a pass not committed yet, and what its commits wrote. */
class PendingChanges {
  private changes: ResourceChange[] = [];
  private events: JournalEventInput[] = [];
  written = 0;
  journal = 0;
  /** Commits made so far: a lookup sent before the last one may miss what it wrote. */
  commits = 0;
  private statisticsDueAt = STATISTICS_AFTER_VERSIONS;

  constructor(
    private readonly store: Store,
    private readonly tenantId: string,
    private readonly options: ApplyOptions,
  ) {}

  async add(changes: readonly ResourceChange[], events: readonly JournalEventInput[]): Promise<void> {
    this.changes.push(...changes);
    this.events.push(...events);
    if (this.changes.length < CHANGES_PER_COMMIT) return;
    await this.flush();
    // The pages still to come are looked up in tables this pass has been filling. A planner that has not seen
    // them grow (PostgreSQL before its autovacuum gets to them, or with it off) plans the lookups as nested loops
    // over every row: a first load of 100,000 took 950 s instead of minutes. Statistics are refreshed as the pass
    // writes (after 5,000 versions, 20,000, 80,000…), so their cost stays a small share of the writing.
    if (this.written >= this.statisticsDueAt) {
      await this.store.analyze();
      this.statisticsDueAt = this.written * STATISTICS_GROWTH;
    }
  }

  async flush(): Promise<void> {
    const [changes, events] = [this.changes, this.events];
    this.changes = [];
    this.events = [];
    const result = await commit(this.store, this.tenantId, changes, events, this.options);
    if (changes.length > 0 || events.length > 0) this.commits++;
    this.written += result.written.length;
    this.journal += result.journal.length;
  }
}

/**
 * Applies the record sets of one pass, page by page; deletes by absence once every page has been read.
 * @see DESIGN.md section 1 (data flow) and section 5 (full-window passes detect hard deletes by absence)
 */
export async function applyRecords(
  store: Store,
  tenantId: string,
  sets: readonly RecordSet[],
  options: ApplyOptions,
): Promise<ApplyResult> {
  const total: ApplyResult = { written: 0, unchanged: 0, deleted: 0, events: 0 };
  const add = (part: ApplyResult) => {
    total.written += part.written;
    total.unchanged += part.unchanged;
    total.deleted += part.deleted;
    total.events += part.events;
  };
  const seen: SeenIds = new Map();
  const writes = new PendingChanges(store, tenantId, options);
  for (const set of sets) {
    const marks = set.vanished === 'ignore' ? undefined : seenOf(seen, set.resourceType as ResourceType);
    // The records a set's records point at (an appointment's patient, practitioner, location) recur page after
    // page: their ids are looked up once a pass. The set's own ids are not kept (one each, and as many as records).
    const types = REFERENCED_TYPES.filter((t) => t !== set.resourceType);
    const references: ResolvedIdCache = {
      types: new Set(types),
      ids: new Map(types.map((t) => [t, new Map<string, string>()])),
    };
    const type = set.resourceType as ResourceType;
    const pages = withLookupsAhead(
      applyPages(set.records, APPLY_PAGE_SIZE),
      (page) => lookUpSources(store, tenantId, type, page),
      () => writes.commits,
    );
    for await (const { page, found } of pages) {
      total.unchanged += await applyPage(
        store,
        tenantId,
        set,
        page,
        found,
        options,
        writes,
        marks,
        references,
      );
    }
  }
  // Every page of every set has been read: what this pass did not see in a set's scope is gone upstream. The first
  // such scope's ids are read while the last changes commit: those are changes to resources the pass saw, which
  // delete-by-absence leaves alone whether the read finds them in the scope or not.
  const absences = sets.filter((set) => set.vanished !== 'ignore');
  const first = absences[0];
  const firstInScope = first && idsInScope(store, tenantId, first.resourceType as ResourceType, first.scope);
  // Awaited below; a pass whose last commit fails must not leave it rejected unhandled.
  firstInScope?.catch(() => undefined);
  await writes.flush();
  total.written += writes.written;
  total.events += writes.journal;
  for (const set of absences) {
    const inScope =
      set === first && firstInScope
        ? await firstInScope
        : await idsInScope(store, tenantId, set.resourceType as ResourceType, set.scope);
    add(await applyAbsence(store, tenantId, set, inScope, options, seen));
  }
  return total;
}

function seenOf(seen: SeenIds, type: ResourceType): Set<string> {
  let ids = seen.get(type);
  if (!ids) seen.set(type, (ids = new Set()));
  return ids;
}

/** Maps and diffs one page, hands on what changed and marks everything it saw; returns how many were unchanged. */
async function applyPage(
  store: Store,
  tenantId: string,
  set: RecordSet,
  page: readonly UpstreamRecord[],
  sources: ReadonlyMap<string, StoredSource>,
  options: ApplyOptions,
  writes: PendingChanges,
  marks: Set<string> | undefined,
  references: ResolvedIdCache,
): Promise<number> {
  const type = set.resourceType as ResourceType;
  const { unchanged: skipped, rest: records, fhirIds } = skipUnchanged(page, sources, marks);
  if (records.length === 0) return skipped;
  // The FHIR ids the skip lookup found for the records that changed are not looked up again.
  const resolve = await resolveFhirIds(store, tenantId, records, {
    types: references.types,
    ids: new Map([...references.ids, [set.resourceType, fhirIds]]),
  });
  const inputs = diffInputsOf(records, resolve);
  // What the store holds of exactly these ids, in the scope or not (an appointment moving into the window), deleted
  // or not (one that reappears); the events of what changed are named against the same rows.
  const stored = await currentVersions(
    store,
    tenantId,
    type,
    inputs.map((input) => input.id),
  );
  const diff = diffResources(inputs, stored, contentHash);
  const upserts = [
    ...diff.changed,
    ...diff.unseen.map((input) => ({ resource: input.resource(), sourceHash: input.sourceHash })),
  ];
  let setChanges: ResourceChange[] = upserts.map(({ resource, sourceHash }) => ({
    op: 'upsert',
    resource: resource as Resource & { id: string },
    ...(sourceHash === undefined ? {} : { sourceHash }),
  }));
  // Same content, first time with a source hash: commit records the hash (no version, no event).
  const hashOnly: ResourceChange[] = diff.newSourceHashes.map(({ resource, sourceHash }) => ({
    op: 'upsert',
    resource: resource as Resource & { id: string },
    sourceHash,
  }));

  if (set.withhold && setChanges.length > 0) {
    const upserted = setChanges.flatMap((c) => (c.op === 'upsert' ? [c.resource] : []));
    const withheld = await set.withhold(upserted);
    if (withheld.size > 0) {
      setChanges = setChanges.filter((c) => c.op !== 'upsert' || !withheld.has(c.resource.id));
    }
  }

  const events = await eventsOf(store, tenantId, type, setChanges, options, stored);
  const changes = [...setChanges, ...hashOnly];
  await writes.add(changes, events);
  for (const input of inputs) marks?.add(input.id);
  return skipped + diff.unchanged;
}

/** The stored source hash and FHIR id of the page's records that have a source hash (the skip lookup). */
function lookUpSources(
  store: Store,
  tenantId: string,
  type: ResourceType,
  page: readonly UpstreamRecord[],
): Promise<Map<string, StoredSource>> {
  const hashed = page.flatMap((record) => (record.sourceHash === undefined ? [] : [record.upstreamId]));
  return hashed.length === 0 ? Promise.resolve(new Map()) : storedSourceHashes(store, tenantId, type, hashed);
}

/**
 * Sets aside the records whose source hash equals the one their live resource was written from (`sources`, the
 * skip lookup): unchanged, so neither their ids are resolved nor they are mapped or hashed (what a pass over
 * 100,000 appointments of which 1 % changed spent nearly all its time on). Their FHIR ids come from the same
 * lookup and are marked seen; so do those of the records that changed (`fhirIds`), which are then not resolved
 * again. A record listed twice counts once, as the differ counts it.
 */
function skipUnchanged(
  page: readonly UpstreamRecord[],
  sources: ReadonlyMap<string, StoredSource>,
  marks: Set<string> | undefined,
): { unchanged: number; rest: UpstreamRecord[]; fhirIds: Map<string, string> } {
  const fhirIds = new Map<string, string>();
  const rest: UpstreamRecord[] = [];
  const skipped = new Set<string>();
  for (const record of page) {
    const known = record.sourceHash === undefined ? undefined : sources.get(record.upstreamId);
    if (known === undefined || record.sourceHash !== known.sourceHash) {
      rest.push(record);
      if (known !== undefined) fhirIds.set(record.upstreamId, known.fhirId);
    } else if (!skipped.has(record.upstreamId)) {
      skipped.add(record.upstreamId);
      marks?.add(known.fhirId);
    }
  }
  return { unchanged: skipped.size, rest, fhirIds };
}

/** Deletes (or, when the set confirms, re-reads) what this pass did not see of the set's scope (`inScope`). */
async function applyAbsence(
  store: Store,
  tenantId: string,
  set: RecordSet,
  inScope: readonly string[],
  options: ApplyOptions,
  seen: SeenIds,
): Promise<ApplyResult> {
  const type = set.resourceType as ResourceType;
  const saw = seenOf(seen, type);
  const vanished = inScope.filter((id) => !saw.has(id));
  const total: ApplyResult = { written: 0, unchanged: 0, deleted: 0, events: 0 };
  for (const ids of chunk(vanished, APPLY_PAGE_SIZE)) {
    const changes: ResourceChange[] = [];
    for (const id of ids) {
      // An appointment that left the window may have moved rather than gone: ask before deleting.
      const current = set.vanished === 'delete' || set.vanished === 'ignore' ? null : await set.vanished(id);
      if (current === null) {
        changes.push({ op: 'delete', resourceType: type, id });
        total.deleted++;
      } else {
        const fresh = current.toFhir(await resolveFhirIds(store, tenantId, [current]));
        changes.push({ op: 'upsert', resource: fresh as Resource & { id: string } });
      }
    }
    const events = await eventsOf(store, tenantId, type, changes, options);
    const result = await commit(store, tenantId, changes, events, options);
    total.written += result.written.length;
    total.events += result.journal.length;
  }
  return total;
}

/**
 * The journal events of `changes` (none on a baseline load): each against what the store holds now, or against
 * `read`, the store's rows of every changed id as the caller just read them (an id absent there is not stored).
 */
async function eventsOf(
  store: Store,
  tenantId: string,
  type: ResourceType,
  changes: readonly ResourceChange[],
  options: ApplyOptions,
  read?: ReadonlyMap<string, CurrentVersion>,
): Promise<JournalEventInput[]> {
  if (options.baseline || changes.length === 0) return [];
  const idOf = (change: ResourceChange) => (change.op === 'upsert' ? change.resource.id : change.id);
  // One read for all of them: a read per change was one round trip each (1,000 in a 1 % pass of 100,000).
  const stored = read ?? (await currentVersions(store, tenantId, type, changes.map(idOf)));
  return changes.map((change) => {
    const id = idOf(change);
    const before = stored.get(id);
    const previous = before && !before.deleted ? before.content() : undefined;
    const next = change.op === 'upsert' ? change.resource : undefined;
    return { eventType: changeEventType(previous, next), resourceType: type, resourceId: id };
  });
}

/** Commits changes and events, guarded against newer local writes, in one transaction. */
function commit(
  store: Store,
  tenantId: string,
  changes: readonly ResourceChange[],
  events: readonly JournalEventInput[],
  options: ApplyOptions,
): Promise<CommitResult> {
  return commitChanges(store, tenantId, changes, events, {
    ...(options.unchangedSinceSeq === undefined
      ? {}
      : { guard: { unchangedSinceSeq: options.unchangedSinceSeq } }),
  });
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
