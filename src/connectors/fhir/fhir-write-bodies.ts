/**
 * Switchboard's writes as upstream FHIR bodies (issue 12): the Appointment a booking or reschedule sends (with the
 * upstream Slots it fills, its type in the upstream's coding, and the correlation marker both as an `identifier`
 * and in `comment`, so it survives a server that drops identifiers on create), and the Patient a registration sends.
 */
import type { Appointment, Coding, Patient, Reference, Slot } from '@medplum/fhirtypes';
import type { FhirAppointmentTypeSettings } from '../../config-fhir-connector.js';
import type { AppointmentWrite } from '../connector.js';
import { UpstreamError } from '../upstream-error.js';

/** Prefix of Switchboard's correlation markers, the same form as every connector's (`switchboard:<saga id>`). */
export const MARKER_PREFIX = 'switchboard:';
const MARKER = /^switchboard:[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const MARKER_IN_COMMENT = /\s*\[(switchboard:[A-Za-z0-9][A-Za-z0-9._-]{0,127})\]\s*$/;

export function formatMarker(sagaId: string): string {
  const marker = `${MARKER_PREFIX}${sagaId}`;
  if (!MARKER.test(marker)) throw new RangeError(`not a valid booking id for a marker: ${sagaId}`);
  return marker;
}

/** The marker an upstream appointment carries: an identifier in `system`, else the bracketed end of `comment`. */
export function upstreamMarkerOf(appointment: Appointment, system: string): string | undefined {
  const fromIdentifier = appointment.identifier?.find(
    (i) => i.system === system && MARKER.test(i.value ?? ''),
  );
  return fromIdentifier?.value ?? MARKER_IN_COMMENT.exec(appointment.comment ?? '')?.[1];
}

export function commentWithoutMarker(comment: string | undefined): string | undefined {
  const rest = comment?.replace(MARKER_IN_COMMENT, '').trim();
  return rest ? rest : undefined;
}

/** The upstream coding of the tenant's appointment type `code`. */
export function upstreamTypeCoding(types: readonly FhirAppointmentTypeSettings[], code: string): Coding {
  const type = types.find((t) => (t.as ?? t.code) === code);
  if (!type)
    throw new UpstreamError('rejected', `unknown appointment type ${code}`, { outcome: 'not-applied' });
  return { system: type.system, code: type.code, ...(type.display ? { display: type.display } : {}) };
}

export interface AppointmentBodyInput {
  write: AppointmentWrite;
  typeCoding: Coding;
  /** The upstream Slots the visit fills, when the server publishes them. */
  slots: readonly Slot[];
  markerSystem: string;
  /** The appointment being rescheduled: what the body keeps of it. */
  existing?: Appointment;
}

export function appointmentBody(input: AppointmentBodyInput): Appointment {
  const { write, typeCoding, slots, markerSystem, existing } = input;
  const end = new Date(write.start.getTime() + write.minutes * 60_000);
  const comment = [write.comment?.trim(), `[${write.marker}]`].filter(Boolean).join(' ');
  const others = existing?.identifier?.filter((i) => i.system !== markerSystem) ?? [];
  return {
    ...(existing ?? {}),
    resourceType: 'Appointment',
    ...(existing?.id ? { id: existing.id } : {}),
    identifier: [...others, { system: markerSystem, value: write.marker }],
    status: existing && existing.status !== 'proposed' ? existing.status : 'booked',
    serviceType: [{ coding: [typeCoding] }],
    appointmentType: { coding: [typeCoding] },
    start: write.start.toISOString(),
    end: end.toISOString(),
    minutesDuration: write.minutes,
    comment,
    // A moved appointment never keeps the Slots of its old time (none when the upstream publishes no Slots).
    slot: slots.length ? slots.map((s): Reference<Slot> => ({ reference: `Slot/${s.id}` })) : undefined,
    participant: [
      {
        actor: { reference: `Patient/${write.patientUpstreamId}` },
        required: 'required',
        status: 'accepted',
      },
      {
        actor: { reference: `Practitioner/${write.practitionerUpstreamId}` },
        required: 'required',
        status: 'accepted',
      },
      {
        actor: { reference: `Location/${write.locationUpstreamId}` },
        required: 'required',
        status: 'accepted',
      },
    ],
    meta: undefined,
  };
}

/** What of a FHIR Patient Switchboard sends upstream: demographics only, never our ids or identifiers. */
export function patientBody(patient: Patient, existing?: Patient): Patient {
  return {
    ...(existing ?? {}),
    resourceType: 'Patient',
    ...(existing?.id ? { id: existing.id } : {}),
    ...(patient.name ? { name: patient.name } : {}),
    ...(patient.telecom ? { telecom: patient.telecom } : {}),
    ...(patient.gender ? { gender: patient.gender } : {}),
    ...(patient.birthDate ? { birthDate: patient.birthDate } : {}),
    ...(patient.address ? { address: patient.address } : {}),
    meta: undefined,
  };
}

/** What identifies a registration: official family and given names, birth date and phone digits. */
export function patientMatchKey(p: Patient): string {
  const name = p.name?.find((x) => x.use === 'official') ?? p.name?.[0];
  const phone = p.telecom?.find((t) => t.system === 'phone')?.value?.replace(/\D/g, '') ?? '';
  return JSON.stringify([
    name?.family?.toLowerCase(),
    name?.given?.join(' ').toLowerCase(),
    p.birthDate,
    phone,
  ]);
}
