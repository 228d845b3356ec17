/**
 * An upstream FHIR server's resources as {@link UpstreamRecord}s (DESIGN.md section 1, read path): the upstream id,
 * what the resource references, the source hash a sync pass skips an unchanged record by, and the pure mapping of
 * fhir-mapping.ts, run in the tenant's mapping context.
 */
import { hash } from 'node:crypto';
import type { Appointment, Location, Patient, Practitioner, Schedule, Slot } from '@medplum/fhirtypes';
import type { FhirAppointmentTypeSettings, FhirWorkingWindow } from '../../config-fhir-connector.js';
import type { UpstreamRecord } from '../connector.js';
import { createFhirMappingContext } from './fhir-mapping-context.js';
import { appointmentRefs, mapAppointment, mapPatient, type FhirMappingContext } from './fhir-mapping.js';
import { upstreamMarkerOf } from './fhir-write-bodies.js';

/** Bump when the mapping changes what it produces, so stored source hashes stop matching. */
const MAPPING_VERSION = 2;

/** Everything the mapping reads besides the upstream resource and the store's ids. */
export interface FhirRecordSettings {
  tenantId: string;
  /** The practice zone instants are written in. */
  zone: string;
  appointmentTypes: readonly FhirAppointmentTypeSettings[];
  availability: 'slots' | 'hours';
  workingHours: readonly FhirWorkingWindow[];
  /** The tenant's correlation-marker system (an `Appointment.identifier` system). */
  correlationSystem: string;
}

/** Builds the records of one read; every record's source hash is salted with all of its settings. */
export class FhirRecords {
  private readonly key: string;

  constructor(private readonly settings: FhirRecordSettings) {
    const { tenantId, zone, appointmentTypes, availability, workingHours } = settings;
    this.key = hash(
      'sha256',
      JSON.stringify([MAPPING_VERSION, tenantId, zone, appointmentTypes, availability, workingHours]),
      'base64url',
    );
  }

  /** A hash of `content` (the upstream resource, `meta` left out) and of everything the mapping reads. */
  sourceHashOf(content: unknown): string {
    return hash('sha256', this.key + JSON.stringify(content), 'base64url');
  }

  /** A record without a source hash (reference data: read whole, few). */
  record<R extends Practitioner | Location | Schedule | Patient | Appointment>(
    resourceType: R['resourceType'] & UpstreamRecord['resourceType'],
    upstream: R,
    references: UpstreamRecord['references'],
    map: (up: R, id: string, ctx: FhirMappingContext) => R,
  ): UpstreamRecord<R> {
    const id = upstream.id ?? '';
    return {
      resourceType,
      upstreamId: id,
      references,
      toFhir: (resolve) =>
        map(
          upstream,
          id,
          createFhirMappingContext({
            tenantId: this.settings.tenantId,
            zone: this.settings.zone,
            resolve,
            appointmentTypes: this.settings.appointmentTypes,
            availability: this.settings.availability,
            workingHours: this.settings.workingHours,
          }),
        ),
    };
  }

  appointment(a: Appointment): UpstreamRecord<Appointment> {
    const marker = upstreamMarkerOf(a, this.settings.correlationSystem);
    const { meta: _meta, ...content } = a;
    return {
      ...this.record('Appointment', a, appointmentRefs(a), mapAppointment),
      sourceHash: this.sourceHashOf(content),
      ...(marker ? { marker } : {}),
    };
  }

  patient(p: Patient): UpstreamRecord<Patient> {
    const { meta: _meta, ...content } = p;
    return { ...this.record('Patient', p, [], mapPatient), sourceHash: this.sourceHashOf(content) };
  }

  /** A time without open upstream Slots: its upstream id names its schedule and instants, all its mapping reads. */
  gap(record: UpstreamRecord<Slot>): UpstreamRecord<Slot> {
    return { ...record, sourceHash: this.sourceHashOf(['gap', record.upstreamId]) };
  }
}
