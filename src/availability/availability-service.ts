/**
 * Availability from the store alone (DESIGN.md section 4): the facade never asks the records system which times are
 * free. Schedules carry their working hours and type rules (schedule-rules.ts), Locations their zone, blocks are
 * stored as `busy-unavailable` Slots and appointments with their period; this module loads what a query's range
 * needs through the indexed columns and hands it to the pure {@link computeFreeSlots} / {@link checkSlot}.
 *
 * What counts as busy:
 * - stored Slots of the schedule that are `busy-unavailable` (blocks, closures) → `provider-unavailable`;
 *   `busy` / `busy-tentative` ones → taken;
 * - the practitioner's Appointments at ANY location, unless `cancelled`, `noshow`, `entered-in-error`,
 *   `proposed` or `waitlist` (which hold no time) → taken. The practitioner is the Appointment's first
 *   Practitioner participant (the `ref_practitioner` column);
 * - `extraBusy`: holds and accepted-but-not-yet-read-back writes, from the booking saga → taken.
 */
import type { Location, Schedule, Slot } from '@medplum/fhirtypes';
import type { TenantConfig } from '../config.js';
import { VALUES_PER_IN_LIST, chunk } from '../store/batching.js';
import type { Store } from '../store/database.js';
import { locationZone, readScheduleRules } from './schedule-rules.js';
import {
  checkSlot,
  computeFreeSlots,
  type BusyInterval,
  type ScheduleAvailability,
  type SlotCheck,
} from './slot-calculator.js';

/** Appointment statuses that occupy no time. */
const FREEING_APPOINTMENT_STATUSES = ['cancelled', 'noshow', 'entered-in-error', 'proposed', 'waitlist'];
/** Stored Slot statuses that close time: blocks, and holds should a connector ever publish them as Slots. */
const BLOCKING_SLOT_STATUSES = ['busy-unavailable', 'busy', 'busy-tentative'];
/**
 * How far before a range an appointment that overlaps it may start. The records system refuses visits longer than a
 * day, so the `period_start` index range stays one day wider than the query instead of the whole history.
 */
const MAX_APPOINTMENT_MS = 24 * 60 * 60_000;

/** Time a caller knows is taken that the store does not show yet (a hold, a write not yet read back). */
export interface ExtraBusy {
  practitionerId: string;
  /** FHIR instant (with offset) or ISO UTC. */
  start: string;
  end: string;
}

/** A slot search (FHIR `Slot?start=ge…&start=lt…`, `$find`). */
export interface SlotSearchQuery {
  /** Starts at or after this instant … */
  from: Date;
  /** … and before this one. */
  to: Date;
  /** Only these Schedules (FHIR ids). */
  scheduleIds?: string[];
  /** Only schedules of these Practitioners (FHIR ids). */
  practitionerIds?: string[];
  /** Only schedules at these Locations (FHIR ids). */
  locationIds?: string[];
  /** Only slots offering one of these types: `system|code`, `code`, `|code` (no system) or `system|` (any code). */
  serviceTypeCodes?: string[];
  now: Date;
  extraBusy?: ExtraBusy[];
}

/** One booking to check, as a slot id names it plus the type to book. */
export interface SlotCheckRequest {
  scheduleId: string;
  start: Date;
  minutes: number;
  /** Code of the appointment type (in the tenant's appointment-type system). */
  typeCode: string;
  now: Date;
  extraBusy?: ExtraBusy[];
  /** Appointments not to count as busy: the one a reschedule moves. */
  ignoreAppointmentIds?: string[];
}

/** Why a slot cannot be booked: the calculator's reasons plus `unknown-schedule` (missing or inactive). */
export type SlotAvailability = SlotCheck | { free: false; reason: 'unknown-schedule'; message: string };

interface LoadedSchedule {
  schedule: Schedule;
  practitionerId: string | null;
  locationId: string | null;
}

/**
 * The free slots matching `query`, sorted by start, then schedule, then duration. Schedules that are inactive, carry
 * no working hours, or whose zone is unknown (no Location zone and no tenant zone) offer nothing.
 *
 * @see DESIGN.md section 4
 */
export async function searchSlots(
  store: Store,
  tenant: TenantConfig,
  query: SlotSearchQuery,
): Promise<Slot[]> {
  if (!(query.from < query.to)) return [];
  const schedules = await loadSchedules(store, tenant.id, query);
  if (schedules.length === 0) return [];
  const zones = await loadZones(store, tenant, schedules);
  const filters = (query.serviceTypeCodes ?? []).map(parseTokenFilter);
  // Nothing before the minimum notice or past the horizon is offered, so nothing there needs loading. The horizon
  // is counted in local days per schedule by the calculator; a day more covers any zone's DST shift.
  const now = query.now.getTime();
  const range = {
    from: Math.max(query.from.getTime(), now + tenant.booking.minimumNoticeMinutes * 60_000),
    to: Math.min(query.to.getTime(), now + (tenant.booking.horizonDays + 1) * 24 * 60 * 60_000),
  };
  if (!(range.from < range.to)) return [];

  const prepared = schedules.flatMap((loaded) => {
    const zone = zones.get(loaded.schedule.id ?? '');
    if (!zone) return [];
    const rules = readScheduleRules(loaded.schedule);
    const typeCodes =
      filters.length === 0
        ? undefined
        : rules.types.filter((t) => filters.some((f) => f(t.system, t.code))).map((t) => t.code);
    if (rules.windows.length === 0 || typeCodes?.length === 0) return [];
    return [{ loaded, zone, rules, typeCodes }];
  });
  if (prepared.length === 0) return [];

  // Busy time is loaded for the query's range, widened by the longest visit so a slot starting just before `to`
  // still sees what would overlap its end.
  const longest = Math.max(...prepared.flatMap((p) => p.rules.types.map((t) => t.minutes)), 0);
  const busyRange = { from: range.from, to: range.to + longest * 60_000 };
  const busy = await loadBusy(
    store,
    tenant.id,
    prepared.map((p) => p.loaded),
    busyRange,
    query.extraBusy ?? [],
  );

  const slots = prepared.flatMap(({ loaded, zone, rules, typeCodes }) =>
    computeFreeSlots(availabilityOf(loaded, zone, rules, busy), {
      from: query.from,
      to: query.to,
      now: query.now,
      minimumNoticeMinutes: tenant.booking.minimumNoticeMinutes,
      horizonDays: tenant.booking.horizonDays,
      ...(typeCodes ? { typeCodes } : {}),
    }),
  );
  const startOf = new Map(slots.map((s) => [s, Date.parse(s.start)]));
  return slots.sort(
    (a, b) =>
      (startOf.get(a) ?? 0) - (startOf.get(b) ?? 0) ||
      compare(a.schedule.reference ?? '', b.schedule.reference ?? '') ||
      Date.parse(a.end) - Date.parse(b.end),
  );
}

/**
 * Whether one slot can be booked now, checked against the store (the booking saga's validation step; its live
 * re-check upstream comes after). Returns the Slot when free, else the reason and a message safe to read to a patient.
 *
 * @see DESIGN.md section 4
 */
export async function isSlotFree(
  store: Store,
  tenant: TenantConfig,
  request: SlotCheckRequest,
): Promise<SlotAvailability> {
  const [loaded] = await loadSchedules(store, tenant.id, { scheduleIds: [request.scheduleId] });
  const zone = loaded ? (await loadZones(store, tenant, [loaded])).get(request.scheduleId) : undefined;
  if (!loaded || !zone)
    return { free: false, reason: 'unknown-schedule', message: 'that schedule is not bookable' };
  const start = request.start.getTime();
  const busy = await loadBusy(
    store,
    tenant.id,
    [loaded],
    { from: start, to: start + Math.max(request.minutes, 1) * 60_000 },
    request.extraBusy ?? [],
    request.ignoreAppointmentIds,
  );
  return checkSlot(
    availabilityOf(loaded, zone, readScheduleRules(loaded.schedule), busy),
    {
      now: request.now,
      minimumNoticeMinutes: tenant.booking.minimumNoticeMinutes,
      horizonDays: tenant.booking.horizonDays,
    },
    { start: request.start, minutes: request.minutes, typeCode: request.typeCode },
  );
}

function availabilityOf(
  loaded: LoadedSchedule,
  zone: string,
  rules: ReturnType<typeof readScheduleRules>,
  busy: BusyByOwner,
): ScheduleAvailability {
  const id = loaded.schedule.id ?? '';
  const horizon = loaded.schedule.planningHorizon;
  const planStart = horizon?.start ? Date.parse(horizon.start) : NaN;
  const planEnd = horizon?.end ? Date.parse(horizon.end) : NaN;
  return {
    scheduleId: id,
    zone,
    windows: rules.windows,
    types: rules.types,
    busy: [
      ...(busy.bySchedule.get(id) ?? []),
      ...(loaded.practitionerId ? (busy.byPractitioner.get(loaded.practitionerId) ?? []) : []),
    ],
    ...(horizon
      ? {
          planningHorizon: {
            ...(Number.isNaN(planStart) ? {} : { start: new Date(planStart) }),
            ...(Number.isNaN(planEnd) ? {} : { end: new Date(planEnd) }),
          },
        }
      : {}),
  };
}

async function loadSchedules(
  store: Store,
  tenantId: string,
  filter: Pick<SlotSearchQuery, 'scheduleIds' | 'practitionerIds' | 'locationIds'>,
): Promise<LoadedSchedule[]> {
  for (const list of [filter.scheduleIds, filter.practitionerIds, filter.locationIds])
    if (list?.length === 0) return [];
  let query = store.db
    .selectFrom('resources')
    .select(['id', 'resource', 'ref_practitioner', 'ref_location'])
    .where('tenant_id', '=', tenantId)
    .where('resource_type', '=', 'Schedule')
    .where('deleted', '=', 0)
    .where('status', '=', 'active');
  // Id lists of one search are short (a FHIR query string); the caps keep an abusive one within bind limits.
  if (filter.scheduleIds) query = query.where('id', 'in', capped(filter.scheduleIds));
  if (filter.practitionerIds) query = query.where('ref_practitioner', 'in', capped(filter.practitionerIds));
  if (filter.locationIds) query = query.where('ref_location', 'in', capped(filter.locationIds));
  const rows = await query.orderBy('id').execute();
  return rows.map((row) => ({
    schedule: JSON.parse(row.resource) as Schedule,
    practitionerId: row.ref_practitioner,
    locationId: row.ref_location,
  }));
}

/** Schedule id → IANA zone: its Location's, else the tenant's configured zone. */
async function loadZones(
  store: Store,
  tenant: TenantConfig,
  schedules: readonly LoadedSchedule[],
): Promise<Map<string, string>> {
  const locationIds = [...new Set(schedules.flatMap((s) => (s.locationId ? [s.locationId] : [])))];
  const zoneOfLocation = new Map<string, string>();
  for (const part of chunk(locationIds, VALUES_PER_IN_LIST)) {
    if (part.length === 0) continue;
    const rows = await store.db
      .selectFrom('resources')
      .select(['id', 'resource'])
      .where('tenant_id', '=', tenant.id)
      .where('resource_type', '=', 'Location')
      .where('deleted', '=', 0)
      .where('id', 'in', part)
      .execute();
    for (const row of rows) {
      const zone = locationZone(JSON.parse(row.resource) as Location);
      if (zone) zoneOfLocation.set(row.id, zone);
    }
  }
  const zones = new Map<string, string>();
  for (const s of schedules) {
    const zone = (s.locationId ? zoneOfLocation.get(s.locationId) : undefined) ?? tenant.timezone;
    if (zone && s.schedule.id) zones.set(s.schedule.id, zone);
  }
  return zones;
}

interface BusyByOwner {
  bySchedule: Map<string, BusyInterval[]>;
  byPractitioner: Map<string, BusyInterval[]>;
}

/** Blocks of the schedules and bookings of their practitioners that overlap `[from, to)` (ms). */
async function loadBusy(
  store: Store,
  tenantId: string,
  schedules: readonly LoadedSchedule[],
  range: { from: number; to: number },
  extra: readonly ExtraBusy[],
  ignoreAppointmentIds: readonly string[] = [],
): Promise<BusyByOwner> {
  const ignore = new Set(ignoreAppointmentIds);
  const from = new Date(range.from).toISOString();
  const to = new Date(range.to).toISOString();
  const bySchedule = new Map<string, BusyInterval[]>();
  const byPractitioner = new Map<string, BusyInterval[]>();
  const add = (map: Map<string, BusyInterval[]>, key: string, interval: BusyInterval) => {
    const list = map.get(key);
    if (list) list.push(interval);
    else map.set(key, [interval]);
  };

  const scheduleIds = schedules.flatMap((s) => (s.schedule.id ? [s.schedule.id] : []));
  for (const part of chunk(scheduleIds, VALUES_PER_IN_LIST)) {
    if (part.length === 0) continue;
    // Blocks may be long (a month of leave), so they get no lower bound on period_start; a schedule has few.
    const rows = await store.db
      .selectFrom('resources')
      .select(['ref_schedule', 'period_start', 'period_end', 'status'])
      .where('tenant_id', '=', tenantId)
      .where('resource_type', '=', 'Slot')
      .where('ref_schedule', 'in', part)
      .where('period_start', '<', to)
      .where('period_end', '>', from)
      .where('deleted', '=', 0)
      .where('status', 'in', BLOCKING_SLOT_STATUSES)
      .execute();
    for (const row of rows) {
      if (!row.ref_schedule || !row.period_start || !row.period_end) continue;
      add(bySchedule, row.ref_schedule, {
        start: new Date(row.period_start),
        end: new Date(row.period_end),
        kind: row.status === 'busy-unavailable' ? 'unavailable' : 'taken',
      });
    }
  }

  const practitionerIds = [
    ...new Set(schedules.flatMap((s) => (s.practitionerId ? [s.practitionerId] : []))),
  ];
  const earliestStart = new Date(range.from - MAX_APPOINTMENT_MS).toISOString();
  for (const part of chunk(practitionerIds, VALUES_PER_IN_LIST)) {
    if (part.length === 0) continue;
    const rows = await store.db
      .selectFrom('resources')
      .select(['id', 'ref_practitioner', 'period_start', 'period_end'])
      .where('tenant_id', '=', tenantId)
      .where('resource_type', '=', 'Appointment')
      .where('ref_practitioner', 'in', part)
      .where('period_start', '>=', earliestStart)
      .where('period_start', '<', to)
      .where('period_end', '>', from)
      .where('deleted', '=', 0)
      .where('status', 'not in', FREEING_APPOINTMENT_STATUSES)
      .execute();
    for (const row of rows) {
      if (!row.ref_practitioner || !row.period_start || !row.period_end || ignore.has(row.id)) continue;
      add(byPractitioner, row.ref_practitioner, {
        start: new Date(row.period_start),
        end: new Date(row.period_end),
        kind: 'taken',
      });
    }
  }

  const wanted = new Set(practitionerIds);
  for (const e of extra) {
    const start = Date.parse(e.start);
    const end = Date.parse(e.end);
    if (!wanted.has(e.practitionerId) || Number.isNaN(start) || Number.isNaN(end)) continue;
    add(byPractitioner, e.practitionerId, { start: new Date(start), end: new Date(end), kind: 'taken' });
  }
  return { bySchedule, byPractitioner };
}

/** A `token` search value as a predicate on (system, code). */
function parseTokenFilter(token: string): (system: string, code: string) => boolean {
  const bar = token.indexOf('|');
  if (bar < 0) return (_system, code) => code === token;
  const system = token.slice(0, bar);
  const code = token.slice(bar + 1);
  return (s, c) => s === system && (code === '' || c === code);
}

function capped(ids: readonly string[]): string[] {
  return [...new Set(ids)].slice(0, VALUES_PER_IN_LIST);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
