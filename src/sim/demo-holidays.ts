/**
 * US federal holidays by rule (5 U.S.C. 6103), for the demo practice's closures (DESIGN.md section 2).
 * A fixed-date holiday on a Saturday is observed the Friday before, on a Sunday the Monday after — which is how
 * New Year's Day can be observed on 31 December of the previous year.
 */
import { addDays, dayNumber, isoWeekday } from './demo-calendar.js';

export interface Holiday {
  /** The date the practice is closed (the observed date). */
  date: string;
  name: string;
}

function ymd(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** The `n`-th (1-based) given ISO weekday of a month. */
function nthWeekday(year: number, month: number, weekday: number, n: number): string {
  const first = ymd(year, month, 1);
  const offset = (weekday - isoWeekday(first) + 7) % 7;
  return addDays(first, offset + (n - 1) * 7);
}

/** The last given ISO weekday of a month. */
function lastWeekday(year: number, month: number, weekday: number): string {
  const nextMonthFirst = month === 12 ? ymd(year + 1, 1, 1) : ymd(year, month + 1, 1);
  const last = addDays(nextMonthFirst, -1);
  const back = (isoWeekday(last) - weekday + 7) % 7;
  return addDays(last, -back);
}

function observed(date: string): string {
  const wd = isoWeekday(date);
  if (wd === 6) return addDays(date, -1);
  if (wd === 7) return addDays(date, 1);
  return date;
}

/** The observed federal holidays that belong to `year` (New Year's Day may fall on 31 December of `year - 1`). */
export function usFederalHolidays(year: number): Holiday[] {
  const list: Holiday[] = [
    { date: observed(ymd(year, 1, 1)), name: "New Year's Day" },
    { date: nthWeekday(year, 1, 1, 3), name: 'Martin Luther King Jr. Day' },
    { date: nthWeekday(year, 2, 1, 3), name: "Presidents' Day" },
    { date: lastWeekday(year, 5, 1), name: 'Memorial Day' },
    { date: observed(ymd(year, 7, 4)), name: 'Independence Day' },
    { date: nthWeekday(year, 9, 1, 1), name: 'Labor Day' },
    { date: nthWeekday(year, 10, 1, 2), name: 'Columbus Day' },
    { date: observed(ymd(year, 11, 11)), name: 'Veterans Day' },
    { date: nthWeekday(year, 11, 4, 4), name: 'Thanksgiving Day' },
    { date: observed(ymd(year, 12, 25)), name: 'Christmas Day' },
  ];
  // Juneteenth National Independence Day became a federal holiday in 2021.
  if (year >= 2021) list.push({ date: observed(ymd(year, 6, 19)), name: 'Juneteenth' });
  return list.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

/** Every observed federal holiday with `from ≤ date ≤ to`, in date order. */
export function usFederalHolidaysBetween(from: string, to: string): Holiday[] {
  const first = Number(from.slice(0, 4));
  const last = Number(to.slice(0, 4));
  const out: Holiday[] = [];
  // One year past `to` catches a New Year's Day observed on 31 December.
  for (let y = first; y <= last + 1; y++) {
    for (const h of usFederalHolidays(y)) if (h.date >= from && h.date <= to) out.push(h);
  }
  return out.sort((a, b) => dayNumber(a.date) - dayNumber(b.date));
}
