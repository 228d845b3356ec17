/**
 * When a caller wants to come in, in words ("next Tuesday afternoon", "tomorrow", "this week", "December 8",
 * "2026-12-08 morning", "earliest"), as a window of instants in the practice's zone (luxon), plus the part of the
 * day asked for. Every reading is said back (`described`), so the agent can confirm "Tuesday, December 8" aloud.
 * "next Tuesday" is the first Tuesday after today: callers use it for the coming one as often as for the one
 * after, and the answer names the date.
 */
import { DateTime } from 'luxon';

export type DayPart = 'morning' | 'afternoon' | 'evening';

export interface RequestedWindow {
  from: Date;
  to: Date;
  part?: DayPart;
  /** Speakable: `Tuesday, December 8, afternoon`. */
  described: string;
}

/** Local hours [from, to) of each part of the day. */
export const DAY_PARTS: Readonly<Record<DayPart, readonly [number, number]>> = {
  morning: [0, 12],
  afternoon: [12, 17],
  evening: [17, 24],
};

const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const WEEKDAY_SHORT = ['mon', 'tue', 'tues', 'wed', 'thu', 'thur', 'thurs', 'fri', 'sat', 'sun'];
const SHORT_TO_DAY: Record<string, number> = {
  mon: 1,
  tue: 2,
  tues: 2,
  wed: 3,
  thu: 4,
  thur: 4,
  thurs: 4,
  fri: 5,
  sat: 6,
  sun: 7,
};
/** How far "earliest" looks. */
export const EARLIEST_DAYS = 60;

/** Reads `text` relative to `now` in `zone`; undefined when it is not understood. */
export function readWhen(text: string, now: Date, zone: string): RequestedWindow | undefined {
  let words = ` ${text
    .toLowerCase()
    .replace(/[,.!?]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()} `;
  const today = DateTime.fromJSDate(now, { zone }).startOf('day');
  let part: DayPart | undefined;
  for (const p of Object.keys(DAY_PARTS) as DayPart[]) {
    if (
      words.includes(` ${p} `) ||
      (p === 'morning' && words.includes(' am ')) ||
      (p === 'afternoon' && words.includes(' pm '))
    ) {
      part = p;
      words = words.replace(` ${p} `, ' ').replace(' am ', ' ').replace(' pm ', ' ');
    }
  }
  words = words.replace(/\b(in|the|on|at|for|please|sometime|some time|any time|anytime|of|a|an)\b/g, ' ');
  const phrase = words.replace(/\s+/g, ' ').trim();
  const day = readDays(phrase, today);
  if (!day) return undefined;
  const from = DateTime.max(day.from, DateTime.fromJSDate(now, { zone }));
  return {
    from: from.toJSDate(),
    to: day.to.toJSDate(),
    ...(part ? { part } : {}),
    described: part ? `${day.described}, ${part}` : day.described,
  };
}

interface Days {
  from: DateTime;
  to: DateTime;
  described: string;
}

function spokenDay(d: DateTime): string {
  return d.setLocale('en-US').toFormat('cccc, LLLL d');
}

function oneDay(d: DateTime): Days {
  return { from: d, to: d.plus({ days: 1 }), described: spokenDay(d) };
}

function readDays(phrase: string, today: DateTime): Days | undefined {
  const zone = today.zoneName ?? 'UTC';
  if (
    phrase === '' ||
    [
      'earliest',
      'soonest',
      'asap',
      'as soon as possible',
      'first available',
      'next available',
      'any',
    ].includes(phrase)
  ) {
    const to = today.plus({ days: EARLIEST_DAYS });
    return { from: today, to, described: `the next ${EARLIEST_DAYS} days` };
  }
  if (phrase === 'today') return oneDay(today);
  if (phrase === 'tomorrow') return oneDay(today.plus({ days: 1 }));
  if (phrase === 'day after tomorrow') return oneDay(today.plus({ days: 2 }));
  const weekStart = today.minus({ days: today.weekday - 1 });
  if (phrase === 'this week' || phrase === 'later this week' || phrase === 'rest of week') {
    const to = weekStart.plus({ days: 7 });
    return { from: today, to, described: `this week, until ${spokenDay(to.minus({ days: 1 }))}` };
  }
  if (phrase === 'next week') {
    const from = weekStart.plus({ days: 7 });
    return { from, to: from.plus({ days: 7 }), described: `the week of ${spokenDay(from)}` };
  }
  if (phrase === 'weekend' || phrase === 'this weekend') {
    const from = weekStart.plus({ days: 5 });
    return { from, to: from.plus({ days: 2 }), described: `the weekend of ${spokenDay(from)}` };
  }
  if (phrase === 'next month') {
    const from = today.startOf('month').plus({ months: 1 });
    return { from, to: from.plus({ months: 1 }), described: from.setLocale('en-US').toFormat('LLLL yyyy') };
  }
  const weekday = /^(?:(next|this|coming)\s+)?([a-z]+)$/.exec(phrase);
  if (weekday) {
    const name = weekday[2] as string;
    const index = WEEKDAYS.indexOf(name) >= 0 ? WEEKDAYS.indexOf(name) + 1 : SHORT_TO_DAY[name];
    if (index !== undefined && (WEEKDAYS.includes(name) || WEEKDAY_SHORT.includes(name))) {
      const ahead = (index - today.weekday + 7) % 7 || 7;
      return oneDay(today.plus({ days: ahead }));
    }
  }
  const iso = DateTime.fromISO(phrase, { zone });
  if (/^\d{4}-\d{2}-\d{2}$/.test(phrase) && iso.isValid) return oneDay(iso.startOf('day'));
  for (const format of ['LLLL d', 'LLL d', 'd LLLL', 'd LLL', 'cccc LLLL d', 'cccc LLL d']) {
    const cleaned = phrase.replace(/(\d)(st|nd|rd|th)\b/g, '$1');
    const parsed = DateTime.fromFormat(cleaned, format, { zone, locale: 'en-US' });
    if (parsed.isValid) {
      // A date without a year is the next one: "December 8" in late December means next year's.
      let d = parsed.set({ year: today.year }).startOf('day');
      if (d < today) d = d.plus({ years: 1 });
      return oneDay(d);
    }
  }
  return undefined;
}
