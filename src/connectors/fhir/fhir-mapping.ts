/**
 * Pure mapping of an upstream FHIR server's resources to Switchboard's (issue 12 item 4). The upstream speaks FHIR
 * already, so this is a rewrite rather than a translation: every id and reference is replaced by the store's FHIR
 * id (upstream ids never leak), vendor code systems become the tenant's (appointment types mapped by
 * configuration), elements Switchboard does not vouch for are left out, and Schedules gain the availability rules
 * the slot calculator reads (src/availability/schedule-rules.ts). `meta` is never set: the store owns it. Golden
 * files in fixtures/fhir-mapping/ are the spec of the output.
 */
import type {
  Appointment,
  AppointmentParticipant,
  CodeableConcept,
  Coding,
  Identifier,
  Location,
  Patient,
  Practitioner,
  Reference,
  Schedule,
} from '@medplum/fhirtypes';
import type { FhirAppointmentTypeSettings, FhirWorkingWindow } from '../../config-fhir-connector.js';
import {
  appointmentTypeExtensions,
  TIMEZONE_EXTENSION_URL,
  workingHoursExtension,
} from '../../availability/schedule-rules.js';
import { instantToOffsetDateTime } from '../../wall-time.js';
import type { FhirIdResolver, SyncedResourceType, UpstreamRef } from '../connector.js';

/** Tenant-scoped systems, the same URN scheme as every connector's (`urn:switchboard:{tenant}:…`). */
export function tenantSystems(tenantId: string) {
  const base = `urn:switchboard:${encodeURIComponent(tenantId)}`;
  return {
    mrn: `${base}:mrn`,
    appointmentType: `${base}:appointment-type`,
    correlation: `${base}:correlation`,
  };
}

export interface FhirMappingContext {
  systems: ReturnType<typeof tenantSystems>;
  /** The practice zone: instants are written with its offset, as every connector writes them. */
  zone: string;
  resolve: FhirIdResolver;
  /** The tenant's appointment type for an upstream coding, by configuration. */
  typeOf(codings: readonly Coding[]): FhirAppointmentTypeSettings | undefined;
  /** Reads the correlation marker an upstream appointment carries (identifier or comment). */
  markerOf(appointment: Appointment): string | undefined;
  /** The upstream `comment` without the marker Switchboard put there. */
  commentWithoutMarker(comment: string | undefined): string | undefined;
  /** Where bookable time comes from (fhir-capabilities.ts). */
  availability: 'slots' | 'hours';
  /** The configured weekly windows of one practitioner at one location, by upstream ids (may be none). */
  workingHoursOf(practitionerUpstreamId: string, locationUpstreamId: string): FhirWorkingWindow[];
}

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';
const REF_TYPES: readonly SyncedResourceType[] = [
  'Patient',
  'Practitioner',
  'Location',
  'Schedule',
  'Slot',
  'Appointment',
];

/** `Patient/12`, `https://host/fhir/Patient/12` or `Patient/12/_history/3` → the type and upstream id. */
export function upstreamRefOf(reference: string | undefined): UpstreamRef | undefined {
  if (!reference) return undefined;
  const path = reference.replace(/\/_history\/[^/]+$/, '').split('?')[0] ?? '';
  const segments = path.split('/');
  const id = segments.pop();
  const type = segments.pop() as SyncedResourceType | undefined;
  if (!id || !type || !REF_TYPES.includes(type)) return undefined;
  return { resourceType: type, upstreamId: decodeURIComponent(id) };
}

const rewrite = (ref: UpstreamRef, ctx: FhirMappingContext): string =>
  `${ref.resourceType}/${ctx.resolve(ref.resourceType, ref.upstreamId)}`;

/** What an Appointment points at that Switchboard publishes (its patient, practitioners, locations). */
export function appointmentRefs(a: Appointment): UpstreamRef[] {
  return a.participant.flatMap((p) => {
    const ref = upstreamRefOf(p.actor?.reference);
    return ref && ['Patient', 'Practitioner', 'Location'].includes(ref.resourceType) ? [ref] : [];
  });
}

/** The Schedule of one practitioner at one location, by their upstream ids. */
export function scheduleOf(
  schedules: readonly Schedule[],
  practitionerUpstreamId: string,
  locationUpstreamId: string,
): Schedule | undefined {
  return schedules.find((s) => {
    const refs = scheduleRefs(s);
    const has = (type: string, id: string) =>
      refs.some((r) => r.resourceType === type && r.upstreamId === id);
    return has('Practitioner', practitionerUpstreamId) && has('Location', locationUpstreamId);
  });
}

/** What a Schedule points at. */
export function scheduleRefs(s: Schedule): UpstreamRef[] {
  return s.actor.flatMap((a) => {
    const ref = upstreamRefOf(a.reference);
    return ref && (ref.resourceType === 'Practitioner' || ref.resourceType === 'Location') ? [ref] : [];
  });
}

function typeConcept(type: FhirAppointmentTypeSettings, ctx: FhirMappingContext): CodeableConcept {
  const code = type.as ?? type.code;
  const display = type.display;
  return {
    coding: [{ system: ctx.systems.appointmentType, code, ...(display ? { display } : {}) }],
    ...(display ? { text: display } : {}),
  };
}

function isMrn(identifier: Identifier): boolean {
  return (
    identifier.type?.coding?.some((c) => c.code === 'MR') === true ||
    /mrn|medical-record/i.test(identifier.system ?? '')
  );
}

export function mapPatient(up: Patient, id: string, ctx: FhirMappingContext): Patient {
  const mrn = up.identifier?.find(isMrn)?.value;
  return {
    resourceType: 'Patient',
    id: ctx.resolve('Patient', id),
    ...(mrn
      ? {
          identifier: [
            {
              use: 'usual',
              type: { coding: [{ system: V2_0203, code: 'MR', display: 'Medical record number' }] },
              system: ctx.systems.mrn,
              value: mrn,
            },
          ],
        }
      : {}),
    ...(up.active !== undefined ? { active: up.active } : {}),
    ...(up.name ? { name: up.name.map((n) => ({ ...n, use: n.use ?? 'official' })) } : {}),
    ...(up.telecom ? { telecom: up.telecom } : {}),
    ...(up.gender ? { gender: up.gender } : {}),
    ...(up.birthDate ? { birthDate: up.birthDate } : {}),
    ...(up.address ? { address: up.address.map((a) => ({ use: a.use ?? 'home', ...a })) } : {}),
  };
}

export function mapPractitioner(up: Practitioner, id: string, ctx: FhirMappingContext): Practitioner {
  const npi = up.identifier?.filter((i) => i.system === NPI_SYSTEM);
  return {
    resourceType: 'Practitioner',
    id: ctx.resolve('Practitioner', id),
    ...(npi?.length ? { identifier: npi.map((i) => ({ system: NPI_SYSTEM, value: i.value })) } : {}),
    active: up.active ?? true,
    ...(up.name ? { name: up.name } : {}),
    ...(up.qualification ? { qualification: up.qualification.map((q) => ({ code: q.code })) } : {}),
  };
}

/** `zone` is the practice zone, used when the upstream Location does not carry its own. */
export function mapLocation(up: Location, id: string, zone: string, ctx: FhirMappingContext): Location {
  const own = up.extension?.find((e) => e.url === TIMEZONE_EXTENSION_URL)?.valueCode;
  return {
    resourceType: 'Location',
    id: ctx.resolve('Location', id),
    extension: [{ url: TIMEZONE_EXTENSION_URL, valueCode: own ?? zone }],
    status: up.status ?? 'active',
    ...(up.name ? { name: up.name } : {}),
    mode: 'instance',
    ...(up.telecom ? { telecom: up.telecom } : {}),
    ...(up.address ? { address: up.address } : {}),
  };
}

/**
 * The Schedule's weekly windows. Configured working hours when there are some for its practitioner × location,
 * each with its appointment-type rule; otherwise, with `slots`, the whole week (the upstream's open Slots then say
 * where bookable time is: fhir-slot-gaps.ts) and, with `hours`, none (nothing set up, nothing offered).
 */
function scheduleWindows(refs: readonly UpstreamRef[], ctx: FhirMappingContext) {
  const practitioner = refs.find((r) => r.resourceType === 'Practitioner')?.upstreamId;
  const location = refs.find((r) => r.resourceType === 'Location')?.upstreamId;
  const configured = practitioner && location ? ctx.workingHoursOf(practitioner, location) : [];
  if (configured.length > 0) {
    return [...configured]
      .sort((a, b) => a.weekday - b.weekday || a.start.localeCompare(b.start))
      .map((w) =>
        workingHoursExtension(
          w,
          w.appointmentTypes?.map((code) => ({ system: ctx.systems.appointmentType, code })) ?? null,
        ),
      );
  }
  if (ctx.availability === 'hours') return [];
  return [1, 2, 3, 4, 5, 6, 7].map((weekday) =>
    workingHoursExtension({ weekday, start: '00:00', end: '24:00' }, null),
  );
}

/**
 * A Schedule of the upstream. With `slots` its bookable time comes from the upstream's Slots: the time the upstream
 * publishes no open Slot for arrives as `busy-unavailable` Slots (fhir-slot-gaps.ts), within the configured working
 * hours or the whole week. With `hours` it is the configured working hours, minus appointments. Its appointment
 * types are the upstream `serviceType` codings the configuration maps, with their durations.
 */
export function mapSchedule(up: Schedule, id: string, ctx: FhirMappingContext): Schedule {
  const types = (up.serviceType ?? []).flatMap((concept) => {
    const type = ctx.typeOf(concept.coding ?? []);
    return type ? [type] : [];
  });
  const unique = [...new Map(types.map((t) => [t.as ?? t.code, t])).values()];
  const refs = scheduleRefs(up);
  const actor = refs.map((ref): Reference<Practitioner | Location> => ({
    reference: rewrite(ref, ctx),
  }));
  const windows = scheduleWindows(refs, ctx);
  return {
    resourceType: 'Schedule',
    id: ctx.resolve('Schedule', id),
    ...(windows.length ? { extension: windows } : {}),
    active: up.active ?? true,
    ...(unique.length
      ? {
          serviceType: unique.map((t) => ({
            extension: appointmentTypeExtensions({ minutes: t.minutes, newPatientOnly: t.newPatientOnly }),
            ...typeConcept(t, ctx),
          })),
        }
      : {}),
    actor,
    comment:
      ctx.availability === 'hours'
        ? 'Bookable time computed from the configured working hours'
        : 'Bookable time mirrored from the records system’s Slots',
  };
}

export function mapAppointment(up: Appointment, id: string, ctx: FhirMappingContext): Appointment {
  const type = ctx.typeOf([
    ...(up.appointmentType?.coding ?? []),
    ...(up.serviceType ?? []).flatMap((s) => s.coding ?? []),
  ]);
  const marker = ctx.markerOf(up);
  const comment = ctx.commentWithoutMarker(up.comment);
  const participant = up.participant.flatMap((p): AppointmentParticipant[] => {
    const ref = upstreamRefOf(p.actor?.reference);
    if (!ref || !['Patient', 'Practitioner', 'Location'].includes(ref.resourceType)) return [];
    return [
      { actor: { reference: rewrite(ref, ctx) }, required: p.required ?? 'required', status: p.status },
    ];
  });
  return {
    resourceType: 'Appointment',
    id: ctx.resolve('Appointment', id),
    ...(marker ? { identifier: [{ system: ctx.systems.correlation, value: marker }] } : {}),
    status: up.status,
    ...(up.status === 'cancelled' && up.cancelationReason ? { cancelationReason: up.cancelationReason } : {}),
    ...(type ? { serviceType: [typeConcept(type, ctx)], appointmentType: typeConcept(type, ctx) } : {}),
    ...(up.start ? { start: inZone(up.start, ctx.zone) } : {}),
    ...(up.end ? { end: inZone(up.end, ctx.zone) } : {}),
    ...(up.minutesDuration !== undefined
      ? { minutesDuration: up.minutesDuration }
      : up.start && up.end
        ? { minutesDuration: Math.round((Date.parse(up.end) - Date.parse(up.start)) / 60_000) }
        : {}),
    ...(up.created ? { created: inZone(up.created, ctx.zone) } : {}),
    ...(comment ? { comment } : {}),
    participant,
  };
}

/** An instant with the zone's offset (`2026-11-23T10:30:00-05:00`); a value that is not an instant is kept. */
function inZone(value: string, zone: string): string {
  const at = Date.parse(value);
  return Number.isNaN(at) || !/T/.test(value) ? value : instantToOffsetDateTime(new Date(at), zone);
}
