/**
 * The availability inputs from the simulated records system that are not FHIR resources: blocks become exact
 * instants (DST-correct, through wall-time.ts) and templates keep their wall times with FHIR ids in place of
 * upstream ids. The slot calculator (DESIGN.md section 4) consumes these.
 */
import type { SimBlock, SimTemplate } from '../../sim/sim-types.js';
import { wallTimeToInstant } from '../../wall-time.js';
import { scheduleKey } from './sim-fhir-context.js';
import type { SimMappingContext } from './sim-fhir-context.js';

/** A closure, vacation, meeting or extended lunch as an instant range. */
export interface MappedBlock {
  /** `null`: every practitioner (a practice or location closure). */
  practitionerFhirId: string | null;
  /** `null`: every location. */
  locationFhirId: string | null;
  /** Inclusive, ISO 8601 UTC (`2026-11-26T05:00:00.000Z`): fixed width, so strings sort as instants. */
  start: string;
  /** Exclusive, ISO 8601 UTC. */
  end: string;
  reason: string;
}

/** Weekly working hours of one practitioner at one location; wall times in `zone`, resolved per date later. */
export interface MappedTemplate {
  practitionerFhirId: string;
  locationFhirId: string;
  scheduleFhirId: string;
  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  weekday: number;
  /** `HH:mm` wall time. */
  start: string;
  /** `HH:mm` wall time, exclusive. */
  end: string;
  /** IANA zone of the location. */
  zone: string;
  /**
   * Codes (in `ctx.systems.appointmentType`) of the types bookable in this window; `null` = every type the
   * practitioner offers. Ids whose type is unknown are left out, which narrows the window rather than widening it.
   */
  appointmentTypeCodes: string[] | null;
}

/**
 * A block's wall times are read in its location's zone, or in the practice zone when it covers every location.
 * A malformed wall time throws `RangeError`.
 */
export function mapBlock(b: SimBlock, ctx: SimMappingContext): MappedBlock {
  const zone = b.locationId === null ? ctx.practiceZone : ctx.zoneFor(b.locationId);
  return {
    practitionerFhirId: b.providerId === null ? null : ctx.ref('Practitioner', b.providerId),
    locationFhirId: b.locationId === null ? null : ctx.ref('Location', b.locationId),
    start: wallTimeToInstant(b.start, zone).toISOString(),
    end: wallTimeToInstant(b.end, zone).toISOString(),
    reason: b.reason,
  };
}

export function mapTemplate(t: SimTemplate, ctx: SimMappingContext): MappedTemplate {
  return {
    practitionerFhirId: ctx.ref('Practitioner', t.providerId),
    locationFhirId: ctx.ref('Location', t.locationId),
    scheduleFhirId: ctx.ref('Schedule', scheduleKey(t.providerId, t.locationId)),
    weekday: t.weekday,
    start: t.start,
    end: t.end,
    zone: ctx.zoneFor(t.locationId),
    appointmentTypeCodes: t.appointmentTypeIds
      ? t.appointmentTypeIds.flatMap((id) => ctx.appointmentType(id)?.code ?? [])
      : null,
  };
}
