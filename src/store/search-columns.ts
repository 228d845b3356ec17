/**
 * The searchable columns of the `resources` table, derived from a resource (DESIGN.md section 3): the period and
 * references availability and appointment searches filter on, so those need no JSON parsing in SQL.
 */
import type { Reference, Resource } from '@medplum/fhirtypes';
import { parseReference } from './reference-key.js';
import type { ResourcesTable } from './schema.js';

/** The search columns of one resource row. */
export type SearchColumns = Pick<
  ResourcesTable,
  | 'period_start'
  | 'period_end'
  | 'status'
  | 'ref_patient'
  | 'ref_practitioner'
  | 'ref_location'
  | 'ref_schedule'
>;

/**
 * Search columns of `resource`: Appointment and Slot periods (as ISO UTC) and status, a Schedule's
 * `planningHorizon` as its period (a date without a time covers its whole day, month or year); the first patient,
 * practitioner and location an Appointment, Schedule or PractitionerRole refers to (further participants are
 * found through search tokens); a Slot's schedule; Location status and Patient/Practitioner `active`.
 *
 * @see DESIGN.md section 3
 */
export function searchColumnsFor(resource: Resource): SearchColumns {
  const columns: SearchColumns = {
    period_start: null,
    period_end: null,
    status: null,
    ref_patient: null,
    ref_practitioner: null,
    ref_location: null,
    ref_schedule: null,
  };
  // An if-chain, not a switch: most resource types deliberately have no search columns.
  if (resource.resourceType === 'Appointment') {
    const actors = (resource.participant ?? []).map((p) => p.actor);
    return {
      ...columns,
      period_start: toUtcIso(resource.start),
      period_end: toUtcIso(resource.end),
      status: resource.status ?? null,
      ref_patient: firstIdOf(actors, 'Patient'),
      ref_practitioner: firstIdOf(actors, 'Practitioner'),
      ref_location: firstIdOf(actors, 'Location'),
    };
  }
  if (resource.resourceType === 'Slot') {
    return {
      ...columns,
      period_start: toUtcIso(resource.start),
      period_end: toUtcIso(resource.end),
      status: resource.status ?? null,
      ref_schedule: firstIdOf([resource.schedule], 'Schedule'),
    };
  }
  if (resource.resourceType === 'Schedule') {
    return {
      ...columns,
      period_start: periodBound(resource.planningHorizon?.start, 'start'),
      period_end: periodBound(resource.planningHorizon?.end, 'end'),
      status: activeStatus(resource.active),
      ref_patient: firstIdOf(resource.actor, 'Patient'),
      ref_practitioner: firstIdOf(resource.actor, 'Practitioner'),
      ref_location: firstIdOf(resource.actor, 'Location'),
    };
  }
  if (resource.resourceType === 'PractitionerRole') {
    return {
      ...columns,
      status: activeStatus(resource.active),
      ref_practitioner: firstIdOf([resource.practitioner], 'Practitioner'),
      ref_location: firstIdOf(resource.location, 'Location'),
    };
  }
  if (resource.resourceType === 'Location') return { ...columns, status: resource.status ?? null };
  if (resource.resourceType === 'Patient' || resource.resourceType === 'Practitioner') {
    return { ...columns, status: activeStatus(resource.active) };
  }
  return columns;
}

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
function periodBound(value: string | undefined, bound: 'start' | 'end'): string | null {
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

function firstIdOf(references: Array<Reference | undefined> | undefined, type: string): string | null {
  for (const reference of references ?? []) {
    const parsed = parseReference(reference);
    if (parsed?.type === type) return parsed.id;
  }
  return null;
}

function activeStatus(active: boolean | undefined): string | null {
  return active === undefined ? null : active ? 'active' : 'inactive';
}
