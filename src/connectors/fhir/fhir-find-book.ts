/**
 * An upstream's own scheduling operations (issue 12; capability `findAndBook`), IHE Scheduling- and Epic-style:
 * `$find` answers the practitioner's open times as `proposed` Appointments, which the booking saga's live re-check
 * reads as the open intervals of the practitioner's schedules (time `$find` does not offer is closed, as a gap
 * between Slots is); `$book` writes the booking and lets the upstream check it.
 */
import type { Appointment, Bundle, Parameters, Schedule, Slot } from '@medplum/fhirtypes';
import type { UpstreamRecord, WindowQuery } from '../connector.js';
import type { FhirClient } from './fhir-client.js';
import { appointmentRefs, scheduleOf, scheduleRefs } from './fhir-mapping.js';
import { localDaysCovering, slotGapRecords } from './fhir-slot-gaps.js';

/** Appointment statuses that hold no time. */
const FREEING = new Set<Appointment['status']>(['cancelled', 'entered-in-error', 'noshow']);

/**
 * The open time of one practitioner as Slots of its schedules, for fhir-slot-gaps.ts: what `$find` proposes, and
 * the time of the practitioner's active appointments (they are weighed by the re-check itself, which knows which
 * appointment is the one being moved).
 */
export function openTimeOf(
  practitionerUpstreamId: string,
  schedules: readonly Schedule[],
  proposed: readonly Appointment[],
  appointments: readonly Appointment[],
): Slot[] {
  const own = schedules.filter((s) =>
    scheduleRefs(s).some((r) => r.resourceType === 'Practitioner' && r.upstreamId === practitionerUpstreamId),
  );
  return [...proposed, ...appointments.filter((a) => !FREEING.has(a.status))].flatMap((a) => {
    if (!a.start || !a.end) return [];
    const location = appointmentRefs(a).find((r) => r.resourceType === 'Location')?.upstreamId;
    const at = location ? scheduleOf(own, practitionerUpstreamId, location) : undefined;
    return (at ? [at] : own).map((s): Slot => ({
      resourceType: 'Slot',
      schedule: { reference: `Schedule/${s.id}` },
      status: 'free',
      start: a.start as string,
      end: a.end as string,
    }));
  });
}

/** The body of `POST Appointment/$book`. */
export function bookParameters(appointment: Appointment): Parameters {
  return { resourceType: 'Parameters', parameter: [{ name: 'appointment', resource: appointment }] };
}

/** The booked Appointment of a `$book` answer: the Appointment itself, or the first one of a Bundle. */
export function bookedAppointment(answer: Appointment | Bundle | undefined): Appointment | undefined {
  if (answer?.resourceType === 'Appointment') return answer;
  const found = answer?.entry?.find((e) => e.resource?.resourceType === 'Appointment')?.resource;
  return found as Appointment | undefined;
}

/**
 * The live re-check with `$find`: the time of the window's practitioner that `$find` does not offer (and no
 * appointment of theirs holds), per whole local day of each of their schedules, as `busy-unavailable` gaps.
 */
export async function findGapRecords(
  client: FhirClient,
  allSchedules: readonly Schedule[],
  window: WindowQuery,
  zone: string,
  signal: AbortSignal | undefined,
): Promise<UpstreamRecord<Slot>[]> {
  const practitioner = window.practitionerUpstreamId as string;
  const days = localDaysCovering(window.from, window.to, zone);
  const from = days[0]?.start;
  const to = days[days.length - 1]?.end;
  if (!from || !to) return [];
  const [proposed, appointments] = await Promise.all([
    client.searchAt<Appointment>(
      'Appointment/$find',
      'Appointment',
      [
        ['start', from.toISOString()],
        ['end', to.toISOString()],
        ['practitioner', `Practitioner/${practitioner}`],
      ],
      signal,
    ),
    client.search<Appointment>(
      'Appointment',
      [
        ['date', `ge${from.toISOString()}`],
        ['date', `lt${to.toISOString()}`],
        ['practitioner', `Practitioner/${practitioner}`],
      ],
      signal,
    ),
  ]);
  const schedules = allSchedules.filter((s) =>
    scheduleRefs(s).some((r) => r.resourceType === 'Practitioner' && r.upstreamId === practitioner),
  );
  return slotGapRecords(
    schedules,
    days,
    openTimeOf(practitioner, schedules, proposed, appointments),
    window,
    zone,
  );
}
