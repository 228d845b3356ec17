/**
 * A birth date as a caller or an agent writes it: `1985-03-04`, `March 4 1985`, `4th March, 1985`, `Mar 4, 85`
 * is not accepted (a two-digit year is a guess), and the all-numbers forms `03/04/1985` / `03-04-1985` are read in
 * the practice's convention (month first in the US, day first elsewhere) — and said back, so the agent can check.
 */
import { DateTime } from 'luxon';

export type DateOrder = 'month-first' | 'day-first';

export interface ReadBirthDate {
  /** `YYYY-MM-DD`. */
  date: string;
  /** How it was read, to say back: `4 March 1985`. */
  readAs: string;
  /** For an all-numbers date whose day and month could be swapped: the other reading. */
  otherReading?: string;
}

const MONTH_NAMES = ['LLLL d yyyy', 'LLL d yyyy', 'd LLLL yyyy', 'd LLL yyyy', 'yyyy LLLL d', 'yyyy LLL d'];

/** The date order of a practice in `zone`: month first in the Americas' US-style zones, day first elsewhere. */
export function dateOrderOfZone(zone: string): DateOrder {
  return /^(America|US|Pacific\/Honolulu)/.test(zone) ? 'month-first' : 'day-first';
}

/** Reads `text`; undefined when it is no date in a form listed above, or not a plausible birth date. */
export function readBirthDate(text: string, order: DateOrder, today: Date): ReadBirthDate | undefined {
  const cleaned = text
    .trim()
    .toLowerCase()
    .replace(/(\d)(st|nd|rd|th)\b/g, '$1')
    .replace(/\b(born|on|the|of)\b/g, ' ')
    .replace(/[,.]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const iso =
    /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(cleaned) ?? /^(\d{4})\/(\d{1,2})\/(\d{1,2})$/.exec(cleaned);
  if (iso) return plausible(build(Number(iso[1]), Number(iso[2]), Number(iso[3])), today);
  const numeric = /^(\d{1,2})[/-](\d{1,2})[/-](\d{4})$/.exec(cleaned);
  if (numeric) {
    const [first, second, year] = [Number(numeric[1]), Number(numeric[2]), Number(numeric[3])];
    const [month, day] = order === 'month-first' ? [first, second] : [second, first];
    const read = plausible(build(year, month, day), today);
    if (!read) return undefined;
    const swapped = first !== second && first <= 12 && second <= 12 ? build(year, day, month) : undefined;
    return swapped ? { ...read, otherReading: swapped.date } : read;
  }
  for (const format of MONTH_NAMES) {
    const parsed = DateTime.fromFormat(cleaned, format, { locale: 'en-US', zone: 'UTC' });
    if (parsed.isValid) return plausible(build(parsed.year, parsed.month, parsed.day), today);
  }
  return undefined;
}

function build(year: number, month: number, day: number): ReadBirthDate | undefined {
  const date = DateTime.fromObject({ year, month, day }, { zone: 'UTC' });
  if (!date.isValid) return undefined;
  return { date: date.toISODate() as string, readAs: date.setLocale('en-GB').toFormat('d LLLL yyyy') };
}

function plausible(read: ReadBirthDate | undefined, today: Date): ReadBirthDate | undefined {
  if (!read) return undefined;
  const year = Number(read.date.slice(0, 4));
  return read.date <= today.toISOString().slice(0, 10) && year >= 1890 ? read : undefined;
}
