/**
 * Local-day arithmetic (src/wall-time.ts) is computed from cached zone offsets instead of luxon DateTimes (a Slot
 * search computed several per request; issue 16), and zone offsets through the same per-hour cache; both must
 * answer exactly what luxon answers: every half hour around DST changes (spring gap, autumn repeat, changes at
 * midnight, half-hour shifts), ordinary days and days decades back.
 */
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { addLocalDays, instantToLocalDate, startOfLocalDay, zoneOffsetMinutes } from '../../src/wall-time.js';

const CASES: ReadonlyArray<readonly [string, string]> = [
  ['America/New_York', '2026-11-01'],
  ['America/New_York', '2027-03-14'],
  ['America/New_York', '2026-11-24'],
  ['Europe/London', '2026-03-29'],
  ['Australia/Lord_Howe', '2026-10-04'],
  // Clocks change at midnight: the day starts at 01:00.
  ['America/Santiago', '2026-09-06'],
  ['America/Havana', '2026-03-08'],
  ['Asia/Kolkata', '2026-06-01'],
  ['UTC', '2026-06-01'],
  ['Etc/GMT+5', '2026-06-01'],
  // A birthdate decades back (a Patient search's `birthdate`), before and after a change.
  ['America/New_York', '1954-04-25'],
  ['Europe/Paris', '1945-09-16'],
];
const HALF_HOUR = 30 * 60_000;

/** Instants every half hour from two days before `date` to two days after. */
function instantsAround(date: string): Date[] {
  const middle = Date.parse(`${date}T12:00:00Z`);
  return Array.from({ length: 4 * 48 + 1 }, (_, i) => new Date(middle - 2 * 86_400_000 + i * HALF_HOUR));
}

describe('local-day arithmetic agrees with luxon', () => {
  it.each(CASES)('in %s around %s', (zone, date) => {
    for (const instant of instantsAround(date)) {
      const luxon = DateTime.fromJSDate(instant, { zone });
      const at = instant.toISOString();
      expect(instantToLocalDate(instant, zone), at).toBe(luxon.toISODate());
      expect(zoneOffsetMinutes(instant, zone), at).toBe(luxon.offset);
      for (const days of [-8, -1, 1, 2, 7, 61]) {
        expect(addLocalDays(instant, zone, days).toISOString(), `${at} + ${days}`).toBe(
          luxon.plus({ days }).toJSDate().toISOString(),
        );
      }
      for (const days of [0, 1, -1, 7]) {
        expect(startOfLocalDay(instant, zone, days).toISOString(), `${at} day start + ${days}`).toBe(
          luxon.startOf('day').plus({ days }).toJSDate().toISOString(),
        );
      }
    }
  });

  it('answers an unknown zone as luxon did: no date, an invalid instant', () => {
    const instant = new Date('2026-06-01T12:00:00Z');
    expect(instantToLocalDate(instant, 'Mars/Olympus')).toBe('');
    expect(Number.isNaN(addLocalDays(instant, 'Mars/Olympus', 1).getTime())).toBe(true);
    expect(Number.isNaN(startOfLocalDay(instant, 'Mars/Olympus').getTime())).toBe(true);
  });
});
