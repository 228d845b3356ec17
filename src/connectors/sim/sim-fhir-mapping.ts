/**
 * Pure mapping of the simulated records system's payloads (src/sim/sim-types.ts) to FHIR R4 resources.
 * No I/O: ids, systems, zones and reference data come from the {@link SimMappingContext}. `meta` is never set here;
 * the store owns versionId and lastUpdated. Golden files in fixtures/sim-mapping/ are the spec of the output.
 *
 * Decisions (DESIGN.md section 1, "one representation flows through everything"):
 * - The upstream `phone` of a patient is one untyped number: it maps to `telecom` with `use: home` (the v2 PID-13
 *   convention for a patient's primary number). `mobile` would promise an SMS-capable number we do not know of.
 * - Practitioner has no specialty element in R4. The specialty is a board qualification, so it maps to
 *   `Practitioner.qualification[0].code.text`, and to `Schedule.specialty` where clients searching for bookable
 *   time look for it: upstream specialties are free text, so the Schedule's concept keeps the text and adds a SNOMED
 *   CT coding for known names (IHE binds `specialty` to SNOMED CT) and a tenant-scoped code (sim-specialties.ts).
 * - References to the patient in an Appointment carry no `display`: appointments travel in webhook payloads and the
 *   patient's name is PHI the subscriber can read from Patient (with the right scope). Practitioner and Location
 *   references keep their display.
 * - A Schedule carries the rules slots are computed from, as Switchboard extensions (documented with their shapes
 *   in src/availability/schedule-rules.ts): one `working-hours` extension per weekly template
 *   (`https://switchboard.health/fhir/StructureDefinition/working-hours`: `day-of-week`, `start`, `end`,
 *   `appointment-type` codings or none for all) and, on each `serviceType`, `appointment-duration` (valueDuration
 *   in UCUM `min`) and `new-patient-only` (valueBoolean). The zone is the Location's `timezone` extension.
 */
import { specialtyConcept } from './sim-specialties.js';
import type {
  Address,
  Appointment,
  AppointmentParticipant,
  CodeableConcept,
  Coding,
  ContactPoint,
  HumanName,
  Location,
  Patient,
  Period,
  Practitioner,
  Reference,
  Schedule,
} from '@medplum/fhirtypes';
import type {
  SimAddress,
  SimAppointment,
  SimAppointmentStatus,
  SimAppointmentType,
  SimLocation,
  SimPatient,
  SimProvider,
  SimTemplate,
} from '../../sim/sim-types.js';
import {
  appointmentTypeExtensions,
  TIMEZONE_EXTENSION_URL,
  workingHoursExtension,
} from '../../availability/schedule-rules.js';
import { instantToOffsetDateTime, wallTimeToInstant } from '../../wall-time.js';
import { defaultSystems, scheduleKey } from './sim-fhir-context.js';
import type { SimMappingContext } from './sim-fhir-context.js';

export { TIMEZONE_EXTENSION_URL };
export const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';
const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';

type FhirAppointmentStatus = Appointment['status'];
type ParticipantStatus = AppointmentParticipant['status'];

/**
 * Upstream status → `Appointment.status` and the patient participant's status.
 * Only an unconfirmed booking leaves the patient at `needs-action`; every later state implies the patient had
 * accepted. A cancellation is recorded in `Appointment.status` (with `cancelationReason`), not as a participant
 * decline, because the records system does not say who cancelled. Practitioner and Location are always `accepted`.
 */
export const SIM_APPOINTMENT_STATUS_MAP: Readonly<
  Record<SimAppointmentStatus, { status: FhirAppointmentStatus; patientStatus: ParticipantStatus }>
> = {
  scheduled: { status: 'booked', patientStatus: 'needs-action' },
  confirmed: { status: 'booked', patientStatus: 'accepted' },
  'checked-in': { status: 'checked-in', patientStatus: 'accepted' },
  completed: { status: 'fulfilled', patientStatus: 'accepted' },
  cancelled: { status: 'cancelled', patientStatus: 'accepted' },
  'no-show': { status: 'noshow', patientStatus: 'accepted' },
};

/** `"Dr. Sarah Johnson"`: the display used wherever a practitioner is referenced. */
export function providerDisplayName(p: SimProvider): string {
  return `Dr. ${p.firstName} ${p.lastName}`;
}

export function mapPatient(p: SimPatient, ctx: SimMappingContext): Patient {
  const telecom: ContactPoint[] = [];
  const phone = nonBlank(p.phone);
  if (phone) telecom.push({ system: 'phone', value: phone, use: 'home' });
  const email = nonBlank(p.email);
  if (email) telecom.push({ system: 'email', value: email });
  return {
    resourceType: 'Patient',
    id: ctx.ref('Patient', p.id),
    identifier: [
      {
        use: 'usual',
        type: { coding: [{ system: V2_0203, code: 'MR', display: 'Medical record number' }] },
        system: ctx.systems.mrn,
        value: p.mrn,
      },
    ],
    name: [humanName(p.firstName, p.lastName)],
    ...(telecom.length > 0 ? { telecom } : {}),
    gender: p.gender,
    birthDate: p.dob,
    ...(p.address ? { address: [mapAddress(p.address, 'home')] } : {}),
  };
}

export function mapProvider(p: SimProvider, ctx: SimMappingContext): Practitioner {
  const practitioner: Practitioner = {
    resourceType: 'Practitioner',
    id: ctx.ref('Practitioner', p.id),
    identifier: [{ system: NPI_SYSTEM, value: p.npi }],
    active: p.active,
    name: [{ ...humanName(p.firstName, p.lastName), prefix: ['Dr.'] }],
  };
  const specialty = nonBlank(p.specialty);
  if (specialty) practitioner.qualification = [{ code: { text: specialty } }];
  return practitioner;
}

export function mapLocation(l: SimLocation, ctx: SimMappingContext): Location {
  const phone = nonBlank(l.phone);
  return {
    resourceType: 'Location',
    id: ctx.ref('Location', l.id),
    extension: [{ url: TIMEZONE_EXTENSION_URL, valueCode: l.timezone }],
    status: 'active',
    name: l.name,
    mode: 'instance',
    ...(phone ? { telecom: [{ system: 'phone', value: phone, use: 'work' }] } : {}),
    address: mapAddress(l.address, 'work'),
  };
}

export interface MapScheduleOptions {
  /** The window Switchboard offers slots in, when the caller wants to publish it. */
  planningHorizon?: Period;
}

/**
 * The Schedule of one provider at one location. `serviceType` lists the appointment types bookable there: types the
 * provider may be booked for, narrowed to the templates' `appointmentTypeIds` when every template of this pair
 * restricts them; each carries its duration and new-patient rule as extensions. Each template becomes a
 * `working-hours` extension (wall times in the location's zone) naming the types allowed in it, or none when every
 * type is; a restricted template none of whose types the provider offers allows nothing, so it is left out.
 * `comment` spells the weekly hours out for people. Inactive when the provider is inactive or has no working hours
 * at this location. `templates` may hold other pairs' templates; only this pair's are used.
 */
export function mapSchedule(
  provider: SimProvider,
  location: SimLocation,
  appointmentTypes: readonly SimAppointmentType[],
  templates: readonly SimTemplate[],
  ctx: SimMappingContext,
  options: MapScheduleOptions = {},
): Schedule {
  const own = templates
    .filter((t) => t.providerId === provider.id && t.locationId === location.id)
    .sort((a, b) => a.weekday - b.weekday || a.start.localeCompare(b.start));
  const unrestricted = own.some((t) => t.appointmentTypeIds === undefined);
  const allowed = new Set(own.flatMap((t) => t.appointmentTypeIds ?? []));
  const offered = appointmentTypes.filter(
    (t) => t.providerIds.includes(provider.id) && (unrestricted || allowed.has(t.id)),
  );

  const workingHours = own.flatMap((t) => {
    if (t.appointmentTypeIds === undefined) return [workingHoursExtension(t, null)];
    const codings = offered
      .filter((type) => t.appointmentTypeIds?.includes(type.id))
      .map((type): Coding => ({ system: ctx.systems.appointmentType, code: type.code }));
    return codings.length > 0 ? [workingHoursExtension(t, codings)] : [];
  });

  const specialty = nonBlank(provider.specialty);
  return {
    resourceType: 'Schedule',
    id: ctx.ref('Schedule', scheduleKey(provider.id, location.id)),
    ...(workingHours.length > 0 ? { extension: workingHours } : {}),
    active: provider.active && own.length > 0,
    ...(offered.length > 0
      ? {
          serviceType: offered.map((t) => ({
            extension: appointmentTypeExtensions({
              minutes: t.durationMinutes,
              newPatientOnly: t.newPatientOnly,
            }),
            ...appointmentTypeConcept(t, ctx),
          })),
        }
      : {}),
    ...(specialty
      ? {
          specialty: [
            specialtyConcept(
              specialty,
              ctx.systems.specialty ?? defaultSystems(ctx.tenantId).specialty ?? '',
            ),
          ],
        }
      : {}),
    actor: [practitionerRef(provider, ctx), locationRef(location, ctx)],
    ...(options.planningHorizon ? { planningHorizon: options.planningHorizon } : {}),
    ...(own.length > 0 ? { comment: workingHoursComment(own, location.timezone) } : {}),
  };
}

/**
 * One upstream appointment. `start` is the wall time in the location's zone; `end` is start plus the duration in
 * elapsed minutes, each written with the zone's offset at that instant (so a visit across the autumn change reads
 * `01:30-04:00` → `01:00-05:00`). Reference data that is not (yet) known leaves out only what depends on it
 * (displays, `appointmentType`, `serviceType`). A malformed wall time throws `RangeError`.
 */
export function mapAppointment(a: SimAppointment, ctx: SimMappingContext): Appointment {
  const zone = ctx.zoneFor(a.locationId);
  const start = wallTimeToInstant(a.start, zone);
  const end = new Date(start.getTime() + a.durationMinutes * 60_000);
  const { status, patientStatus } = SIM_APPOINTMENT_STATUS_MAP[a.status];
  const provider = ctx.provider(a.providerId);
  const location = ctx.location(a.locationId);
  const type = ctx.appointmentType(a.appointmentTypeId);

  const externalRef = nonBlank(a.externalRef);
  const cancelReason = nonBlank(a.cancelReason);
  const notes = nonBlank(a.notes);

  // Built in the element order of the R4 StructureDefinition, so the JSON reads like the spec.
  return {
    resourceType: 'Appointment',
    id: ctx.ref('Appointment', a.id),
    ...(externalRef && ctx.isCorrelationMarker(externalRef)
      ? { identifier: [{ system: ctx.systems.correlation, value: externalRef }] }
      : {}),
    status,
    ...(status === 'cancelled' && cancelReason ? { cancelationReason: { text: cancelReason } } : {}),
    ...(type
      ? {
          serviceType: [appointmentTypeConcept(type, ctx)],
          appointmentType: appointmentTypeConcept(type, ctx),
        }
      : {}),
    start: instantToOffsetDateTime(start, zone),
    end: instantToOffsetDateTime(end, zone),
    minutesDuration: a.durationMinutes,
    created: instantToOffsetDateTime(wallTimeToInstant(a.createdAt, ctx.practiceZone), ctx.practiceZone),
    ...(notes ? { comment: notes } : {}),
    participant: [
      {
        actor: { reference: `Patient/${ctx.ref('Patient', a.patientId)}` },
        required: 'required',
        status: patientStatus,
      },
      {
        actor: provider
          ? practitionerRef(provider, ctx)
          : { reference: `Practitioner/${ctx.ref('Practitioner', a.providerId)}` },
        required: 'required',
        status: 'accepted',
      },
      {
        actor: location
          ? locationRef(location, ctx)
          : { reference: `Location/${ctx.ref('Location', a.locationId)}` },
        required: 'required',
        status: 'accepted',
      },
    ],
    // IHE ITI Scheduling's appointment profile (ihe-sched-appt) makes requestedPeriod 1..1: the time booked.
    requestedPeriod: [
      { start: instantToOffsetDateTime(start, zone), end: instantToOffsetDateTime(end, zone) },
    ],
  };
}

function humanName(first: string, last: string): HumanName {
  const given = nonBlank(first);
  return given ? { use: 'official', family: last, given: [given] } : { use: 'official', family: last };
}

function mapAddress(a: SimAddress, use: 'home' | 'work'): Address {
  const line = [a.line1, a.line2].map(nonBlank).filter((l): l is string => l !== undefined);
  return { use, line, city: a.city, state: a.state, postalCode: a.postalCode, country: 'US' };
}

function practitionerRef(p: SimProvider, ctx: SimMappingContext): Reference<Practitioner> {
  return { reference: `Practitioner/${ctx.ref('Practitioner', p.id)}`, display: providerDisplayName(p) };
}

function locationRef(l: SimLocation, ctx: SimMappingContext): Reference<Location> {
  return { reference: `Location/${ctx.ref('Location', l.id)}`, display: l.name };
}

function appointmentTypeConcept(t: SimAppointmentType, ctx: SimMappingContext): CodeableConcept {
  return { coding: [{ system: ctx.systems.appointmentType, code: t.code, display: t.name }], text: t.name };
}

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

/** `"Working hours (America/New_York): Mon 08:00-12:00, 13:00-17:00; Tue 13:00-17:00"`; `own` sorted. */
function workingHoursComment(own: readonly SimTemplate[], zone: string): string {
  const days: string[] = [];
  let current = 0;
  for (const t of own) {
    const range = `${t.start}-${t.end}`;
    if (t.weekday === current) days[days.length - 1] += `, ${range}`;
    else days.push(`${WEEKDAYS[t.weekday - 1] ?? `day ${t.weekday}`} ${range}`);
    current = t.weekday;
  }
  return `Working hours (${zone}): ${days.join('; ')}`;
}

function nonBlank(value: string | null | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
