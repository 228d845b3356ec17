/**
 * How values are normalised into the search columns of `resources` (DESIGN.md section 3): instants as sortable ISO
 * UTC text, Period bounds, the id of the first reference to a type.
 */
import type { Reference } from '@medplum/fhirtypes';
import { parseReference } from '../reference-key.js';

/**
 * An instant with an offset as `toISOString()` UTC text (lexicographically sortable), or null. A date-time without
 * an offset is not a FHIR instant and would be read in this machine's zone, so it is refused rather than guessed.
 *
 * @see DESIGN.md section 3
 */
export function toUtcIso(instant: string | undefined): string | null {
  if (!instant || /T[\d:.]+$/.test(instant)) return null;
  const time = Date.parse(instant);
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

const PARTIAL_DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;

/**
 * One end of a Period as ISO UTC. A `dateTime` end may be a bare date (`2026-12-31`), which as a bound covers that
 * whole day: its start for `start`, the start of the next day for `end`. Dates carry no zone, so UTC midnights
 * bound them (as calendar-date searches do).
 */
export function periodBound(value: string | undefined, bound: 'start' | 'end'): string | null {
  const date = value === undefined ? null : PARTIAL_DATE.exec(value);
  if (!date) return toUtcIso(value);
  const [year, month, day] = [
    Number(date[1]),
    date[2] ? Number(date[2]) - 1 : 0,
    date[3] ? Number(date[3]) : 1,
  ];
  if (month > 11 || day < 1 || new Date(Date.UTC(year, month, day)).getUTCMonth() !== month) return null;
  const precision = date[3] ? 'day' : date[2] ? 'month' : 'year';
  const next = bound === 'end' ? 1 : 0;
  const utc =
    precision === 'day'
      ? Date.UTC(year, month, day + next)
      : precision === 'month'
        ? Date.UTC(year, month + next, 1)
        : Date.UTC(year + next, 0, 1);
  return new Date(utc).toISOString();
}

export function firstIdOf(references: Array<Reference | undefined> | undefined, type: string): string | null {
  for (const reference of references ?? []) {
    const parsed = parseReference(reference);
    if (parsed?.type === type) return parsed.id;
  }
  return null;
}
