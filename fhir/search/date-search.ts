/**
 * Date search (https://hl7.org/fhir/R4/search.html#date): a search value names a range by its precision
 * (`2026-11-24` is the whole day, `2026-11` the month, `2026-11-24T10:00` the minute), and a prefix says how that
 * range must relate to the range of the target value:
 *
 * | prefix | the target range […] |
 * |---|---|
 * | eq | lies fully inside the search range |
 * | ne | does not (not eq) |
 * | gt / lt | reaches above the end / below the start of the search range |
 * | ge / le | gt or eq / lt or eq |
 * | sa / eb | starts at or after the end / ends at or before the start of the search range |
 *
 * A value without a zone is read in the practice's zone (R4: "in the server's zone"), so `2026-11-24` is the
 * practice's local day, DST-correct. Calendar dates (`birthdate`) are compared as dates, without zones.
 */
import { DateTime } from 'luxon';
import { and, compare, FALSE, not, or, token, type Condition } from '../../src/store/search-condition.js';
import { wallTimeToInstant, zoneOffsetMinutes } from '../../src/wall-time.js';
import type { RowColumn } from '../resources/resource-definition.js';

export const DATE_PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb'] as const;
export type DatePrefix = (typeof DATE_PREFIXES)[number];

/** A parsed date search value: its prefix and the text of the date itself. */
export interface DateSearchValue {
  prefix: DatePrefix;
  /** The date as written, normalised (a `+` that arrived as a space restored). */
  text: string;
  /** True when the value carries a zone (`Z` or an offset). */
  zoned: boolean;
  precision: 'year' | 'month' | 'day' | 'minute' | 'second' | 'millisecond';
}

/** Half-open range of instants, ISO-8601 UTC text: `start` inclusive, `end` exclusive. */
export interface InstantRange {
  start: string;
  end: string;
}

const DATE_VALUE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * Parses `[prefix]date`; undefined when it is not a date FHIR search accepts. `ap` is refused by the caller as
 * unsupported, so it is reported separately through {@link hasApproximatePrefix}.
 */
export function parseDateSearchValue(raw: string): DateSearchValue | undefined {
  const prefixed = /^(eq|ne|gt|lt|ge|le|sa|eb)/.exec(raw);
  const prefix = (prefixed?.[1] ?? 'eq') as DatePrefix;
  // An unencoded `+` in a query string arrives as a space: `…T10:00:00 01:00`.
  const text = raw.slice(prefixed ? 2 : 0).replace(/ (\d{2}:\d{2})$/, '+$1');
  const m = DATE_VALUE.exec(text);
  if (!m) return undefined;
  // A date alone (the common `birthdate=1954-10-27`) is checked by hand: luxon's parser cost a Patient search 8 %.
  if (!isCalendarDate(m[1], m[2], m[3])) return undefined;
  // An ordinary time needs no parser either (`start=ge2026-12-07T00:00:00-05:00`); luxon judges anything else.
  if (m[4] !== undefined && !isOrdinaryTime(m[4], m[5], m[6], m[8])) {
    if (!DateTime.fromISO(text, { setZone: true, zone: 'UTC' }).isValid) return undefined;
  }
  const precision: DateSearchValue['precision'] = m[7]
    ? 'millisecond'
    : m[6]
      ? 'second'
      : m[4]
        ? 'minute'
        : m[3]
          ? 'day'
          : m[2]
            ? 'month'
            : 'year';
  return { prefix, text, zoned: m[8] !== undefined, precision };
}

const DAY_MS = 24 * 60 * 60_000;
/** Units of a precision that last the same in every zone. */
const FIXED_UNIT_MS: Partial<Record<DateSearchValue['precision'], number>> = {
  minute: 60_000,
  second: 1000,
  millisecond: 1,
};

/** `YYYY`, `YYYY-MM` or `YYYY-MM-DD` names a real Gregorian date (what luxon's parser accepts). */
function isCalendarDate(
  year: string | undefined,
  month: string | undefined,
  day: string | undefined,
): boolean {
  if (month === undefined) return year !== undefined;
  const m = Number(month);
  if (m < 1 || m > 12) return false;
  if (day === undefined) return true;
  const d = Number(day);
  const probe = new Date(0);
  probe.setUTCFullYear(Number(year), m - 1, d);
  return d >= 1 && probe.getUTCMonth() === m - 1 && probe.getUTCDate() === d;
}

/** Hours 0–23, minutes and seconds 0–59, an offset within ±14:59: valid for any parser. */
function isOrdinaryTime(
  hour: string,
  minute: string | undefined,
  second: string | undefined,
  offset: string | undefined,
): boolean {
  if (Number(hour) > 23 || Number(minute) > 59 || (second !== undefined && Number(second) > 59)) return false;
  if (offset === undefined || offset === 'Z') return true;
  return Number(offset.slice(1, 3)) <= 14 && Number(offset.slice(4, 6)) <= 59;
}

export function hasApproximatePrefix(raw: string): boolean {
  return raw.startsWith('ap');
}

/** The range of instants `value` names; a value without a zone is read in `zone`. */
export function instantRange(value: DateSearchValue, zone: string): InstantRange {
  // Sub-millisecond digits cannot be stored; keep milliseconds.
  const text = value.text.replace(/(\.\d{3})\d+/, '$1');
  const fixedUnit = FIXED_UNIT_MS[value.precision];
  if (value.zoned && fixedUnit !== undefined) {
    // An instant with its offset, to the minute or finer (`start=ge2026-12-07T00:00:00-05:00`): plain arithmetic.
    const at = Date.parse(text);
    if (!Number.isNaN(at))
      return { start: new Date(at).toISOString(), end: new Date(at + fixedUnit).toISOString() };
  }
  if (!value.zoned && value.precision === 'day' && text >= '1900') {
    // A calendar day in the zone (`birthdate=1954-10-27`) without luxon when no clock change falls near it (the
    // offset is the same from 6 h before it to its end) and it is not older than 1900; other days are left to
    // luxon's calendar arithmetic below.
    const start = wallTimeToInstant(`${text}T00:00`, zone);
    const end = new Date(start.getTime() + DAY_MS);
    const offset = zoneOffsetMinutes(start, zone);
    const steady = [-6, 12, 24].every(
      (hours) => zoneOffsetMinutes(new Date(start.getTime() + hours * 3_600_000), zone) === offset,
    );
    if (steady) return { start: start.toISOString(), end: end.toISOString() };
  }
  const start = DateTime.fromISO(text, value.zoned ? { setZone: true } : { zone });
  const end = start.plus({ [`${value.precision}s`]: 1 });
  return { start: start.toUTC().toISO() as string, end: end.toUTC().toISO() as string };
}

/** What a date parameter is compared with. */
export type DateTarget =
  /** An instant in a column: a point. */
  | { kind: 'instant'; column: RowColumn }
  /** A Period in two columns; either end may be open. */
  | { kind: 'period'; start: RowColumn; end: RowColumn }
  /** A calendar date `YYYY-MM-DD` in search tokens: the whole day. */
  | { kind: 'date-token'; param: string };

type Bound = 'start' | 'end';

/**
 * The condition for `prefix` with search range `range` against `target`. Calendar-date targets must be given a
 * range computed in UTC (dates have no zone; UTC midnights are their day boundaries).
 */
export function dateCondition(prefix: DatePrefix, range: InstantRange, target: DateTarget): Condition {
  const bound = boundComparer(target);
  const { start: qs, end: qe } = range;
  const eq = and([bound('start', '>=', qs), bound('end', '<=', qe)]);
  const gt = bound('end', '>', qe);
  const lt = bound('start', '<', qs);
  let condition: Condition;
  switch (prefix) {
    case 'eq':
      condition = eq;
      break;
    case 'ne':
      condition = not(eq);
      break;
    case 'gt':
      condition = gt;
      break;
    case 'lt':
      condition = lt;
      break;
    case 'ge':
      condition = or([gt, eq]);
      break;
    case 'le':
      condition = or([lt, eq]);
      break;
    case 'sa':
      condition = bound('start', '>=', qe);
      break;
    case 'eb':
      condition = bound('end', '<=', qs);
      break;
  }
  switch (target.kind) {
    case 'instant':
      return and([not({ op: 'is-null', field: target.column }), condition]);
    case 'period':
      return and([
        not(
          and([
            { op: 'is-null', field: target.start },
            { op: 'is-null', field: target.end },
          ]),
        ),
        condition,
      ]);
    case 'date-token':
      return token(target.param, condition);
  }
}

/**
 * Compares the target range's start or end with an instant. Target ranges are half-open like search ranges; a
 * point `t` is `[t, t + ε)`, so "end > v" is `t >= v` and "end <= v" is `t < v`. A calendar day `D` is
 * `[D, D + 1 day)`, compared through the days that `v` falls in.
 */
function boundComparer(
  target: DateTarget,
): (bound: Bound, op: '>=' | '<' | '>' | '<=', value: string) => Condition {
  switch (target.kind) {
    case 'instant':
      return (bound, op, value) => {
        if (bound === 'start') return compare(target.column, op, value);
        return compare(target.column, op === '>' ? '>=' : op === '<=' ? '<' : op, value);
      };
    case 'period':
      return (bound, op, value) => {
        const column = bound === 'start' ? target.start : target.end;
        const open: Condition = { op: 'is-null', field: column };
        // An open start is -∞ (below anything), an open end +∞ (above anything).
        const openSatisfies = bound === 'start' ? op === '<' || op === '<=' : op === '>' || op === '>=';
        const closed = compare(column, op, value);
        return openSatisfies ? or([open, closed]) : closed;
      };
    case 'date-token':
      return (bound, op, value) => {
        const floor = value.slice(0, 10);
        const ceil = value.slice(10) === 'T00:00:00.000Z' ? floor : nextDay(floor);
        if (bound === 'start') {
          // D >= v ⟺ D >= ceil(v); D < v ⟺ D < ceil(v)
          if (op === '>=' || op === '<') return compare('value', op, ceil);
        } else {
          // D + 1 > v ⟺ D >= floor(v); D + 1 <= v ⟺ D < floor(v)
          if (op === '>') return compare('value', '>=', floor);
          if (op === '<=') return compare('value', '<', floor);
        }
        return FALSE;
      };
  }
}

function nextDay(date: string): string {
  return DateTime.fromISO(date, { zone: 'UTC' }).plus({ days: 1 }).toISODate() as string;
}
