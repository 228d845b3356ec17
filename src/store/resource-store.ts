/**
 * Reading FHIR resources from the store (DESIGN.md section 3): the current version, one version, the history, and
 * the hashes a differ compares upstream content with. Writing them is `resource-writes.ts`.
 */
import type { ExtractResource, Resource, ResourceType } from '@medplum/fhirtypes';
import { VALUES_PER_IN_LIST, anyOf, chunk, selectInChunks } from './batching.js';
import type { Store } from './database.js';

/** A resource as the store holds it: the JSON plus the version bookkeeping. */
export interface StoredResource<T extends Resource = Resource> {
  resourceType: T['resourceType'];
  id: string;
  versionId: number;
  /** ISO-8601 UTC, equal to `resource.meta.lastUpdated`. */
  lastUpdated: string;
  /** True for a deleted resource (reads answer 410); `resource` then holds its last content. */
  deleted: boolean;
  resource: T;
}

/** What a differ needs to know about a current row. */
export interface CurrentHash {
  hash: string;
  versionId: number;
  deleted: boolean;
  /** Hash of the upstream record the current version came from, when the connector gave one. */
  sourceHash: string | null;
}

/** Filter of {@link currentHashes}. */
export interface CurrentHashFilter {
  /** Only these ids (deleted rows included). */
  ids?: readonly string[];
  /** Only rows not deleted whose `period_start` is at or after this ISO UTC instant. */
  periodFrom?: string;
  /** Only rows not deleted whose `period_start` is before this ISO UTC instant. */
  periodTo?: string;
}

/**
 * The content hash, version and deleted flag of a tenant's resources of one type: everything when `filter` is
 * empty, else the rows matching all given conditions. A differ compares upstream content with this map.
 *
 * @see DESIGN.md section 3
 */
export async function currentHashes(
  store: Store,
  tenantId: string,
  resourceType: ResourceType,
  filter: CurrentHashFilter = {},
): Promise<Map<string, CurrentHash>> {
  const result = new Map<string, CurrentHash>();
  const idChunks =
    filter.ids === undefined ? [undefined] : chunk([...new Set(filter.ids)], VALUES_PER_IN_LIST);
  for (const ids of idChunks) {
    if (ids?.length === 0) continue;
    let query = store.db
      .selectFrom('resources')
      .select(['id', 'content_hash', 'version_id', 'deleted', 'source_hash'])
      .where('tenant_id', '=', tenantId)
      .where('resource_type', '=', resourceType);
    if (ids !== undefined) query = query.where('id', 'in', anyOf(store.capabilities, ids));
    if (filter.periodFrom !== undefined || filter.periodTo !== undefined)
      query = query.where('deleted', '=', 0);
    if (filter.periodFrom !== undefined) query = query.where('period_start', '>=', filter.periodFrom);
    if (filter.periodTo !== undefined) query = query.where('period_start', '<', filter.periodTo);
    for (const row of await query.execute()) {
      result.set(row.id, {
        hash: row.content_hash,
        versionId: row.version_id,
        deleted: row.deleted === 1,
        sourceHash: row.source_hash,
      });
    }
  }
  return result;
}

/** {@link CurrentHash} of a row, and its content for whoever needs more than the hash. */
export interface CurrentVersion extends CurrentHash {
  /** The current version's content (its last content when deleted), parsed when asked for. */
  content(): Resource;
}

/**
 * {@link currentHashes} of exactly `ids` (deleted rows included), each with its content: what a sync pass diffs a
 * page's changed records against and names their events by, in one query where two were two round trips a page.
 *
 * @see DESIGN.md section 3
 */
export async function currentVersions(
  store: Store,
  tenantId: string,
  resourceType: ResourceType,
  ids: readonly string[],
): Promise<Map<string, CurrentVersion>> {
  const rows = await selectInChunks(ids, (part) =>
    store.db
      .selectFrom('resources')
      .select(['id', 'content_hash', 'version_id', 'deleted', 'source_hash', 'resource'])
      .where('tenant_id', '=', tenantId)
      .where('resource_type', '=', resourceType)
      .where('id', 'in', anyOf(store.capabilities, part))
      .execute(),
  );
  return new Map(
    rows.map((row) => [
      row.id,
      {
        hash: row.content_hash,
        versionId: row.version_id,
        deleted: row.deleted === 1,
        sourceHash: row.source_hash,
        content: () => JSON.parse(row.resource) as Resource,
      },
    ]),
  );
}

/**
 * The current version of a resource, deleted or not; undefined when the tenant never had it.
 *
 * @see DESIGN.md section 3
 */
export async function readResource<K extends ResourceType>(
  store: Store,
  tenantId: string,
  resourceType: K,
  id: string,
): Promise<StoredResource<ExtractResource<K>> | undefined> {
  const row = await currentRows(store, tenantId, resourceType).where('id', '=', id).executeTakeFirst();
  return row ? toStored<ExtractResource<K>>(row) : undefined;
}

/**
 * {@link readResource} of several ids at once, by id; ids the tenant never had are absent. One query per
 * {@link VALUES_PER_IN_LIST} ids, where a loop of reads would make a round trip each (a sync pass naming the event
 * of each of its 1,000 changes).
 *
 * @see DESIGN.md section 3
 */
export async function readResources<K extends ResourceType>(
  store: Store,
  tenantId: string,
  resourceType: K,
  ids: readonly string[],
): Promise<Map<string, StoredResource<ExtractResource<K>>>> {
  const rows = await selectInChunks(ids, (part) =>
    currentRows(store, tenantId, resourceType).where('id', 'in', anyOf(store.capabilities, part)).execute(),
  );
  return new Map(rows.map((row) => [row.id, toStored<ExtractResource<K>>(row)]));
}

/** The current-version rows of one resource type of a tenant, as {@link toStored} reads them. */
function currentRows(store: Store, tenantId: string, resourceType: ResourceType) {
  return store.db
    .selectFrom('resources')
    .select(['resource_type', 'id', 'version_id', 'last_updated', 'deleted', 'resource'])
    .where('tenant_id', '=', tenantId)
    .where('resource_type', '=', resourceType);
}

/**
 * One version of a resource (`vread`); undefined when that version does not exist for the tenant.
 *
 * @see DESIGN.md section 3
 */
export async function readVersion<K extends ResourceType>(
  store: Store,
  tenantId: string,
  resourceType: K,
  id: string,
  versionId: number,
): Promise<StoredResource<ExtractResource<K>> | undefined> {
  const row = await store.db
    .selectFrom('resource_history')
    .select(['resource_type', 'id', 'version_id', 'last_updated', 'deleted', 'resource'])
    .where('tenant_id', '=', tenantId)
    .where('resource_type', '=', resourceType)
    .where('id', '=', id)
    .where('version_id', '=', versionId)
    .executeTakeFirst();
  return row ? toStored<ExtractResource<K>>(row) : undefined;
}

/**
 * Every version of a resource, newest first (`_history`); empty when the tenant never had it.
 *
 * @see DESIGN.md section 3
 */
export async function resourceHistory<K extends ResourceType>(
  store: Store,
  tenantId: string,
  resourceType: K,
  id: string,
  options: { limit?: number } = {},
): Promise<Array<StoredResource<ExtractResource<K>>>> {
  let query = store.db
    .selectFrom('resource_history')
    .select(['resource_type', 'id', 'version_id', 'last_updated', 'deleted', 'resource'])
    .where('tenant_id', '=', tenantId)
    .where('resource_type', '=', resourceType)
    .where('id', '=', id)
    .orderBy('version_id', 'desc');
  if (options.limit !== undefined) query = query.limit(options.limit);
  return (await query.execute()).map((row) => toStored<ExtractResource<K>>(row));
}

function toStored<T extends Resource>(row: {
  resource_type: string;
  id: string;
  version_id: number;
  last_updated: string;
  deleted: number;
  resource: string;
}): StoredResource<T> {
  return {
    resourceType: row.resource_type as T['resourceType'],
    id: row.id,
    versionId: row.version_id,
    lastUpdated: row.last_updated,
    deleted: row.deleted === 1,
    resource: JSON.parse(row.resource) as T,
  };
}
