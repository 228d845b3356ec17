/**
 * Random record timestamps (`createdAt`, `modifiedAt`) for the demo practice, as wall-clock seconds
 * (see `demo-calendar.ts`). Staff and patients act in the daytime, so draws land between 07:00 and 21:00.
 */
import { secondsToWall } from './demo-calendar.js';
import type { SeededRandom } from './seeded-random.js';
import { instantToWallTime, wallTimeToInstant } from '../wall-time.js';

const DAY = 86_400;
const DAYTIME_FROM = 7 * 3600;
const DAYTIME_TO = 21 * 3600;

/** A daytime wall-second in `[lo, hi]` (or `lo` itself when the range is empty). */
export function randomDaytimeSecond(rng: SeededRandom, lo: number, hi: number): number {
  if (hi <= lo) return lo;
  const firstDay = Math.floor(lo / DAY);
  const lastDay = Math.floor(hi / DAY);
  const day = rng.int(firstDay, lastDay);
  const candidate = day * DAY + rng.int(DAYTIME_FROM, DAYTIME_TO - 1);
  if (candidate >= lo && candidate <= hi) return candidate;
  // The day's daytime band missed the range (it starts or ends at night): draw inside the range instead.
  return rng.int(lo, hi);
}

/**
 * The wall time (with seconds) of a wall-second, moved out of the spring-forward gap when it falls there: a clamp to
 * `now` at night can land on 02:xx of the day clocks skip it, and the records system never shows such a time.
 */
export function timestampWall(seconds: number, zone: string): string {
  const wall = secondsToWall(seconds, 'second');
  const timeOfDay = seconds - Math.floor(seconds / DAY) * DAY;
  if (timeOfDay >= 4 * 3600) return wall;
  // Daytime readings always exist; only the small hours need the (slower) round trip through the zone.
  if (instantToWallTime(wallTimeToInstant(wall, zone), zone, 'second') === wall) return wall;
  return secondsToWall(seconds - 3600, 'second');
}
