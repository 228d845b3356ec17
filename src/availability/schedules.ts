/**
 * Schedules (practitioner × location) as availability, booking and the facade need them: loaded once here from the
 * store, so Slot search, `$find`, `$hold` and booking agree on which Schedules exist and whom they stand for.
 */
import type { Schedule } from '@medplum/fhirtypes';
import type { ScheduleRowFilter } from '../store/availability-queries.js';
import { referenceData, type ReferenceData } from './reference-data.js';
import type { Store } from '../store/database.js';
import { readScheduleRules, type AppointmentTypeRule, type ScheduleRules } from './schedule-rules.js';

/** A live Schedule with the practitioner and location its actors name (the first of each), when it names them. */
export interface ScheduleRecord {
  schedule: Schedule & { id: string };
  practitionerId: string | null;
  locationId: string | null;
  active: boolean;
  /** Its rules as reference data read them once (shared, frozen). */
  rules: Readonly<ScheduleRules>;
}

/** A live Schedule that names both a practitioner and a location: one that bookings can refer to. */
export interface LoadedSchedule extends ScheduleRecord {
  practitionerId: string;
  locationId: string;
}

/** Most Schedules a facade lookup reads; a practice has a few dozen. */
const SCHEDULES_READ = 1000;

/**
 * The tenant's live Schedules matching `filter`, by id.
 *
 * @see DESIGN.md section 4
 */
export async function findSchedules(
  store: Store,
  tenantId: string,
  filter: ScheduleRowFilter = {},
): Promise<ScheduleRecord[]> {
  for (const list of [filter.ids, filter.practitionerIds, filter.locationIds])
    if (list?.length === 0) return [];
  return matchSchedules(await referenceData(store, tenantId), filter);
}

/**
 * {@link findSchedules} over reference data a caller already holds (one freshness check per request).
 *
 * @see DESIGN.md section 4
 */
export function matchSchedules(reference: ReferenceData, filter: ScheduleRowFilter = {}): ScheduleRecord[] {
  for (const list of [filter.ids, filter.practitionerIds, filter.locationIds])
    if (list?.length === 0) return [];
  const ids = filter.ids && new Set(filter.ids);
  const practitioners = filter.practitionerIds && new Set(filter.practitionerIds);
  const locations = filter.locationIds && new Set(filter.locationIds);
  const matching = reference.schedules.filter(
    ({ row }) =>
      (!filter.activeOnly || row.status === 'active') &&
      (!ids || ids.has(row.id)) &&
      (!practitioners || (row.ref_practitioner !== null && practitioners.has(row.ref_practitioner))) &&
      (!locations || (row.ref_location !== null && locations.has(row.ref_location))),
  );
  return matching.slice(0, filter.limit ?? matching.length).map(({ schedule, row, rules }) => ({
    // Shared with other requests (reference-data.ts): frozen, read only.
    schedule: schedule as Schedule & { id: string },
    practitionerId: row.ref_practitioner,
    locationId: row.ref_location,
    active: row.status === 'active',
    rules,
  }));
}

/**
 * The Schedule with this id, when it is live and names a practitioner and a location.
 *
 * @see DESIGN.md section 4
 */
export async function loadSchedule(
  store: Store,
  tenantId: string,
  id: string,
): Promise<LoadedSchedule | undefined> {
  return (await bookableSchedules(store, tenantId, { ids: [id] }))[0];
}

/**
 * The live Schedules of a practitioner (one per location where they work), active ones first.
 *
 * @see DESIGN.md section 4
 */
export function schedulesOf(
  store: Store,
  tenantId: string,
  practitionerId: string,
): Promise<LoadedSchedule[]> {
  return bookableSchedules(store, tenantId, { practitionerIds: [practitionerId] });
}

/**
 * Every live Schedule of the tenant that names a practitioner and a location, active ones first.
 *
 * @see DESIGN.md section 4
 */
export function allSchedules(store: Store, tenantId: string): Promise<LoadedSchedule[]> {
  return bookableSchedules(store, tenantId, {});
}

/**
 * The id of the live Schedule of a practitioner at a location, if they work there.
 *
 * @see DESIGN.md section 4
 */
export async function scheduleIdAt(
  store: Store,
  tenantId: string,
  practitionerId: string,
  locationId: string,
): Promise<string | undefined> {
  const [found] = await findSchedules(store, tenantId, {
    practitionerIds: [practitionerId],
    locationIds: [locationId],
    limit: 1,
  });
  return found?.schedule.id;
}

/** The appointment types a Schedule offers, in its `serviceType` order. */
export function typesOf(schedule: Schedule): AppointmentTypeRule[] {
  return readScheduleRules(schedule).types;
}

async function bookableSchedules(
  store: Store,
  tenantId: string,
  filter: ScheduleRowFilter,
): Promise<LoadedSchedule[]> {
  const records = await findSchedules(store, tenantId, { ...filter, limit: SCHEDULES_READ });
  return records
    .sort((a, b) => Number(b.active) - Number(a.active))
    .filter((r): r is LoadedSchedule => r.practitionerId !== null && r.locationId !== null);
}
