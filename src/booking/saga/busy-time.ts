/** What makes an appointment occupy a practitioner's time, as the saga's steps judge it. */
import type { Appointment } from '@medplum/fhirtypes';

/** Statuses that no longer occupy the practitioner's time. */
export const INACTIVE: ReadonlySet<Appointment['status']> = new Set<Appointment['status']>([
  'cancelled',
  'noshow',
  'entered-in-error',
]);

export const occupiesTime = (a: Appointment | undefined): boolean =>
  a !== undefined && !INACTIVE.has(a.status);

/** How far before a requested start an upstream appointment may begin and still overlap it. */
export const LOOKBEHIND_MS = 12 * 3600_000;

export function overlaps(
  start: string | undefined,
  end: string | undefined,
  range: { start: Date; end: Date },
): boolean {
  if (!start || !end) return false;
  return Date.parse(start) < range.end.getTime() && Date.parse(end) > range.start.getTime();
}
