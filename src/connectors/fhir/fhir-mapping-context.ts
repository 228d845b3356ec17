/**
 * The context the pure FHIR → FHIR mapping runs in (fhir-mapping.ts): the tenant's systems, the practice zone, the
 * store's id resolver, the configured appointment-type mapping and working hours, where bookable time comes from,
 * and how a marker is read from an upstream appointment. Built by the connector for every record, and by the golden-file test with a fixed resolver.
 */
import type { FhirAppointmentTypeSettings, FhirWorkingWindow } from '../../config-fhir-connector.js';
import type { FhirIdResolver } from '../connector.js';
import { tenantSystems, type FhirMappingContext } from './fhir-mapping.js';
import { commentWithoutMarker, upstreamMarkerOf } from './fhir-write-bodies.js';

export function createFhirMappingContext(input: {
  tenantId: string;
  zone: string;
  resolve: FhirIdResolver;
  appointmentTypes: readonly FhirAppointmentTypeSettings[];
  /** Default: `slots`, no configured working hours. */
  availability?: 'slots' | 'hours';
  workingHours?: readonly FhirWorkingWindow[];
}): FhirMappingContext {
  const systems = tenantSystems(input.tenantId);
  return {
    systems,
    zone: input.zone,
    resolve: input.resolve,
    typeOf: (codings) =>
      input.appointmentTypes.find((t) => codings.some((c) => c.system === t.system && c.code === t.code)),
    markerOf: (a) => upstreamMarkerOf(a, systems.correlation),
    commentWithoutMarker,
    availability: input.availability ?? 'slots',
    workingHoursOf: (practitioner, location) =>
      (input.workingHours ?? []).filter((w) => w.practitioner === practitioner && w.location === location),
  };
}
