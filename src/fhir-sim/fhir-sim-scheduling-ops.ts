/**
 * The FHIR simulator's scheduling operations (issue 12; quirk `findAndBook`), IHE Scheduling- and Epic-style:
 * `GET Appointment/$find?start=&end=&practitioner=` answers a searchset of `proposed` Appointments, one per free
 * Slot of the practitioner's schedules in `[start, end)` that no active appointment overlaps (the front desk's
 * bookings reference no Slot); `POST Appointment/$book` takes a Parameters whose `appointment` is the booking
 * (or the Appointment itself) and refuses it with `409` when an active appointment of the practitioner overlaps —
 * unlike `POST Appointment`, `$book` checks.
 */
import { allOk, badRequest, conflict } from '@medplum/core';
import type { FhirResponse, MemoryRepository } from '@medplum/fhir-router';
import type { Appointment, Bundle, Parameters, Reference, Schedule, Slot } from '@medplum/fhirtypes';

const FREEING = new Set<Appointment['status']>(['cancelled', 'entered-in-error', 'noshow']);

const single = (value: unknown): string | undefined =>
  Array.isArray(value) ? (value[0] as string | undefined) : (value as string | undefined);

/** `Practitioner/12` or `12` → `12`. */
const practitionerId = (value: string | undefined) => value?.replace(/^Practitioner\//, '');

async function activeAppointmentsOf(repo: MemoryRepository, practitioner: string): Promise<Appointment[]> {
  const all = await repo.searchResources<Appointment>({
    resourceType: 'Appointment',
    count: Number.MAX_SAFE_INTEGER,
  });
  return all.filter(
    (a) =>
      !FREEING.has(a.status) &&
      a.participant.some((p) => p.actor?.reference === `Practitioner/${practitioner}`),
  );
}

const overlaps = (a: { start?: string; end?: string }, from: number, to: number) =>
  Date.parse(a.start ?? '') < to && from < Date.parse(a.end ?? '');

export async function findAppointments(
  repo: MemoryRepository,
  query: Record<string, unknown>,
): Promise<FhirResponse> {
  const from = Date.parse(single(query.start) ?? '');
  const to = Date.parse(single(query.end) ?? '');
  const practitioner = practitionerId(single(query.practitioner));
  if (Number.isNaN(from)) return [badRequest('$find needs start (an instant)', 'start')];
  if (Number.isNaN(to) || to <= from) return [badRequest('$find needs end (an instant after start)', 'end')];
  if (!practitioner) return [badRequest('$find needs practitioner', 'practitioner')];
  const schedules = (
    await repo.searchResources<Schedule>({ resourceType: 'Schedule', count: Number.MAX_SAFE_INTEGER })
  ).filter((s) => s.actor.some((a) => a.reference === `Practitioner/${practitioner}`));
  const byRef = new Map(schedules.map((s) => [`Schedule/${s.id}`, s]));
  const busy = await activeAppointmentsOf(repo, practitioner);
  const slots = (
    await repo.searchResources<Slot>({ resourceType: 'Slot', count: Number.MAX_SAFE_INTEGER })
  ).filter(
    (s) =>
      s.status === 'free' &&
      byRef.has(s.schedule.reference ?? '') &&
      Date.parse(s.start) >= from &&
      Date.parse(s.start) < to &&
      !busy.some((a) => overlaps(a, Date.parse(s.start), Date.parse(s.end))),
  );
  slots.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  // Paged like a search (`_count`, `_offset`), so the `next` links the app adds lead somewhere.
  const offset = Math.max(0, Number(single(query._offset) ?? 0) || 0);
  const count = Math.max(1, Number(single(query._count) ?? 20) || 20);
  const bundle: Bundle<Appointment> = {
    resourceType: 'Bundle',
    type: 'searchset',
    total: slots.length,
    entry: slots.slice(offset, offset + count).map((slot) => {
      const location = byRef
        .get(slot.schedule.reference ?? '')
        ?.actor.find((a) => a.reference?.startsWith('Location/'));
      return {
        resource: {
          resourceType: 'Appointment',
          status: 'proposed',
          start: slot.start,
          end: slot.end,
          slot: [{ reference: `Slot/${slot.id}` } as Reference<Slot>],
          participant: [
            { actor: { reference: `Practitioner/${practitioner}` }, status: 'needs-action' },
            ...(location ? [{ actor: location, status: 'needs-action' as const }] : []),
          ],
        },
        search: { mode: 'match' },
      };
    }),
  };
  return [allOk, bundle];
}

/** The Appointment a `$book` body carries (a Parameters `appointment`, or the Appointment itself). */
export function appointmentToBook(body: unknown): Appointment | undefined {
  const resource = body as Parameters | Appointment | undefined;
  if (resource?.resourceType === 'Appointment') return resource;
  if (resource?.resourceType !== 'Parameters') return undefined;
  const found = resource.parameter?.find((p) => p.name === 'appointment')?.resource;
  return found?.resourceType === 'Appointment' ? found : undefined;
}

/** A `409` when an active appointment of the booking's practitioner overlaps it; undefined when it is free. */
export async function bookingConflict(
  repo: MemoryRepository,
  appointment: Appointment,
): Promise<FhirResponse | undefined> {
  const practitioner = practitionerId(
    appointment.participant.find((p) => p.actor?.reference?.startsWith('Practitioner/'))?.actor?.reference,
  );
  if (!practitioner) return [badRequest('the appointment names no practitioner', 'Appointment.participant')];
  const from = Date.parse(appointment.start ?? '');
  const to = Date.parse(appointment.end ?? '');
  if (Number.isNaN(from) || Number.isNaN(to)) {
    return [badRequest('the appointment needs start and end', 'Appointment.start')];
  }
  const busy = await activeAppointmentsOf(repo, practitioner);
  return busy.some((a) => overlaps(a, from, to))
    ? [conflict('the practitioner already has an appointment then')]
    : undefined;
}
