/**
 * What the simulated records system → FHIR R4 mapping needs to know that is not in the upstream payload itself:
 * which tenant it maps for, how upstream ids become FHIR ids, the identifier systems, the time zones wall times are
 * read in, and the reference data (providers, locations, appointment types) that appointments point at.
 *
 * The mapping functions stay pure: everything stateful (the id table in the store, the last synced reference data)
 * sits behind this context, which the connector builds. See DESIGN.md section 1 (data flow, read path).
 */
import type { Appointment } from '@medplum/fhirtypes';
import type { SimAppointmentType, SimLocation, SimProvider } from '../../sim/sim-types.js';

/** The resource kinds whose FHIR id is derived from an upstream key. */
export type SimRefKind = 'Patient' | 'Practitioner' | 'Location' | 'Schedule' | 'Appointment';

/** Identifier and code systems, tenant-scoped because MRNs and appointment-type codes are each practice's own. */
export interface SimIdentifierSystems {
  /** `Patient.identifier` (type `MR`): the records system's medical record number. */
  mrn: string;
  /** Code system of the practice's appointment types, used in `Appointment.appointmentType` and every `serviceType`. */
  appointmentType: string;
  /** `Appointment.identifier` carrying Switchboard's booking correlation marker (the upstream `externalRef`). */
  correlation: string;
  /** The practice's own specialty codes (`Schedule.specialty`), beside SNOMED CT where the name is known. */
  specialty?: string;
}

export interface SimMappingContext {
  tenantId: string;
  /**
   * The FHIR id for an upstream key. Upstream numbers never appear in FHIR ids: the implementation looks them up in
   * (or mints them into) the store's id table. Schedules are keyed by {@link scheduleKey}.
   */
  ref(kind: SimRefKind, upstreamId: number | string): string;
  systems: SimIdentifierSystems;
  /** The practice's own zone: `createdAt`/`modifiedAt` and practice-wide blocks are wall times in it. */
  practiceZone: string;
  /** The zone a location's appointments, templates and blocks are wall times in (the practice zone if unknown). */
  zoneFor(locationId: number): string;
  /** Reference data the appointment mapping uses for displays and codes; `undefined` when not (yet) synced. */
  provider(providerId: number): SimProvider | undefined;
  location(locationId: number): SimLocation | undefined;
  appointmentType(appointmentTypeId: number): SimAppointmentType | undefined;
  /** True when an upstream `externalRef` is a marker Switchboard wrote while booking (kept as an identifier). */
  isCorrelationMarker(externalRef: string): boolean;
}

/**
 * Tenant-scoped systems as URNs (`urn:switchboard:{tenant}:mrn`, `…:appointment-type`, `…:correlation`).
 * URNs rather than `https://` URLs because Switchboard is self-hosted and owns no domain whose URLs would resolve;
 * the tenant segment keeps two practices' MRN `12345` apart when one Switchboard serves both.
 */
export function defaultSystems(tenantId: string): SimIdentifierSystems {
  const base = `urn:switchboard:${encodeURIComponent(tenantId)}`;
  return {
    mrn: `${base}:mrn`,
    appointmentType: `${base}:appointment-type`,
    correlation: `${base}:correlation`,
    specialty: `${base}:specialty`,
  };
}

/** The upstream key of the schedule of one provider at one location (the records system has no schedule ids). */
export function scheduleKey(providerId: number, locationId: number): string {
  return `${providerId}@${locationId}`;
}

/** Prefix of the correlation markers Switchboard writes into `externalRef`; readable by front-desk staff. */
export const CORRELATION_MARKER_PREFIX = 'switchboard:';

const CORRELATION_MARKER = /^switchboard:[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The marker for one booking (saga) id, as written to `externalRef` (DESIGN.md section 4, step 4). */
export function formatCorrelationMarker(bookingId: string): string {
  const marker = `${CORRELATION_MARKER_PREFIX}${bookingId}`;
  if (!CORRELATION_MARKER.test(marker))
    throw new RangeError(`not a valid booking id for a marker: ${bookingId}`);
  return marker;
}

/** True for `switchboard:<token>`; anything else in `externalRef` was typed by staff or another integration. */
export function isDefaultCorrelationMarker(externalRef: string): boolean {
  return CORRELATION_MARKER.test(externalRef);
}

/**
 * The marker an appointment was booked with through Switchboard: the mapping keeps a Switchboard `externalRef` as
 * an `Appointment.identifier` (see `mapAppointment`).
 */
export function correlationMarkerOf(appointment: Appointment): string | undefined {
  return appointment.identifier?.find((i) => i.value?.startsWith(CORRELATION_MARKER_PREFIX))?.value;
}

export interface SimMappingContextInput {
  tenantId: string;
  practiceZone: string;
  ref: SimMappingContext['ref'];
  providers: readonly SimProvider[];
  locations: readonly SimLocation[];
  appointmentTypes: readonly SimAppointmentType[];
  /** Defaults to {@link defaultSystems}. */
  systems?: SimIdentifierSystems;
  /** Defaults to {@link isDefaultCorrelationMarker}. */
  isCorrelationMarker?: (externalRef: string) => boolean;
}

/** A context over a snapshot of reference data; `zoneFor` reads each location's own `timezone`. */
export function createSimMappingContext(input: SimMappingContextInput): SimMappingContext {
  const providers = new Map(input.providers.map((p) => [p.id, p]));
  const locations = new Map(input.locations.map((l) => [l.id, l]));
  const types = new Map(input.appointmentTypes.map((t) => [t.id, t]));
  return {
    tenantId: input.tenantId,
    ref: input.ref,
    systems: input.systems ?? defaultSystems(input.tenantId),
    practiceZone: input.practiceZone,
    zoneFor: (locationId) => locations.get(locationId)?.timezone ?? input.practiceZone,
    provider: (id) => providers.get(id),
    location: (id) => locations.get(id),
    appointmentType: (id) => types.get(id),
    isCorrelationMarker: input.isCorrelationMarker ?? isDefaultCorrelationMarker,
  };
}
