/**
 * Ordering of practice-local wall times as the simulated records system does it (DESIGN.md section 2).
 * Values arrive as `YYYY-MM-DDTHH:mm` or `YYYY-MM-DDTHH:mm:ss` (createdAt/modifiedAt carry seconds), so they are
 * padded to one width before comparing: a plain string compare would put `…T10:00` before `…T10:00:00`.
 *
 * Like the closed systems it imitates, the sim orders by wall time, not by instant: in the repeated autumn hour
 * `01:30` (daylight) and `01:30` (standard) are the same value. That is the quirk Switchboard must cope with.
 */
import { isWallTime } from '../wall-time.js';

/** `value` padded to `YYYY-MM-DDTHH:mm:ss`; throws on anything that is not a wall time (for caller input). */
export function normaliseWallTime(value: string): string {
  if (!isWallTime(value)) throw new RangeError(`not a wall time: ${JSON.stringify(value)}`);
  return wallTimeKey(value);
}

/**
 * The sort key of a stored wall time, already validated on the way in. No parsing: list calls run this for every
 * row of a year of appointments on each poll.
 */
export function wallTimeKey(stored: string): string {
  return stored.length === 16 ? `${stored}:00` : stored;
}

/** Negative, zero or positive as stored wall time `a` is before, equal to or after `b`. */
export function compareWallTimes(a: string, b: string): number {
  const ka = wallTimeKey(a);
  const kb = wallTimeKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
