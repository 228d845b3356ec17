/**
 * Calendar-date and wall-clock arithmetic for the demo practice generator.
 *
 * The records system speaks practice-local wall time only (DESIGN.md section 2), so the generator steps through
 * calendar dates and clock readings as plain numbers — a day is always 24 wall hours here and DST never shifts a
 * reading. Instants appear only where `now` is read (through `wall-time.ts`).
 */

const MS_PER_DAY = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const WALL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/** Days since 1970-01-01 of a calendar date `YYYY-MM-DD`. */
export function dayNumber(date: string): number {
  const m = DATE.exec(date);
  if (!m) throw new RangeError(`not a date: ${JSON.stringify(date)}`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const back = new Date(ms);
  if (back.getUTCDate() !== Number(m[3]) || back.getUTCMonth() !== Number(m[2]) - 1) {
    throw new RangeError(`not a calendar date: ${date}`);
  }
  return Math.round(ms / MS_PER_DAY);
}

/** The calendar date `YYYY-MM-DD` of a day number. */
export function dateOfDayNumber(day: number): string {
  // Howard Hinnant's civil_from_days: plain integer arithmetic, much cheaper than a Date per call.
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${String(y).padStart(4, '0')}-${m < 10 ? '0' : ''}${m}-${d < 10 ? '0' : ''}${d}`;
}

export function addDays(date: string, days: number): string {
  return dateOfDayNumber(dayNumber(date) + days);
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return dayNumber(to) - dayNumber(from);
}

/** ISO weekday: 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: string): number {
  // 1970-01-01 was a Thursday (4).
  return ((((dayNumber(date) + 3) % 7) + 7) % 7) + 1;
}

/** The same calendar date `years` years earlier or later (29 February falls back to the 28th). */
export function addYears(date: string, years: number): string {
  const y = Number(date.slice(0, 4)) + years;
  const md = date.slice(5);
  const candidate = `${String(y).padStart(4, '0')}-${md}`;
  return md === '02-29' && !isLeapYear(y) ? `${String(y).padStart(4, '0')}-02-28` : candidate;
}

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Minutes after midnight of an `HH:mm` clock reading. */
export function clockToMinutes(clock: string): number {
  const h = Number(clock.slice(0, 2));
  const m = Number(clock.slice(3, 5));
  return h * 60 + m;
}

/** `HH:mm` of minutes after midnight (0 ≤ minutes < 1440). */
export function minutesToClock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/**
 * A wall time as a count of wall-clock seconds since 1970-01-01T00:00 (every day 86,400 of them).
 * Ordering and subtraction of these numbers match the records system's own naive view of its timestamps.
 */
export function wallToSeconds(wall: string): number {
  const m = WALL.exec(wall);
  if (!m) throw new RangeError(`not a wall time: ${JSON.stringify(wall)}`);
  const day = dayNumber(`${m[1]}-${m[2]}-${m[3]}`);
  return day * 86_400 + Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6] ?? 0);
}

/** The wall time of a wall-second count, `YYYY-MM-DDTHH:mm` or with seconds. */
export function secondsToWall(seconds: number, precision: 'minute' | 'second'): string {
  const day = Math.floor(seconds / 86_400);
  const rest = seconds - day * 86_400;
  const h = Math.floor(rest / 3600);
  const min = Math.floor((rest % 3600) / 60);
  const s = rest % 60;
  const base = `${dateOfDayNumber(day)}T${String(h).padStart(2, '0')}:${String(min).padStart(2, '0')}`;
  return precision === 'minute' ? base : `${base}:${String(s).padStart(2, '0')}`;
}
