import { describe, expect, it } from 'vitest';
import { usFederalHolidays, usFederalHolidaysBetween } from '../../src/sim/demo-holidays.js';

const dates = (year: number): Record<string, string> =>
  Object.fromEntries(usFederalHolidays(year).map((h) => [h.name, h.date]));

describe('US federal holidays', () => {
  it('computes the 2026 holidays, observing Independence Day on Friday 3 July', () => {
    expect(dates(2026)).toEqual({
      "New Year's Day": '2026-01-01',
      'Martin Luther King Jr. Day': '2026-01-19',
      "Presidents' Day": '2026-02-16',
      'Memorial Day': '2026-05-25',
      Juneteenth: '2026-06-19',
      'Independence Day': '2026-07-03',
      'Labor Day': '2026-09-07',
      'Columbus Day': '2026-10-12',
      'Veterans Day': '2026-11-11',
      'Thanksgiving Day': '2026-11-26',
      'Christmas Day': '2026-12-25',
    });
  });

  it('moves Saturday holidays to Friday and Sunday holidays to Monday', () => {
    // 2027: Juneteenth Sat → Fri 18th, July 4 Sun → Mon 5th, Christmas Sat → Fri 24th.
    expect(dates(2027)).toMatchObject({
      Juneteenth: '2027-06-18',
      'Independence Day': '2027-07-05',
      'Christmas Day': '2027-12-24',
      'Thanksgiving Day': '2027-11-25',
    });
    // 2028-01-01 is a Saturday: observed on Friday 2027-12-31.
    expect(dates(2028)["New Year's Day"]).toBe('2027-12-31');
    // 2023-01-01 was a Sunday: observed Monday the 2nd.
    expect(dates(2023)["New Year's Day"]).toBe('2023-01-02');
  });

  it('has no Juneteenth before it became a federal holiday in 2021', () => {
    expect(dates(2020)['Juneteenth']).toBeUndefined();
    expect(dates(2021)['Juneteenth']).toBe('2021-06-18');
  });

  it('lists holidays in a date range, including a New Year observed in the previous December', () => {
    const list = usFederalHolidaysBetween('2027-12-01', '2027-12-31');
    expect(list.map((h) => h.date)).toEqual(['2027-12-24', '2027-12-31']);
  });

  it('finds Thanksgiving on the fourth Thursday even when November starts on a Friday', () => {
    // November 2024 began on a Friday: Thanksgiving was the 28th.
    expect(dates(2024)['Thanksgiving Day']).toBe('2024-11-28');
    expect(dates(2030)['Thanksgiving Day']).toBe('2030-11-28');
  });
});
