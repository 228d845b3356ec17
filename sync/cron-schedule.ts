/**
 * Poll intervals → node-cron expressions. Cron fires on wall-clock boundaries, so an interval is rounded up to
 * the nearest one that divides its unit evenly (7 s → every 10 s): passes then stay evenly spaced across minutes.
 */
const SECOND_STEPS = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30];
const MINUTE_STEPS = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30];
const HOUR_STEPS = [1, 2, 3, 4, 6, 8, 12];

const stepAtLeast = (steps: number[], value: number): number | undefined => steps.find((s) => s >= value);

/** A six-field (with seconds) cron expression for an interval of `seconds`, and the interval it really gives. */
export function cronForInterval(seconds: number): { expression: string; effectiveSeconds: number } {
  if (!(seconds > 0)) throw new RangeError(`interval must be positive, got ${seconds}`);
  const s = stepAtLeast(SECOND_STEPS, Math.ceil(seconds));
  if (s !== undefined)
    return { expression: s === 1 ? '* * * * * *' : `*/${s} * * * * *`, effectiveSeconds: s };
  const m = stepAtLeast(MINUTE_STEPS, Math.ceil(seconds / 60));
  if (m !== undefined)
    return { expression: m === 1 ? '0 * * * * *' : `0 */${m} * * * *`, effectiveSeconds: m * 60 };
  const h = stepAtLeast(HOUR_STEPS, Math.ceil(seconds / 3600));
  if (h !== undefined)
    return { expression: h === 1 ? '0 0 * * * *' : `0 0 */${h} * * *`, effectiveSeconds: h * 3600 };
  return { expression: '0 0 0 * * *', effectiveSeconds: 86_400 };
}
