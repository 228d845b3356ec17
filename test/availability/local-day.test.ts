/**
 * The wall-clock helpers the slot calculator walks its grid with (src/wall-time.ts) must agree with
 * `wallTimeToInstant`, the one definition of how a wall time becomes an instant.
 */
import { describe, expect, it } from 'vitest';
import {
  addCalendarDays,
  formatWithOffset,
  instantToOffsetDateTime,
  instantToWallTime,
  isoWeekdayOf,
  localDay,
  wallTimeToInstant,
  zoneOffsetMinutes,
} from '../../src/wall-time.js';

const clock = (m: number) =>
  `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

describe('local days for grid walking', () => {
  it.each([
    ['America/New_York', '2026-11-01'],
    ['America/New_York', '2027-03-14'],
    ['America/New_York', '2026-11-24'],
    ['America/Chicago', '2026-03-08'],
    ['Europe/London', '2026-03-29'],
    ['Australia/Lord_Howe', '2026-10-04'],
    ['Asia/Kolkata', '2026-06-01'],
    ['UTC', '2026-06-01'],
  ])('resolves every quarter hour of %s %s as wallTimeToInstant does', (zone, date) => {
    const day = localDay(date, zone);
    for (let m = 0; m < 24 * 60; m += 15) {
      const wall = `${date}T${clock(m)}`;
      const expected = wallTimeToInstant(wall, zone);
      expect(day.instant(m), wall).toEqual(expected);
      const exists = instantToWallTime(expected, zone) === wall;
      expect(day.existingInstant(m), wall).toEqual(exists ? expected : undefined);
    }
    expect(day.instant(24 * 60)).toEqual(wallTimeToInstant(`${addCalendarDays(date, 1)}T00:00`, zone));
  });

  it('has one offset on ordinary days and none on days the clocks change', () => {
    expect(localDay('2026-11-24', 'America/New_York').fixedOffsetMinutes).toBe(-300);
    expect(localDay('2026-07-01', 'America/New_York').fixedOffsetMinutes).toBe(-240);
    expect(localDay('2026-11-01', 'America/New_York').fixedOffsetMinutes).toBeUndefined();
    expect(localDay('2027-03-14', 'America/New_York').fixedOffsetMinutes).toBeUndefined();
  });

  it('formats with an offset like instantToOffsetDateTime', () => {
    for (const [iso, zone] of [
      ['2026-11-01T05:30:00Z', 'America/New_York'],
      ['2026-11-01T06:30:00Z', 'America/New_York'],
      ['2026-06-01T06:30:00Z', 'Asia/Kolkata'],
      ['2026-06-01T06:30:00Z', 'America/St_Johns'],
    ] as const) {
      const at = new Date(iso);
      expect(formatWithOffset(at, zoneOffsetMinutes(at, zone))).toBe(instantToOffsetDateTime(at, zone));
    }
  });

  it('does calendar arithmetic on dates without a zone', () => {
    expect(addCalendarDays('2026-11-01', 1)).toBe('2026-11-02');
    expect(addCalendarDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addCalendarDays('2026-12-31', 1)).toBe('2027-01-01');
    expect([isoWeekdayOf('2026-11-21'), isoWeekdayOf('2026-11-22'), isoWeekdayOf('2026-11-23')]).toEqual([
      6, 7, 1,
    ]);
    expect(() => isoWeekdayOf('2026-02-30')).toThrow(RangeError);
  });
});
