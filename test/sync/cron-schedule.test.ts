import cron from 'node-cron';
import { describe, expect, it } from 'vitest';
import { cronForInterval } from '../../sync/cron-schedule.js';

describe('cronForInterval', () => {
  it.each([
    [2, '*/2 * * * * *', 2],
    [7, '*/10 * * * * *', 10],
    [60, '0 * * * * *', 60],
    [300, '0 */5 * * * *', 300],
    [3600, '0 0 * * * *', 3600],
    [7200, '0 0 */2 * * *', 7200],
  ])('schedules every %i s as %s', (seconds, expression, effective) => {
    const result = cronForInterval(seconds);
    expect(result).toEqual({ expression, effectiveSeconds: effective });
    expect(cron.validate(result.expression)).toBe(true);
  });

  it('refuses a non-positive interval', () => {
    expect(() => cronForInterval(0)).toThrow(RangeError);
  });
});
