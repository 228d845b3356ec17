/**
 * Turns upstream records into FHIR resources: every upstream id they mention (their own and their references)
 * gets its FHIR id from the store's id table, created on first sight (DESIGN.md section 3) — an appointment a
 * booking saga wrote (its record carries the saga's marker) takes the saga's id.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Store } from '../store/database.js';
import { bookingIdsByMarker } from '../store/saga-markers.js';
import { fhirIdsFor } from '../store/upstream-ids.js';
import type { FhirIdResolver, SyncedResourceType, UpstreamRecord } from './connector.js';

/**
 * Mappings already resolved, by type, that a caller resolving page after page keeps (a mapping never changes once
 * made): ids found here are not looked up again, and ids of the `types` it keeps are added to it.
 */
export interface ResolvedIdCache {
  types: ReadonlySet<SyncedResourceType>;
  ids: Map<SyncedResourceType, Map<string, string>>;
}

/** Gives FHIR ids to every upstream id the records mention (their own and their references), creating mappings. */
export async function resolveFhirIds(
  store: Store,
  tenantId: string,
  records: readonly UpstreamRecord[],
  cache?: ResolvedIdCache,
): Promise<FhirIdResolver> {
  const wanted = new Map<SyncedResourceType, Set<string>>();
  const want = (type: SyncedResourceType, id: string) => {
    if (cache?.ids.get(type)?.has(id)) return;
    let ids = wanted.get(type);
    if (!ids) wanted.set(type, (ids = new Set()));
    ids.add(id);
  };
  for (const record of records) {
    want(record.resourceType, record.upstreamId);
    for (const ref of record.references) want(ref.resourceType, ref.upstreamId);
  }
  // An appointment a booking saga wrote takes the saga's id (UpstreamRecord.marker).
  const markers = new Map(
    records.flatMap((r) =>
      r.resourceType === 'Appointment' && r.marker ? [[r.upstreamId, r.marker] as const] : [],
    ),
  );
  const sagaIds = async (unmapped: readonly string[]): Promise<Map<string, string>> => {
    const marked = unmapped.flatMap((id) => {
      const marker = markers.get(id);
      return marker ? [[id, marker] as const] : [];
    });
    if (marked.length === 0) return new Map();
    const byMarker = await bookingIdsByMarker(
      store,
      tenantId,
      marked.map(([, marker]) => marker),
    );
    return new Map(
      marked.flatMap(([id, marker]) => {
        const sagaId = byMarker.get(marker);
        return sagaId ? [[id, sagaId] as const] : [];
      }),
    );
  };
  const resolved = new Map<SyncedResourceType, Map<string, string>>();
  for (const [type, ids] of wanted) {
    const preferred = type === 'Appointment' && markers.size > 0 ? sagaIds : undefined;
    const found = await fhirIdsFor(store, tenantId, type, [...ids], preferred);
    resolved.set(type, found);
    if (!cache?.types.has(type)) continue;
    let kept = cache.ids.get(type);
    if (!kept) cache.ids.set(type, (kept = new Map()));
    for (const [upstreamId, fhirId] of found) kept.set(upstreamId, fhirId);
  }
  return (type, upstreamId) => {
    const id = resolved.get(type)?.get(upstreamId) ?? cache?.ids.get(type)?.get(upstreamId);
    if (id === undefined) throw new Error(`no FHIR id resolved for ${type} ${upstreamId}`);
    return id;
  };
}

/** The FHIR resources for `records`, ids resolved. */
export async function toFhirResources<R extends Resource>(
  store: Store,
  tenantId: string,
  records: readonly UpstreamRecord<R>[],
): Promise<R[]> {
  const resolve = await resolveFhirIds(store, tenantId, records);
  return records.map((r) => r.toFhir(resolve));
}
