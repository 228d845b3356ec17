/**
 * The store queries availability is computed from (DESIGN.md section 4): Schedules, Locations (for their zones),
 * the blocks and appointments that make time busy, and the time claimed by bookings in flight. Only
 * `src/availability/` should need them; it turns these rows into schedules, zones and busy intervals.
 */
import { VALUES_PER_IN_LIST, chunk } from './batching.js';
import type { Store } from './database.js';
import { EMPTY, join, q, statementOf } from './sql-text.js';

/**
 * The size of one `booking_claims` bucket: a hold claims every bucket its range touches, so two overlapping holds
 * collide on a primary key (DESIGN.md section 4, step 2).
 */
export const CLAIM_GRANULARITY_MINUTES = 5;

/** A live Schedule row: its JSON and the practitioner and location its actors name (first of each). */
export interface ScheduleRow {
  id: string;
  resource: string;
  status: string | null;
  ref_practitioner: string | null;
  ref_location: string | null;
}

/** Filter of {@link scheduleRows}; every given condition must hold, an empty list matches nothing. */
export interface ScheduleRowFilter {
  ids?: readonly string[];
  practitionerIds?: readonly string[];
  locationIds?: readonly string[];
  /** Only Schedules whose `active` is true. */
  activeOnly?: boolean;
  /** At most this many rows (default: no limit). */
  limit?: number;
}

/**
 * The tenant's live Schedules matching `filter`, by id. Id lists come from one request (a FHIR query string), so
 * each is capped at {@link VALUES_PER_IN_LIST} to keep an abusive one within bind limits.
 *
 * @see DESIGN.md section 4
 */
export async function scheduleRows(
  store: Store,
  tenantId: string,
  filter: ScheduleRowFilter = {},
): Promise<ScheduleRow[]> {
  for (const list of [filter.ids, filter.practitionerIds, filter.locationIds])
    if (list?.length === 0) return [];
  let query = store.db
    .selectFrom('resources')
    .select(['id', 'resource', 'status', 'ref_practitioner', 'ref_location'])
    .where('tenant_id', '=', tenantId)
    .where('resource_type', '=', 'Schedule')
    .where('deleted', '=', 0);
  if (filter.activeOnly) query = query.where('status', '=', 'active');
  if (filter.ids) query = query.where('id', 'in', capped(filter.ids));
  if (filter.practitionerIds) query = query.where('ref_practitioner', 'in', capped(filter.practitionerIds));
  if (filter.locationIds) query = query.where('ref_location', 'in', capped(filter.locationIds));
  query = query.orderBy('id');
  if (filter.limit !== undefined) query = query.limit(filter.limit);
  return query.execute();
}

/**
 * A stamp of the tenant's Schedules and Locations (what schedules, rules and zones are derived from): it changes
 * with every write of one, as each write (deletes included) raises that row's version. One index range, a few
 * dozen rows in a practice.
 *
 * @see DESIGN.md section 4
 */
export async function referenceStamp(store: Store, tenantId: string): Promise<string> {
  // Raw SQL: every Slot and Patient search asks, and building the query through kysely's builder cost more than
  // running it (issue 16).
  // Kept between writes of `resources`: asked by every Slot and Patient search (issue 16).
  const [row] = await store.readKept<{ n: number | string | null; v: number | string | null }>(
    statementOf(
      q`select count(*) as n, sum(version_id) as v from resources where tenant_id = ${tenantId} and resource_type in ('Schedule', 'Location')`,
      store.dialect,
    ),
    ['resources'],
  );
  return `${row?.n ?? 0}:${row?.v ?? 0}`;
}

/**
 * The JSON of live Locations: those with these ids (any number), or without ids the first `limit` by id.
 *
 * @see DESIGN.md section 4
 */
export async function locationRows(
  store: Store,
  tenantId: string,
  filter: { ids: readonly string[] } | { limit: number },
): Promise<Array<{ id: string; resource: string }>> {
  const base = () =>
    store.db
      .selectFrom('resources')
      .select(['id', 'resource'])
      .where('tenant_id', '=', tenantId)
      .where('resource_type', '=', 'Location')
      .where('deleted', '=', 0);
  if ('limit' in filter) return base().orderBy('id').limit(filter.limit).execute();
  const rows: Array<{ id: string; resource: string }> = [];
  for (const part of chunk([...new Set(filter.ids)], VALUES_PER_IN_LIST)) {
    if (part.length > 0) rows.push(...(await base().where('id', 'in', part).execute()));
  }
  return rows;
}

/** A stored period that makes time busy: a blocking Slot (owned by its schedule) or an Appointment (by its practitioner). */
export interface BusyRow {
  id: string;
  owner: string;
  start: string;
  end: string;
  status: string | null;
}

/** A time range as ISO UTC instants, `[from, to)`. */
export interface IsoRange {
  from: string;
  to: string;
}

/** Which stored periods {@link busyRows} reads. */
export interface BusyRowQuery {
  resourceType: 'Slot' | 'Appointment';
  /** The column naming the owner: a Slot's schedule, an Appointment's (first) practitioner. */
  ownerColumn: 'ref_schedule' | 'ref_practitioner';
  owners: readonly string[];
  /** Rows overlapping this range… */
  range: IsoRange;
  /** …starting at or after this instant, when given (keeps the `period_start` index range narrow). */
  earliestStart?: string;
  /** Only these statuses, or all but these. */
  statuses: { in: readonly string[] } | { notIn: readonly string[] };
}

/**
 * Live rows of the owners that overlap the range with a status that makes time busy: blocking Slots of schedules,
 * Appointments of practitioners. `owner` is the owner's id.
 *
 * @see DESIGN.md section 4
 */
export async function busyRows(store: Store, tenantId: string, query: BusyRowQuery): Promise<BusyRow[]> {
  const result: BusyRow[] = [];
  const owner = query.ownerColumn;
  for (const part of chunk([...new Set(query.owners)], VALUES_PER_IN_LIST)) {
    if (part.length === 0) continue;
    let select = store.db
      .selectFrom('resources')
      .select(['id', owner, 'period_start', 'period_end', 'status'])
      .where('tenant_id', '=', tenantId)
      .where('resource_type', '=', query.resourceType)
      .where(owner, 'in', part)
      .where('period_start', '<', query.range.to)
      .where('period_end', '>', query.range.from)
      .where('deleted', '=', 0);
    if (query.earliestStart !== undefined) select = select.where('period_start', '>=', query.earliestStart);
    select =
      'in' in query.statuses
        ? select.where('status', 'in', [...query.statuses.in])
        : select.where('status', 'not in', [...query.statuses.notIn]);
    for (const row of await select.execute()) {
      const ownerId = row[owner];
      if (!ownerId || !row.period_start || !row.period_end) continue;
      result.push({
        id: row.id,
        owner: ownerId,
        start: row.period_start,
        end: row.period_end,
        status: row.status,
      });
    }
  }
  return result;
}

/**
 * Claimed buckets (`booking_claims`) starting in `[from, to)`, ordered by practitioner then bucket start; only
 * these practitioners' when a non-empty list is given.
 *
 * @see DESIGN.md section 4
 */
export async function claimedBucketRows(
  store: Store,
  tenantId: string,
  range: IsoRange,
  practitionerIds?: readonly string[],
): Promise<Array<{ practitioner_id: string; bucket_start: string }>> {
  // Raw SQL: asked by every Slot search; kysely's builder cost more than the (usually empty) index range.
  const only = practitionerIds?.length ? q`and practitioner_id in (${join([...practitionerIds])})` : EMPTY;
  const rows = await store.readKept<{ practitioner_id: string; bucket_start: string }>(
    statementOf(
      q`select practitioner_id, bucket_start
    from booking_claims where tenant_id = ${tenantId} and bucket_start >= ${range.from} and bucket_start < ${range.to}
    ${only} order by practitioner_id, bucket_start`,
      store.dialect,
    ),
    ['booking_claims'],
  );
  return [...rows];
}

function capped(ids: readonly string[]): string[] {
  return [...new Set(ids)].slice(0, VALUES_PER_IN_LIST);
}
