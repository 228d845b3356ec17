/**
 * Practice-local wall times (`2026-11-24T14:00`, no offset) ↔ exact instants, through an IANA zone.
 * The records systems we front speak wall time only, so every DST rule lives here and nowhere else.
 */
import { DateTime } from 'luxon';

const WALL_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/** True when `value` is a wall time `YYYY-MM-DDTHH:mm` or `YYYY-MM-DDTHH:mm:ss` that names a real calendar time. */
export function isWallTime(value: string): boolean {
  const m = WALL_TIME.exec(value);
  if (!m) return false;
  return DateTime.fromISO(value, { zone: 'UTC' }).isValid;
}

/**
 * The instant a wall time names in `zone`.
 * In the autumn repeated hour the earlier instant (daylight time) is taken; a wall time inside the spring gap does
 * not exist and moves forward by the gap (02:30 → 03:30), which is what clocks and most schedulers do.
 * Resolved explicitly: luxon alone seeds its offset guess from the current clock, so the repeated hour would
 * resolve differently in summer and in winter.
 */
export function wallTimeToInstant(wall: string, zone: string): Date {
  if (!isWallTime(wall)) throw new RangeError(`not a wall time: ${JSON.stringify(wall)}`);
  const probe = DateTime.fromISO(wall, { zone });
  if (!probe.isValid)
    throw new RangeError(`cannot place ${wall} in zone ${zone}: ${probe.invalidExplanation ?? ''}`);
  const asUtc = DateTime.fromISO(wall, { zone: 'UTC' }).toMillis();
  const tz = probe.zone;
  // Offsets in force a day either side cover both sides of any transition on this date.
  const offsets = [tz.offset(asUtc - 86_400_000), tz.offset(asUtc + 86_400_000)];
  const matches = offsets
    .map((o) => asUtc - o * 60_000)
    .filter((ts) => tz.offset(ts) === (asUtc - ts) / 60_000)
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
  const dt = DateTime.fromJSDate(instant, { zone });
  if (!dt.isValid) throw new RangeError(`unknown zone ${zone}`);
  return dt.toFormat(precision === 'minute' ? "yyyy-MM-dd'T'HH:mm" : "yyyy-MM-dd'T'HH:mm:ss");
}

/** The instant as ISO 8601 with the zone's offset at that instant (`2026-11-24T14:00:00-05:00`), for FHIR. */
export function instantToOffsetDateTime(instant: Date, zone: string): string {
  return (
    DateTime.fromJSDate(instant, { zone }).toISO({ suppressMilliseconds: true }) ?? instant.toISOString()
  );
}

/** The calendar date (`YYYY-MM-DD`) at `instant` in `zone`. */
export function instantToLocalDate(instant: Date, zone: string): string {
  return DateTime.fromJSDate(instant, { zone }).toISODate() ?? '';
}

/** True when `zone` is an IANA zone this runtime knows. */
export function isKnownZone(zone: string): boolean {
  return DateTime.local().setZone(zone).isValid;
}

/** The instant local midnight begins, `days` after the local date of `instant` in `zone` (DST-correct). */
export function startOfLocalDay(instant: Date, zone: string, days = 0): Date {
  return DateTime.fromJSDate(instant, { zone }).startOf('day').plus({ days }).toJSDate();
}
