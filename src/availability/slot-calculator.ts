/**
 * Free slots of one schedule, computed (DESIGN.md section 4): working-hours windows − closures − blocks −
 * appointments − holds − pending writes, at each appointment type's duration, only where the type's rules allow.
 * Pure: no I/O, no clock (the caller passes `now`), so the same input always gives the same slots.
 *
 * Decisions:
 * - **Grid.** Starts fall every {@link SLOT_GRID_MINUTES} minutes of wall-clock time from each window's start
 *   (08:00, 08:15, …), for every type whatever its length: what a front desk books. A 45-minute visit may start at
 *   08:15; a 20-minute one is offered at 08:00 and 08:15 but not at 08:20.
 * - **Fit.** `[start, start + duration)` must lie inside one window of that local date, and overlap no busy
 *   interval. Ranges are half-open, so a visit may start the minute another ends.
 * - **One slot per (schedule, start, duration)**, whose `serviceType` lists every type of that duration allowed in
 *   the window. Its content never depends on the query's type filter, so one id always describes one resource.
 * - **Time.** Local dates and wall times are walked through wall-time.ts, never by adding 24 h to an instant: 08:00
 *   stays 08:00 across DST. A grid time inside the spring gap does not exist and is skipped; in the repeated autumn
 *   hour only the first pass of the clock is offered. Durations are elapsed minutes.
 * - **Rules.** A start must be at or after `now + minimumNoticeMinutes` and before the same wall time
 *   `horizonDays` local days after `now`. Nothing is offered on a closed local date.
 */
import type { CodeableConcept, Slot } from '@medplum/fhirtypes';
import {
  addCalendarDays,
  addLocalDays,
  formatWithOffset,
  instantToLocalDate,
  isoWeekdayOf,
  localDay,
  zoneOffsetMinutes,
  type LocalDay,
} from '../wall-time.js';
import type { AppointmentTypeRule, WorkingWindow } from './schedule-rules.js';
import { formatSlotId, parseSlotId, type ParsedSlotId } from './slot-id.js';

export { formatSlotId, parseSlotId, type ParsedSlotId };
export type { AppointmentTypeRule, WorkingWindow };

/** Minutes between two offered starts. */
export const SLOT_GRID_MINUTES = 15;

const MINUTE = 60_000;

/**
 * Time nobody can book: `unavailable` for blocks and closures (the provider is away), `taken` for appointments,
 * holds and writes not yet read back. Half-open `[start, end)`.
 */
export interface BusyInterval {
  start: Date;
  end: Date;
  kind: 'unavailable' | 'taken';
}

/** Everything about one schedule the calculation needs. */
export interface ScheduleAvailability {
  /** FHIR id of the Schedule: slots reference it and their ids start with it. */
  scheduleId: string;
  /** IANA zone the windows' wall times are read in (the Location's). */
  zone: string;
  windows: readonly WorkingWindow[];
  types: readonly AppointmentTypeRule[];
  busy: readonly BusyInterval[];
  /** Local dates (`YYYY-MM-DD`) the whole practice is closed: nothing is offered on them. */
  closedDates?: readonly string[];
  /** Bounds of the schedule's own planning horizon, when it has one. */
  planningHorizon?: { start?: Date; end?: Date };
}

/** The tenant's booking rules, evaluated at `now`. */
export interface BookingRules {
  now: Date;
  minimumNoticeMinutes: number;
  horizonDays: number;
}

/** A search: starts in `[from, to)`, optionally only slots offering one of `typeCodes`. */
export interface FreeSlotQuery extends BookingRules {
  from: Date;
  to: Date;
  typeCodes?: readonly string[];
}

/**
 * The booking rule a time breaks (issue 13 item 3: one precise code each, where one code used to stand for all,
 * so an agent can tell the patient why): the past, the minimum notice, the horizon, the start grid, the type's
 * length, a type not offered there or then, a new-patient visit for a patient seen before.
 */
export const BOOKING_RULE_CODES = [
  'in-the-past',
  'too-soon',
  'beyond-horizon',
  'off-grid',
  'wrong-duration',
  'type-not-offered',
  'new-patients-only',
] as const;
export type BookingRuleCode = (typeof BOOKING_RULE_CODES)[number];

/** Why a slot cannot be booked; the codes a booking answers with (DESIGN.md section 4). */
export type SlotUnavailableReason = 'outside-hours' | 'slot-taken' | 'provider-unavailable' | BookingRuleCode;

/** The answer to "can this be booked?". */
export type SlotCheck =
  { free: true; slot: Slot } | { free: false; reason: SlotUnavailableReason; message: string };

/** One window placed on one local date: its instants, grid, and the types it allows. */
interface PlacedWindow {
  start: number;
  end: number;
  /** Starts on the grid that exist on the wall clock, ascending. */
  starts: number[];
  types: AppointmentTypeRule[];
  /** Writes an instant of this window as a FHIR instant with the zone's offset at that instant. */
  format: (instant: number) => string;
}

/**
 * The free slots of one schedule whose start is in `[query.from, query.to)`, ordered by start then duration.
 *
 * @see DESIGN.md section 4
 */
export function computeFreeSlots(schedule: ScheduleAvailability, query: FreeSlotQuery): Slot[] {
  const { earliest, latest } = bookableRange(schedule, query);
  const from = Math.max(earliest, query.from.getTime());
  const to = Math.min(latest, query.to.getTime());
  if (!(from < to)) return [];
  return freeSlotsBetween(schedule, from, to, query.typeCodes);
}

/**
 * The free slots of one schedule starting in `[from, to)` (epoch ms), ordered by start then duration, before the
 * tenant's booking rules and the planning horizon ({@link bookableRange} cuts those): what a practitioner-day's
 * free time is, whatever the clock says (free-time.ts keeps it per day).
 *
 * @see DESIGN.md section 4
 */
export function freeSlotsBetween(
  schedule: ScheduleAvailability,
  from: number,
  to: number,
  typeCodes?: readonly string[],
): Slot[] {
  const wanted = typeCodes ? new Set(typeCodes) : undefined;
  const busy = mergeIntervals(schedule.busy.map((b) => [b.start.getTime(), b.end.getTime()]));
  const slots = new Map<string, { start: number; minutes: number; slot: Slot }>();

  for (const placed of placeWindows(schedule, from, to)) {
    for (const [minutes, types] of groupByMinutes(placed.types)) {
      if (wanted && !types.some((t) => wanted.has(t.code))) continue;
      for (const start of placed.starts) {
        if (start < from) continue;
        if (start >= to) break;
        const end = start + minutes * MINUTE;
        if (end > placed.end) break;
        if (overlaps(busy, start, end)) continue;
        // Overlapping windows on one date (a data-entry slip upstream) offer the union of their types once.
        const key = `${start}/${minutes}`;
        const existing = slots.get(key);
        if (existing) existing.slot.serviceType = mergeConcepts(existing.slot.serviceType ?? [], types);
        else slots.set(key, { start, minutes, slot: buildSlot(schedule, placed, start, minutes, types) });
      }
    }
  }
  return [...slots.values()].sort((a, b) => a.start - b.start || a.minutes - b.minutes).map((s) => s.slot);
}

/**
 * Whether `minutes` of `typeCode` starting at `start` can be booked on this schedule, and if not, why. The checks
 * run in the order a caller can act on: the type and the tenant's rules, then the working hours, then blocks and
 * closures (`provider-unavailable`), then other bookings (`slot-taken`). A free answer carries the Slot a search
 * would have returned.
 *
 * @see DESIGN.md section 4
 */
export function checkSlot(
  schedule: ScheduleAvailability,
  rules: BookingRules,
  request: { start: Date; minutes: number; typeCode: string },
): SlotCheck {
  const type = schedule.types.find((t) => t.code === request.typeCode);
  if (!type) return refuse('type-not-offered', `this schedule does not offer ${request.typeCode}`);
  if (request.minutes !== type.minutes)
    return refuse('wrong-duration', `${type.display ?? type.code} lasts ${type.minutes} minutes`);
  const start = request.start.getTime();
  const end = start + type.minutes * MINUTE;
  if (start < rules.now.getTime()) return refuse('in-the-past', 'that time is in the past');
  const { earliest, latest } = bookableRange(schedule, rules);
  if (start < earliest) return refuse('too-soon', 'that time is too soon to book');
  if (start >= latest) return refuse('beyond-horizon', 'that time is too far ahead to book');

  const date = instantToLocalDate(request.start, schedule.zone);
  if (new Set(schedule.closedDates ?? []).has(date))
    return refuse('provider-unavailable', 'the practice is closed that day');
  const fitting = placeWindows(schedule, start, start + 1).filter((p) => p.start <= start && end <= p.end);
  if (fitting.length === 0) return refuse('outside-hours', 'that time is outside working hours');
  const onGrid = fitting.filter((p) => p.starts.includes(start));
  if (onGrid.length === 0) return refuse('off-grid', `appointments start every ${SLOT_GRID_MINUTES} minutes`);
  const allowing = onGrid.filter((p) => p.types.some((t) => t.code === type.code));
  if (allowing.length === 0)
    return refuse('type-not-offered', `${type.display ?? type.code} cannot be booked at that time`);

  const clash = (kind: BusyInterval['kind']) =>
    schedule.busy.some((b) => b.kind === kind && b.start.getTime() < end && start < b.end.getTime());
  if (clash('unavailable')) return refuse('provider-unavailable', 'the provider is not available then');
  if (clash('taken')) return refuse('slot-taken', 'that time is already booked');

  const sameLength = allowing.flatMap((p) => p.types.filter((t) => t.minutes === type.minutes));
  const slot = buildSlot(schedule, allowing[0] as PlacedWindow, start, type.minutes, uniqueTypes(sameLength));
  return { free: true, slot };
}

/**
 * `[earliest, latest)` (epoch ms) of bookable starts under the tenant's rules and the schedule's planning horizon.
 *
 * @see DESIGN.md section 4
 */
export function bookableRange(
  schedule: ScheduleAvailability,
  rules: BookingRules,
): { earliest: number; latest: number } {
  const notice = rules.now.getTime() + rules.minimumNoticeMinutes * MINUTE;
  const horizon = addLocalDays(rules.now, schedule.zone, rules.horizonDays).getTime();
  const plan = schedule.planningHorizon;
  return {
    earliest: Math.max(notice, plan?.start?.getTime() ?? -Infinity),
    latest: Math.min(horizon, plan?.end?.getTime() ?? Infinity),
  };
}

/** Every window on every local date whose day meets `[from, to)`, with its instants and grid, in time order. */
function placeWindows(schedule: ScheduleAvailability, from: number, to: number): PlacedWindow[] {
  const closed = new Set(schedule.closedDates ?? []);
  const byWeekday = new Map<number, WorkingWindow[]>();
  for (const w of schedule.windows) byWeekday.set(w.weekday, [...(byWeekday.get(w.weekday) ?? []), w]);
  const placed: PlacedWindow[] = [];
  const last = instantToLocalDate(new Date(to - 1), schedule.zone);
  for (let date = instantToLocalDate(new Date(from), schedule.zone); date <= last;) {
    const windows = closed.has(date) ? [] : (byWeekday.get(isoWeekdayOf(date)) ?? []);
    const day = windows.length > 0 ? localDay(date, schedule.zone) : undefined;
    for (const window of windows) {
      const types =
        window.typeCodes === null
          ? [...schedule.types]
          : schedule.types.filter((t) => window.typeCodes?.includes(t.code));
      if (types.length === 0 || !day) continue;
      placed.push({ types, ...gridOf(day, window, schedule.zone) });
    }
    date = addCalendarDays(date, 1);
  }
  return placed.sort((a, b) => a.start - b.start);
}

/** A window's bounds on `day`, its grid of starts, and how to write its instants. */
function gridOf(
  day: LocalDay,
  window: WorkingWindow,
  zone: string,
): Pick<PlacedWindow, 'start' | 'end' | 'starts' | 'format'> {
  const first = clockMinutes(window.start);
  const stop = clockMinutes(window.end);
  const start = day.instant(first).getTime();
  const end = day.instant(stop).getTime();
  const starts: number[] = [];
  const offset = day.fixedOffsetMinutes;
  if (offset !== undefined) {
    // No clock change that day (every working day): wall minutes and elapsed minutes agree.
    for (let m = first; m < stop; m += SLOT_GRID_MINUTES) starts.push(start + (m - first) * MINUTE);
    return { start, end, starts, format: (instant) => formatWithOffset(new Date(instant), offset) };
  }
  for (let m = first; m < stop; m += SLOT_GRID_MINUTES) {
    const instant = day.existingInstant(m);
    if (instant) starts.push(instant.getTime());
  }
  const format = (instant: number) => {
    const at = new Date(instant);
    return formatWithOffset(at, zoneOffsetMinutes(at, zone));
  };
  return { start, end, starts, format };
}

function buildSlot(
  schedule: ScheduleAvailability,
  placed: PlacedWindow,
  start: number,
  minutes: number,
  types: readonly AppointmentTypeRule[],
): Slot {
  return {
    resourceType: 'Slot',
    id: formatSlotId(schedule.scheduleId, new Date(start), minutes),
    serviceType: types.map(concept),
    schedule: { reference: `Schedule/${schedule.scheduleId}` },
    status: 'free',
    start: placed.format(start),
    end: placed.format(start + minutes * MINUTE),
  };
}

function concept(type: AppointmentTypeRule): CodeableConcept {
  return {
    coding: [
      {
        ...(type.system ? { system: type.system } : {}),
        code: type.code,
        ...(type.display ? { display: type.display } : {}),
      },
    ],
    ...(type.display ? { text: type.display } : {}),
  };
}

function mergeConcepts(
  existing: CodeableConcept[],
  types: readonly AppointmentTypeRule[],
): CodeableConcept[] {
  const codes = new Set(existing.map((c) => c.coding?.[0]?.code));
  return [...existing, ...types.filter((t) => !codes.has(t.code)).map(concept)];
}

function uniqueTypes(types: readonly AppointmentTypeRule[]): AppointmentTypeRule[] {
  return [...new Map(types.map((t) => [t.code, t])).values()];
}

function groupByMinutes(types: readonly AppointmentTypeRule[]): Map<number, AppointmentTypeRule[]> {
  const groups = new Map<number, AppointmentTypeRule[]>();
  for (const t of types) groups.set(t.minutes, [...(groups.get(t.minutes) ?? []), t]);
  return new Map([...groups].sort(([a], [b]) => a - b));
}

/** Sorted, non-overlapping `[start, end)` pairs; touching intervals stay apart (nothing is lost either way). */
function mergeIntervals(intervals: Array<[number, number]>): Array<[number, number]> {
  const sorted = intervals.filter(([s, e]) => s < e).sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const [s, e] of sorted) {
    const last = merged[merged.length - 1];
    if (last && s < last[1]) last[1] = Math.max(last[1], e);
    else merged.push([s, e]);
  }
  return merged;
}

/** True when `[start, end)` meets a merged busy interval: binary search for the first one ending after `start`. */
function overlaps(busy: ReadonlyArray<[number, number]>, start: number, end: number): boolean {
  let lo = 0;
  let hi = busy.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((busy[mid]?.[1] ?? 0) <= start) lo = mid + 1;
    else hi = mid;
  }
  const candidate = busy[lo];
  return candidate !== undefined && candidate[0] < end;
}

function clockMinutes(value: string): number {
  return Number(value.slice(0, 2)) * 60 + Number(value.slice(3, 5));
}

function refuse(reason: SlotUnavailableReason, message: string): SlotCheck {
  return { free: false, reason, message };
}
