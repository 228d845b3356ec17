/**
 * Practice-local wall times (`2026-11-24T14:00`, no offset) ↔ exact instants, through an IANA zone.
 * The records systems we front speak wall time only, so every DST rule lives here and nowhere else.
 */
import { DateTime, IANAZone, type Zone } from 'luxon';

const WALL_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/** True when `value` is a wall time `YYYY-MM-DDTHH:mm` or `YYYY-MM-DDTHH:mm:ss` that names a real calendar time. */
export function isWallTime(value: string): boolean {
  return parseWallTime(value) !== undefined;
}

/**
 * The instant a wall time names in `zone`.
 * In the autumn repeated hour the earlier instant (daylight time) is taken; a wall time inside the spring gap does
 * not exist and moves forward by the gap (02:30 → 03:30), which is what clocks and most schedulers do.
 * Resolved explicitly (luxon alone seeds its offset guess from the current clock, so the repeated hour would
 * resolve differently in summer and in winter), and without luxon's parser: a sync pass converts every
 * appointment, so this is on the hot path (BENCHMARKS.md, sync-diff).
 */
export function wallTimeToInstant(wall: string, zone: string): Date {
  const asUtc = parseWallTime(wall);
  if (asUtc === undefined) throw new RangeError(`not a wall time: ${JSON.stringify(wall)}`);
  const tz = zoneNamed(zone);
  // Offsets in force a day either side cover both sides of any transition on this date.
  const offsets = [offsetAt(tz, asUtc - 86_400_000), offsetAt(tz, asUtc + 86_400_000)];
  const matches = offsets
    .map((o) => asUtc - o * 60_000)
    .filter((ts) => offsetAt(tz, ts) === (asUtc - ts) / 60_000)
    .sort((a, b) => a - b);
  // No match: the spring gap; read it with the offset before the change, which moves it forward by the gap.
  return new Date(matches[0] ?? asUtc - (offsets[0] ?? 0) * 60_000);
}

/** The wall time at `instant` in `zone`, to the minute (`YYYY-MM-DDTHH:mm`) or the second. */
export function instantToWallTime(
  instant: Date,
  zone: string,
  precision: 'minute' | 'second' = 'minute',
): string {
  const ts = instant.getTime();
  const local = new Date(ts + offsetAt(zoneNamed(zone), ts) * 60_000).toISOString();
  return local.slice(0, precision === 'minute' ? 16 : 19);
}

/** The instant as ISO 8601 with the zone's offset at that instant (`2026-11-24T14:00:00-05:00`), for FHIR. */
export function instantToOffsetDateTime(instant: Date, zone: string): string {
  const ts = instant.getTime();
  const offset = offsetAt(zoneNamed(zone), ts);
  const text = formatWithOffset(instant, offset);
  const ms = ts % 1000;
  // Milliseconds only when there are any, as luxon's `suppressMilliseconds` wrote them.
  return ms === 0
    ? text
    : `${text.slice(0, 19)}.${String((ms + 1000) % 1000).padStart(3, '0')}${text.slice(19)}`;
}

/** The calendar date (`YYYY-MM-DD`) at `instant` in `zone`. */
export function instantToLocalDate(instant: Date, zone: string): string {
  const tz = validZone(zone);
  const ts = instant.getTime();
  if (!tz || Number.isNaN(ts)) return '';
  return new Date(ts + offsetAt(tz, ts) * 60_000).toISOString().slice(0, 10);
}

/** True when `zone` is an IANA zone this runtime knows. */
export function isKnownZone(zone: string): boolean {
  return DateTime.local().setZone(zone).isValid;
}

/** The instant local midnight begins, `days` after the local date of `instant` in `zone` (DST-correct). */
export function startOfLocalDay(instant: Date, zone: string, days = 0): Date {
  const tz = validZone(zone);
  const ts = instant.getTime();
  if (!tz || Number.isNaN(ts)) return new Date(NaN);
  const local = ts + offsetAt(tz, ts) * 60_000;
  const midnight = local - (((local % 86_400_000) + 86_400_000) % 86_400_000);
  // luxon's two steps (startOf('day'), then plus): each resolves its wall time from the offset before it.
  const [atMidnight, offset] = fixOffset(midnight, offsetAt(tz, ts), tz);
  if (days === 0) return new Date(atMidnight);
  return new Date(fixOffset(atMidnight + offset * 60_000 + days * 86_400_000, offset, tz)[0]);
}

/** The same wall-clock time `days` local calendar days after `instant` in `zone` (DST-correct: 08:00 stays 08:00). */
export function addLocalDays(instant: Date, zone: string, days: number): Date {
  const tz = validZone(zone);
  const ts = instant.getTime();
  if (!tz || Number.isNaN(ts)) return new Date(NaN);
  const offset = offsetAt(tz, ts);
  return new Date(fixOffset(ts + offset * 60_000 + days * 86_400_000, offset, tz)[0]);
}

/** The calendar date `days` after `date` (`YYYY-MM-DD`); plain calendar arithmetic, no zone involved. */
export function addCalendarDays(date: string, days: number): string {
  return new Date(utcMidnight(date) + days * 86_400_000).toISOString().slice(0, 10);
}

/** ISO weekday (1 = Monday … 7 = Sunday) of a calendar date `YYYY-MM-DD`. */
export function isoWeekdayOf(date: string): number {
  return new Date(utcMidnight(date)).getUTCDay() || 7;
}

/** How the wall clock of one local date maps to instants; see {@link localDay}. */
export interface LocalDay {
  /** `YYYY-MM-DD` */
  date: string;
  /** The zone's offset from UTC in minutes all day long; undefined on a day the clocks change. */
  fixedOffsetMinutes: number | undefined;
  /** The instant of the wall time `minutes` after the day's start, resolved as {@link wallTimeToInstant} does. */
  instant(minutes: number): Date;
  /** Like `instant`, but undefined for a wall time that does not exist that day (inside the spring gap). */
  existingInstant(minutes: number): Date | undefined;
}

/**
 * The wall clock of local `date` in `zone`, for walking a grid of wall times without parsing text: on the ~363
 * ordinary days of a year one offset serves every minute; on a day the clocks change each minute is resolved as
 * {@link wallTimeToInstant} resolves it (repeated hour: the earlier instant; spring gap: moved forward, or absent
 * for `existingInstant`). `minutes` may be 1440 (the next midnight).
 */
export function localDay(date: string, zone: string): LocalDay {
  const tz = zoneNamed(zone);
  const midnightUtc = utcMidnight(date);
  const guess = tz.offset(midnightUtc);
  const dayStart = midnightUtc - guess * 60_000;
  const fixed =
    tz.offset(dayStart) === guess && tz.offset(dayStart + 86_400_000) === guess ? guess : undefined;
  const resolve = (minutes: number) => {
    const asUtc = midnightUtc + minutes * 60_000;
    if (fixed !== undefined) return { instant: new Date(asUtc - fixed * 60_000), exists: true };
    // The same resolution as wallTimeToInstant: offsets a day either side cover any transition on this date.
    const offsets = [tz.offset(asUtc - 86_400_000), tz.offset(asUtc + 86_400_000)];
    const matches = offsets
      .map((o) => asUtc - o * 60_000)
      .filter((ts) => tz.offset(ts) === (asUtc - ts) / 60_000)
      .sort((a, b) => a - b);
    const first = matches[0];
    return first === undefined
      ? { instant: new Date(asUtc - (offsets[0] ?? 0) * 60_000), exists: false }
      : { instant: new Date(first), exists: true };
  };
  return {
    date,
    fixedOffsetMinutes: fixed,
    instant: (minutes) => resolve(minutes).instant,
    existingInstant: (minutes) => {
      const { instant, exists } = resolve(minutes);
      return exists ? instant : undefined;
    },
  };
}

/** The offset of `zone` from UTC at `instant`, in minutes (`-300` for New York in winter). */
export function zoneOffsetMinutes(instant: Date, zone: string): number {
  // Through the per-hour cache: a birthdate search asks four offsets of a day decades ago on every request.
  return offsetAt(zoneNamed(zone), instant.getTime());
}

/**
 * `instant` as ISO 8601 to the second with an explicit offset (`2026-11-24T14:00:00-05:00`; `+00:00`, never `Z`).
 * The caller vouches that `offsetMinutes` is the zone's offset at that instant ({@link zoneOffsetMinutes}); this
 * is the fast path of {@link instantToOffsetDateTime} for many instants sharing one offset.
 */
export function formatWithOffset(instant: Date, offsetMinutes: number): string {
  const local = new Date(instant.getTime() + offsetMinutes * 60_000).toISOString().slice(0, 19);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

function utcMidnight(date: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== date)
    throw new RangeError(`not a date: ${JSON.stringify(date)}`);
  return ms;
}

/** `YYYY-MM-DDTHH:mm[:ss]` read as if it were UTC, in ms; undefined when it is not a real calendar time. */
function parseWallTime(value: string): number | undefined {
  const m = WALL_TIME.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map((part) => Number(part ?? 0)) as number[];
  if ((hour ?? 0) > 23 || (minute ?? 0) > 59 || (second ?? 0) > 59) return undefined;
  const ms = Date.UTC(year ?? 0, (month ?? 1) - 1, day ?? 1, hour, minute, second);
  const check = new Date(ms);
  return check.getUTCMonth() === (month ?? 1) - 1 && check.getUTCDate() === day ? ms : undefined;
}

const HOUR_MS = 3_600_000;
/** Bound on cached hours per zone (about eleven years of hours); the cache is dropped and rebuilt past it. */
const MAX_CACHED_HOURS = 100_000;
/**
 * Zone offsets by UTC hour, per zone. A memo of tzdata facts — the same answer in every app instance and test —
 * so a module-level cache is safe here, like luxon's own zone cache. An hour is cached only when the offset is
 * the same at both of its ends; an hour containing a transition is asked of the zone every time.
 */
const offsetsByZone = new WeakMap<Zone, Map<number, number>>();

function offsetAt(tz: Zone, ts: number): number {
  let hours = offsetsByZone.get(tz);
  if (!hours || hours.size > MAX_CACHED_HOURS) offsetsByZone.set(tz, (hours = new Map()));
  const hour = Math.floor(ts / HOUR_MS);
  const cached = hours.get(hour);
  if (cached !== undefined) return cached;
  const start = tz.offset(hour * HOUR_MS);
  if (start === tz.offset(hour * HOUR_MS + HOUR_MS - 1)) {
    hours.set(hour, start);
    return start;
  }
  return tz.offset(ts);
}

/**
 * The instant and offset of the local time `localTs` (ms, wall time read as UTC) in `tz`, starting from the guess
 * `offset` (minutes): luxon's own resolution (its `fixOffset`), so results match luxon's `plus` and `startOf`
 * exactly — without building a DateTime, which cost most of a Slot search's time (issue 16).
 */
function fixOffset(localTs: number, offset: number, tz: Zone): [number, number] {
  let utcGuess = localTs - offset * 60_000;
  const o2 = offsetAt(tz, utcGuess);
  if (offset === o2) return [utcGuess, offset];
  utcGuess -= (o2 - offset) * 60_000;
  const o3 = offsetAt(tz, utcGuess);
  if (o2 === o3) return [utcGuess, o2];
  return [localTs - Math.min(o2, o3) * 60_000, Math.max(o2, o3)];
}

/** The zone `zone` names, or undefined where luxon would make an invalid DateTime of it. */
function validZone(zone: string): Zone | undefined {
  const known = validZones.get(zone);
  if (known !== undefined || validZones.has(zone)) return known;
  let tz: Zone | undefined;
  try {
    tz = zoneNamed(zone);
  } catch {
    tz = undefined;
  }
  if (validZones.size > 1000) validZones.clear();
  validZones.set(zone, tz);
  return tz;
}
const validZones = new Map<string, Zone | undefined>();

function zoneNamed(zone: string): Zone {
  // IANAZone.create is memoised by luxon; UTC and fixed offsets go through luxon's own normalisation.
  const iana = IANAZone.create(zone);
  if (iana.isValid) return iana;
  const normalised = DateTime.fromMillis(0, { zone }).zone;
  if (!normalised.isValid) throw new RangeError(`unknown zone ${zone}`);
  return normalised;
}
