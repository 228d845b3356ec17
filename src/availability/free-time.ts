/**
 * Free time kept per practitioner-day (issue 16 item 3): a schedule's free slots of one local day are derived
 * once and reused until one of their inputs changes, so a Slot search is a lookup, a cut and a page.
 *
 * Design (the simplest one found correct across instances on one PostgreSQL):
 * - **What is kept**: per (tenant, schedule, local date), the day's free slots before the tenant's booking rules
 *   (minimum notice, horizon) and before held time — those depend on the clock and on holds that live minutes, so
 *   they are applied at every lookup. Kept in the store's derived-value cache (in process, bounded).
 * - **When it is stale**: each entry carries a stamp made of (a) the reference-data stamp (Schedules and Locations:
 *   working hours, type rules, zones — reference-data.ts), (b) the zone and (c) the versions of the day's stored
 *   inputs, per owner and UTC day, from `availability_versions` (src/store/availability-versions.ts): the one
 *   resource write path raises them in the same transaction as every Appointment (owner: its practitioner) and
 *   stored Slot (owner: its schedule: blocks, closures) it writes, for the days the old and the new version touch.
 *   Every lookup reads those versions (one indexed query for the whole search) before anything else, so a change
 *   committed by any instance, sync pass or saga before the search began is seen, and a change invalidates only
 *   the practitioner-days it touches. A miss reads versions first and busy time after, so a write landing in
 *   between can only make an entry look older than it is (recomputed next time), never newer.
 * - **What is never kept**: time held by bookings in flight (`booking_claims`, held-time.ts) and a caller's
 *   `extraBusy` (writes not yet read back) are read and subtracted on every lookup: a held or claimed time is
 *   never offered.
 */
import type { Slot } from '@medplum/fhirtypes';
import type { TenantConfig } from '../config.js';
import { availabilityVersions, EVERY_DAY, utcDaysBetween } from '../store/availability-versions.js';
import type { Store } from '../store/database.js';
import { deepFreeze } from '../deep-freeze.js';
import { addCalendarDays, instantToLocalDate, wallTimeToInstant } from '../wall-time.js';
import type { ScheduleRules } from './schedule-rules.js';
import type { ScheduleRecord } from './schedules.js';
import { bookableRange, freeSlotsBetween, type ScheduleAvailability } from './slot-calculator.js';

/** One schedule a search covers, with what availability derived for it from reference data. */
export interface FreeTimeSchedule {
  loaded: ScheduleRecord;
  zone: string;
  rules: ScheduleRules;
  /** Only slots offering one of these codes; every slot when absent. */
  typeCodes?: readonly string[];
}

/** A busy range a lookup subtracts (held time, writes not yet read back), epoch ms. */
export interface TransientBusy {
  practitionerId: string;
  start: number;
  end: number;
}

/** A kept free slot: shared by every reader (frozen), with what a lookup filters on. */
interface KeptSlot {
  slot: Readonly<Slot>;
  start: number;
  end: number;
  codes: readonly string[];
}

/** One schedule's local day. */
interface ScheduleDay {
  schedule: FreeTimeSchedule;
  date: string;
  start: number;
  end: number;
  key: string;
  stamp: string;
}

/** What a lookup needs from the caller. */
export interface FreeTimeLookup {
  /** Starts in `[from, to)`, epoch ms (already narrowed to the notice and horizon the tenant allows). */
  from: number;
  to: number;
  now: Date;
  /** The reference data's stamp the schedules were read at. */
  referenceStamp: string;
  /** Loads stored busy time (blocks, appointments; not holds) of these schedules over `[from, to)` ms. */
  loadBusy: (
    schedules: readonly FreeTimeSchedule[],
    range: { from: number; to: number },
  ) => Promise<(schedule: FreeTimeSchedule) => ScheduleAvailability>;
  /** Held time and the caller's extra busy time, read fresh for this lookup. */
  transientBusy: () => Promise<TransientBusy[]>;
}

/**
 * The free slots of `schedules` starting in `[lookup.from, lookup.to)`, under the tenant's booking rules, minus
 * held time; unordered.
 *
 * @see DESIGN.md section 4
 */
export async function lookUpFreeSlots(
  store: Store,
  tenant: TenantConfig,
  schedules: readonly FreeTimeSchedule[],
  lookup: FreeTimeLookup,
): Promise<Slot[]> {
  if (schedules.length === 0 || !(lookup.from < lookup.to)) return [];
  const days = schedules.flatMap((schedule) => daysOf(tenant.id, schedule, lookup.from, lookup.to));
  if (days.length === 0) return [];

  // Versions first (see the header): then whatever is read for a miss is at least as new as they are.
  const owners = schedules.flatMap((s) => ownersOf(s.loaded));
  const utcDays = utcDaysBetween(Math.min(...days.map((d) => d.start)), Math.max(...days.map((d) => d.end)));
  const versions = await availabilityVersions(store, tenant.id, owners, utcDays);
  for (const day of days) day.stamp = stampOf(day, lookup.referenceStamp, versions);

  const missing: ScheduleDay[] = [];
  let settle: (value: Promise<Map<string, KeptSlot[]>>) => void = () => undefined;
  const computed = new Promise<Map<string, KeptSlot[]>>((resolve) => (settle = resolve));
  const kept = days.map((day) =>
    store.derived.get(day.key, day.stamp, () => {
      missing.push(day);
      return computed.then((byKey) => byKey.get(day.key) ?? []);
    }),
  );
  settle(missing.length === 0 ? Promise.resolve(new Map()) : computeDays(missing, lookup));
  const [perDay, transient] = await Promise.all([Promise.all(kept), lookup.transientBusy()]);

  const slots: Slot[] = [];
  const rules = {
    now: lookup.now,
    minimumNoticeMinutes: tenant.booking.minimumNoticeMinutes,
    horizonDays: tenant.booking.horizonDays,
  };
  const bounds = new Map<FreeTimeSchedule, { from: number; to: number; busy: TransientBusy[] }>();
  for (const [i, day] of days.entries()) {
    let cut = bounds.get(day.schedule);
    if (!cut) {
      const { earliest, latest } = bookableRange(availabilityShell(day.schedule), rules);
      const practitioner = day.schedule.loaded.practitionerId;
      cut = {
        from: Math.max(earliest, lookup.from),
        to: Math.min(latest, lookup.to),
        busy: practitioner ? transient.filter((b) => b.practitionerId === practitioner) : [],
      };
      bounds.set(day.schedule, cut);
    }
    const wanted = day.schedule.typeCodes && new Set(day.schedule.typeCodes);
    for (const kept of perDay[i] ?? []) {
      if (kept.start < cut.from || kept.start >= cut.to) continue;
      if (wanted && !kept.codes.some((c) => wanted.has(c))) continue;
      if (cut.busy.some((b) => b.start < kept.end && kept.start < b.end)) continue;
      slots.push(kept.slot as Slot);
    }
  }
  return slots;
}

/** The local days of a schedule that `[from, to)` meets. */
function daysOf(tenantId: string, schedule: FreeTimeSchedule, from: number, to: number): ScheduleDay[] {
  const days: ScheduleDay[] = [];
  const last = instantToLocalDate(new Date(to - 1), schedule.zone);
  // Midnights resolved as the calculator resolves every wall time (wall-time.ts); each day ends where the next begins.
  let date = instantToLocalDate(new Date(from), schedule.zone);
  let start = localMidnight(date, schedule.zone);
  while (date <= last) {
    const next = addCalendarDays(date, 1);
    const end = localMidnight(next, schedule.zone);
    days.push({
      schedule,
      date,
      start,
      end,
      key: `free-time:${tenantId}:${schedule.loaded.schedule.id}:${date}`,
      stamp: '',
    });
    date = next;
    start = end;
  }
  return days;
}

/**
 * When local `date` begins in `zone` (ms), as {@link wallTimeToInstant} resolves its midnight; remembered, being a
 * fact of the zone's rules alone (like wall-time.ts's offset cache), since every Slot search asks the same days.
 */
const midnights = new Map<string, number>();
function localMidnight(date: string, zone: string): number {
  const key = `${zone} ${date}`;
  let at = midnights.get(key);
  if (at === undefined) {
    at = wallTimeToInstant(`${date}T00:00`, zone).getTime();
    if (midnights.size >= 10_000) midnights.clear();
    midnights.set(key, at);
  }
  return at;
}

function ownersOf(loaded: ScheduleRecord): string[] {
  return [
    `Schedule/${loaded.schedule.id}`,
    ...(loaded.practitionerId ? [`Practitioner/${loaded.practitionerId}`] : []),
  ];
}

/** Everything a day's free slots were derived from, as text: equal stamps, equal slots. */
function stampOf(day: ScheduleDay, referenceStamp: string, versions: ReadonlyMap<string, number>): string {
  const owners = ownersOf(day.schedule.loaded);
  const parts = [referenceStamp, day.schedule.zone];
  for (const utcDay of [...utcDaysBetween(day.start, day.end), EVERY_DAY])
    for (const owner of owners) parts.push(String(versions.get(`${owner} ${utcDay}`) ?? 0));
  return parts.join('|');
}

/** The missing days' free slots, from one load of stored busy time over all of them. */
async function computeDays(
  missing: readonly ScheduleDay[],
  lookup: FreeTimeLookup,
): Promise<Map<string, KeptSlot[]>> {
  const schedules = [...new Set(missing.map((d) => d.schedule))];
  const availability = await lookup.loadBusy(schedules, {
    from: Math.min(...missing.map((d) => d.start)),
    to: Math.max(...missing.map((d) => d.end)),
  });
  const byKey = new Map<string, KeptSlot[]>();
  const ofSchedule = new Map(schedules.map((s) => [s, availability(s)]));
  for (const day of missing) {
    const schedule = ofSchedule.get(day.schedule);
    if (!schedule) continue;
    byKey.set(
      day.key,
      freeSlotsBetween(schedule, day.start, day.end).map((slot) => ({
        slot: deepFreeze(slot),
        start: Date.parse(slot.start),
        end: Date.parse(slot.end),
        codes: (slot.serviceType ?? []).flatMap((c) => c.coding?.map((coding) => coding.code ?? '') ?? []),
      })),
    );
  }
  return byKey;
}

/** What {@link bookableRange} reads of a schedule: its zone and planning horizon. */
function availabilityShell(schedule: FreeTimeSchedule): ScheduleAvailability {
  const planningHorizon = planningHorizonOf(schedule.loaded);
  return {
    scheduleId: schedule.loaded.schedule.id,
    zone: schedule.zone,
    windows: [],
    types: [],
    busy: [],
    ...(planningHorizon ? { planningHorizon } : {}),
  };
}

/** A Schedule's own planning horizon as the calculator reads it; undefined when it has none. */
export function planningHorizonOf(loaded: ScheduleRecord): ScheduleAvailability['planningHorizon'] {
  const horizon = loaded.schedule.planningHorizon;
  if (!horizon) return undefined;
  const start = horizon.start ? Date.parse(horizon.start) : NaN;
  const end = horizon.end ? Date.parse(horizon.end) : NaN;
  return {
    ...(Number.isNaN(start) ? {} : { start: new Date(start) }),
    ...(Number.isNaN(end) ? {} : { end: new Date(end) }),
  };
}
