/**
 * The simulated records system's rows as {@link UpstreamRecord}s (DESIGN.md section 1, read path): the upstream id,
 * what the row references, the source hash a sync pass skips an unchanged row by, and the pure mapping, run
 * against the reference data the connector last read.
 */
import type {
  Appointment,
  Location,
  Patient,
  Period,
  Practitioner,
  Schedule,
  Slot,
} from '@medplum/fhirtypes';
import type { SimAppointment, SimBlock, SimPatient } from '../../sim/sim-types.js';
import type { FhirIdResolver, ReferenceData, UpstreamRecord, UpstreamRef } from '../connector.js';
import { mapBlock } from './sim-fhir-availability.js';
import {
  createSimMappingContext,
  isDefaultCorrelationMarker,
  scheduleKey,
  type SimMappingContext,
} from './sim-fhir-context.js';
import { mapAppointment, mapLocation, mapPatient, mapProvider, mapSchedule } from './sim-fhir-mapping.js';
import { sourceHashOf, uniqueSchedules, type Snapshot } from './sim-snapshot.js';

/** What every record of one read is mapped against. */
export interface SimRecordContext {
  tenantId: string;
  /** The practice zone (the configured override, else the first location's; covered by the snapshot's key). */
  zone: string;
  snapshot: Snapshot;
}

const ref = (resourceType: UpstreamRef['resourceType'], id: number | string): UpstreamRef => ({
  resourceType,
  upstreamId: String(id),
});

function mappingContext(resolve: FhirIdResolver, ctx: SimRecordContext): SimMappingContext {
  return createSimMappingContext({
    tenantId: ctx.tenantId,
    practiceZone: ctx.zone,
    ref: (kind, id) => resolve(kind, String(id)),
    providers: ctx.snapshot.providers,
    locations: ctx.snapshot.locations,
    appointmentTypes: ctx.snapshot.types,
  });
}

/**
 * Practitioners, locations and their schedules. `planningHorizon` gives a Schedule's horizon in a location's zone
 * (it moves with the date, so Schedules carry no source hash).
 */
export function simReferenceRecords(
  ctx: SimRecordContext,
  planningHorizon: (zone: string) => { planningHorizon?: Period },
): ReferenceData {
  const { providers, locations, types, templates } = ctx.snapshot;
  const schedules: UpstreamRecord<Schedule>[] = [];
  for (const provider of providers) {
    for (const location of locations) {
      const hours = templates.filter((t) => t.providerId === provider.id && t.locationId === location.id);
      if (hours.length === 0) continue;
      schedules.push({
        resourceType: 'Schedule',
        upstreamId: scheduleKey(provider.id, location.id),
        references: [ref('Practitioner', provider.id), ref('Location', location.id)],
        toFhir: (resolve) =>
          mapSchedule(provider, location, types, hours, mappingContext(resolve, ctx), {
            ...planningHorizon(location.timezone),
          }),
      });
    }
  }
  return {
    practitioners: providers.map((p): UpstreamRecord<Practitioner> => ({
      resourceType: 'Practitioner',
      upstreamId: String(p.id),
      references: [],
      toFhir: (resolve) => mapProvider(p, mappingContext(resolve, ctx)),
    })),
    locations: locations.map((l): UpstreamRecord<Location> => ({
      resourceType: 'Location',
      upstreamId: String(l.id),
      references: [],
      toFhir: (resolve) => mapLocation(l, mappingContext(resolve, ctx)),
    })),
    schedules,
  };
}

/** An appointment; its source hash covers the row and the reference data (and zone) it is mapped against. */
export function simAppointmentRecord(a: SimAppointment, ctx: SimRecordContext): UpstreamRecord<Appointment> {
  return {
    resourceType: 'Appointment',
    upstreamId: String(a.id),
    ...(a.externalRef && isDefaultCorrelationMarker(a.externalRef) ? { marker: a.externalRef } : {}),
    references: [
      ref('Patient', a.patientId),
      ref('Practitioner', a.providerId),
      ref('Location', a.locationId),
    ],
    sourceHash: sourceHashOf(ctx.snapshot, a),
    toFhir: (resolve) => mapAppointment(a, mappingContext(resolve, ctx)),
  };
}

export function simPatientRecord(p: SimPatient, ctx: SimRecordContext): UpstreamRecord<Patient> {
  return {
    resourceType: 'Patient',
    upstreamId: String(p.id),
    references: [],
    sourceHash: sourceHashOf(ctx.snapshot, p),
    toFhir: (resolve) => mapPatient(p, mappingContext(resolve, ctx)),
  };
}

/**
 * A block as `busy-unavailable` Slots, one per schedule it closes: blocks name a provider, a location, both or
 * neither, and a closure covers each schedule it matches. The source hash covers the block, the schedule and the
 * reference data.
 */
export function simBlockRecords(block: SimBlock, ctx: SimRecordContext): UpstreamRecord<Slot>[] {
  return uniqueSchedules(ctx.snapshot.templates)
    .filter(
      (s) =>
        (block.providerId === null || block.providerId === s.providerId) &&
        (block.locationId === null || block.locationId === s.locationId),
    )
    .map((s): UpstreamRecord<Slot> => {
      const key = scheduleKey(s.providerId, s.locationId);
      const upstreamId = `block-${block.id}/${key}`;
      return {
        resourceType: 'Slot',
        upstreamId,
        // mapBlock resolves the practitioner and location too, so they must be resolvable even when no other
        // record of this pass mentions them.
        references: [
          ref('Schedule', key),
          ...(block.providerId === null ? [] : [ref('Practitioner', block.providerId)]),
          ...(block.locationId === null ? [] : [ref('Location', block.locationId)]),
        ],
        sourceHash: sourceHashOf(ctx.snapshot, [key, block]),
        toFhir: (resolve) => {
          const mapped = mapBlock(block, mappingContext(resolve, ctx));
          return {
            resourceType: 'Slot',
            id: resolve('Slot', upstreamId),
            schedule: { reference: `Schedule/${resolve('Schedule', key)}` },
            status: 'busy-unavailable',
            start: mapped.start,
            end: mapped.end,
            comment: mapped.reason,
          };
        },
      };
    });
}
