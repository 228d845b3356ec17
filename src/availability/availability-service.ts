/**
 * Availability from the store alone (DESIGN.md section 4): the facade never asks the records system which times are
 * free. Schedules carry their working hours and type rules (schedule-rules.ts), Locations their zone, blocks are
 * stored as `busy-unavailable` Slots and appointments with their period; this module loads what a query's range
 * needs (schedules.ts, zones.ts and the store's availability queries) and hands it to the pure
 * {@link computeFreeSlots} / {@link checkSlot}.
 *
 * What counts as busy:
 * - stored Slots of the schedule that are `busy-unavailable` (blocks, closures) → `provider-unavailable`;
 *   `busy` / `busy-tentative` ones → taken;
 * - the practitioner's Appointments at ANY location, unless `cancelled`, `noshow`, `entered-in-error`,
 *   `proposed` or `waitlist` (which hold no time) → taken. The practitioner is the Appointment's first
 *   Practitioner participant (the `ref_practitioner` column);
 * - time held by bookings in flight (held-time.ts) → taken, so Slot search, `$find` and booking never assemble
 *   "free minus held" themselves;
 * - `extraBusy`: accepted-but-not-yet-read-back writes a caller knows of → taken.
 */
import type { Slot } from '@medplum/fhirtypes';
import type { TenantConfig } from '../config.js';
import { busyRows } from '../store/availability-queries.js';
import type { Store } from '../store/database.js';
import { heldRanges } from './held-time.js';
import type { readScheduleRules } from './schedule-rules.js';
import { lookUpFreeSlots, planningHorizonOf, type FreeTimeSchedule } from './free-time.js';
import { referenceData, type ReferenceData } from './reference-data.js';
import { findSchedules, matchSchedules, type ScheduleRecord } from './schedules.js';
import {
  checkSlot,
  type BusyInterval,
  type ScheduleAvailability,
  type SlotCheck,
} from './slot-calculator.js';
import { scheduleZones, zonesOf } from './zones.js';

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
  /** The tenant's reference data when the caller already read it for this request (one freshness check). */
  reference?: ReferenceData;
  /** In no particular order, for a caller that sorts them its own way (the FHIR search); sorted by default. */
  unordered?: boolean;
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

/**
 * The free slots matching `query`, sorted by start, then schedule, then duration (unless `query.unordered`).
 * Schedules that are inactive, carry no working hours, or whose zone is unknown (no Location zone and no tenant
 * zone) offer nothing.
 *
 * @see DESIGN.md section 4
 */
export async function searchSlots(
  store: Store,
  tenant: TenantConfig,
  query: SlotSearchQuery,
): Promise<Slot[]> {
  if (!(query.from < query.to)) return [];
  // One freshness check of Schedules and Locations for the whole search.
  const reference = query.reference ?? (await referenceData(store, tenant.id));
  const schedules = matchSchedules(reference, {
    ...(query.scheduleIds ? { ids: query.scheduleIds } : {}),
    ...(query.practitionerIds ? { practitionerIds: query.practitionerIds } : {}),
    ...(query.locationIds ? { locationIds: query.locationIds } : {}),
    activeOnly: true,
  });
  if (schedules.length === 0) return [];
  const zones = zonesOf(reference, tenant, schedules);
  const filters = (query.serviceTypeCodes ?? []).map(parseTokenFilter);
  // Nothing before the minimum notice or past the horizon is offered, so nothing there needs loading. The horizon
  // is counted in local days per schedule by the calculator; a day more covers any zone's DST shift.
  const now = query.now.getTime();
  const range = {
    from: Math.max(query.from.getTime(), now + tenant.booking.minimumNoticeMinutes * 60_000),
    to: Math.min(query.to.getTime(), now + (tenant.booking.horizonDays + 1) * 24 * 60 * 60_000),
  };
  if (!(range.from < range.to)) return [];

  const prepared: FreeTimeSchedule[] = schedules.flatMap((loaded) => {
    const zone = zones.get(loaded.schedule.id);
    if (!zone) return [];
    const rules = loaded.rules;
    const typeCodes =
      filters.length === 0
        ? undefined
        : rules.types.filter((t) => filters.some((f) => f(t.system, t.code))).map((t) => t.code);
    if (rules.windows.length === 0 || typeCodes?.length === 0) return [];
    return [{ loaded, zone, rules, ...(typeCodes ? { typeCodes } : {}) }];
  });
  if (prepared.length === 0) return [];

  const practitionerIds = [...new Set(prepared.flatMap((p) => p.loaded.practitionerId ?? []))];
  const slots = await lookUpFreeSlots(store, tenant, prepared, {
    from: range.from,
    to: range.to,
    now: query.now,
    referenceStamp: reference.stamp,
    loadBusy: async (some, busyRange) => {
      const busy = await loadStoredBusy(
        store,
        tenant.id,
        some.map((p) => p.loaded),
        busyRange,
      );
      return (p) => availabilityOf(p.loaded, p.zone, p.rules, busy);
    },
    transientBusy: async () => {
      // Held time overlapping the range, widened by the longest visit: a slot starting just before `to` ends after it.
      const longest = Math.max(...prepared.flatMap((p) => p.rules.types.map((t) => t.minutes)), 0);
      const held =
        practitionerIds.length === 0
          ? []
          : await heldRanges(
              store,
              tenant.id,
              new Date(range.from),
              new Date(range.to + longest * 60_000),
              practitionerIds,
            );
      return [...(query.extraBusy ?? []), ...held].flatMap((e) => {
        const start = Date.parse(e.start);
        const end = Date.parse(e.end);
        return Number.isNaN(start) || Number.isNaN(end)
          ? []
          : [{ practitionerId: e.practitionerId, start, end }];
      });
    },
  });
  if (query.unordered) return slots;
  // Each slot's keys read once (a wide search sorts tens of thousands), then compared as numbers where they can be.
  return slots
    .map((slot) => ({ slot, start: Date.parse(slot.start), schedule: slot.schedule.reference ?? '' }))
    .sort(
      (a, b) =>
        a.start - b.start ||
        compare(a.schedule, b.schedule) ||
        Date.parse(a.slot.end) - Date.parse(b.slot.end),
    )
    .map((sorted) => sorted.slot);
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
  const [loaded] = await findSchedules(store, tenant.id, { ids: [request.scheduleId], activeOnly: true });
  const zone = loaded ? (await scheduleZones(store, tenant, [loaded])).get(request.scheduleId) : undefined;
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
    availabilityOf(loaded, zone, loaded.rules, busy),
    {
      now: request.now,
      minimumNoticeMinutes: tenant.booking.minimumNoticeMinutes,
      horizonDays: tenant.booking.horizonDays,
    },
    { start: request.start, minutes: request.minutes, typeCode: request.typeCode },
  );
}

function availabilityOf(
  loaded: ScheduleRecord,
  zone: string,
  rules: ReturnType<typeof readScheduleRules>,
  busy: BusyByOwner,
): ScheduleAvailability {
  const { id } = loaded.schedule;
  const planningHorizon = planningHorizonOf(loaded);
  return {
    scheduleId: id,
    zone,
    windows: rules.windows,
    types: rules.types,
    busy: [
      ...(busy.bySchedule.get(id) ?? []),
      ...(loaded.practitionerId ? (busy.byPractitioner.get(loaded.practitionerId) ?? []) : []),
    ],
    ...(planningHorizon ? { planningHorizon } : {}),
  };
}

interface BusyByOwner {
  bySchedule: Map<string, BusyInterval[]>;
  byPractitioner: Map<string, BusyInterval[]>;
}

/**
 * Blocks of the schedules, bookings of their practitioners and time held by bookings in flight that overlap
 * `[from, to)` (ms), plus `extra`.
 */
async function loadBusy(
  store: Store,
  tenantId: string,
  schedules: readonly ScheduleRecord[],
  range: { from: number; to: number },
  extra: readonly ExtraBusy[],
  ignoreAppointmentIds: readonly string[] = [],
): Promise<BusyByOwner> {
  const busy = await loadStoredBusy(store, tenantId, schedules, range, ignoreAppointmentIds);
  const practitionerIds = [
    ...new Set(schedules.flatMap((s) => (s.practitionerId ? [s.practitionerId] : []))),
  ];
  const held =
    practitionerIds.length === 0
      ? []
      : await heldRanges(store, tenantId, new Date(range.from), new Date(range.to), practitionerIds);
  const wanted = new Set(practitionerIds);
  for (const e of [...extra, ...held]) {
    const start = Date.parse(e.start);
    const end = Date.parse(e.end);
    if (!wanted.has(e.practitionerId) || Number.isNaN(start) || Number.isNaN(end)) continue;
    add(busy.byPractitioner, e.practitionerId, { start: new Date(start), end: new Date(end), kind: 'taken' });
  }
  return busy;
}

/** Blocks of the schedules and bookings of their practitioners that overlap `[from, to)` (ms): stored busy time. */
async function loadStoredBusy(
  store: Store,
  tenantId: string,
  schedules: readonly ScheduleRecord[],
  range: { from: number; to: number },
  ignoreAppointmentIds: readonly string[] = [],
): Promise<BusyByOwner> {
  const ignore = new Set(ignoreAppointmentIds);
  const iso = { from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString() };
  const bySchedule = new Map<string, BusyInterval[]>();
  const byPractitioner = new Map<string, BusyInterval[]>();

  // Blocks may be long (a month of leave), so they get no lower bound on their start; a schedule has few.
  const blocks = await busyRows(store, tenantId, {
    resourceType: 'Slot',
    ownerColumn: 'ref_schedule',
    owners: schedules.map((s) => s.schedule.id),
    range: iso,
    statuses: { in: BLOCKING_SLOT_STATUSES },
  });
  for (const row of blocks) {
    add(bySchedule, row.owner, {
      start: new Date(row.start),
      end: new Date(row.end),
      kind: row.status === 'busy-unavailable' ? 'unavailable' : 'taken',
    });
  }

  const practitionerIds = [
    ...new Set(schedules.flatMap((s) => (s.practitionerId ? [s.practitionerId] : []))),
  ];
  const earliestStart = new Date(range.from - MAX_APPOINTMENT_MS).toISOString();
  const appointments = await busyRows(store, tenantId, {
    resourceType: 'Appointment',
    ownerColumn: 'ref_practitioner',
    owners: practitionerIds,
    range: iso,
    earliestStart,
    statuses: { notIn: FREEING_APPOINTMENT_STATUSES },
  });
  for (const row of appointments) {
    if (ignore.has(row.id)) continue;
    add(byPractitioner, row.owner, { start: new Date(row.start), end: new Date(row.end), kind: 'taken' });
  }
  return { bySchedule, byPractitioner };
}

function add(map: Map<string, BusyInterval[]>, key: string, interval: BusyInterval): void {
  const list = map.get(key);
  if (list) list.push(interval);
  else map.set(key, [interval]);
}

/** A `token` search value as a predicate on (system, code). */
function parseTokenFilter(token: string): (system: string, code: string) => boolean {
  const bar = token.indexOf('|');
  if (bar < 0) return (_system, code) => code === token;
  const system = token.slice(0, bar);
  const code = token.slice(bar + 1);
  return (s, c) => s === system && (code === '' || c === code);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
