/**
 * The connector port: everything the sync engine and booking need from a records system, whatever it is
 * (DESIGN.md sections 1 and 4). A connector is the only code that knows a records system's own data model;
 * what crosses this port is FHIR R4 (typed with `@medplum/fhirtypes`) plus upstream ids.
 *
 * FHIR ids are not the records system's ids (DESIGN.md section 3: they must not reveal upstream numbering), and
 * only the store can hand them out. So a connector returns {@link UpstreamRecord}s: the upstream id, the other
 * records it references, and a pure `toFhir` that builds the resource once the caller has resolved those ids.
 */
import type {
  Appointment,
  Location,
  Patient,
  Practitioner,
  Resource,
  Schedule,
  Slot,
} from '@medplum/fhirtypes';

/** The FHIR resource types a connector produces. */
export type SyncedResourceType =
  'Patient' | 'Practitioner' | 'Location' | 'Schedule' | 'Slot' | 'Appointment';

/** A reference to another upstream record, by its type in FHIR terms and its upstream id. */
export interface UpstreamRef {
  resourceType: SyncedResourceType;
  upstreamId: string;
}

/** Resolves an upstream id to the FHIR id the store assigned to it. Must know every ref the record listed. */
export type FhirIdResolver = (resourceType: SyncedResourceType, upstreamId: string) => string;

/** One record of the records system, not yet given FHIR ids. */
export interface UpstreamRecord<R extends Resource = Resource> {
  resourceType: R['resourceType'] & SyncedResourceType;
  /** Stable id of this record upstream; unique per tenant and resource type. */
  upstreamId: string;
  /** Records this one points at (its own id is resolved too). */
  references: UpstreamRef[];
  /**
   * A hash of everything `toFhir` depends on (the upstream record and the reference data it is mapped against).
   * When it equals the stored one the record is unchanged and a sync pass skips mapping it. Optional.
   */
  sourceHash?: string;
  /**
   * Appointments: the correlation marker the record carries (as {@link Connector.markerOf} reads it from the FHIR
   * mapping), if any. An appointment a booking saga wrote takes the saga's id as its FHIR id, whichever path sees
   * it first (verify, reconciliation, a sync pass), so the pending Appointment a client was pointed at becomes the
   * booked one. Optional: without it the id is minted as for any record.
   */
  marker?: string;
  /** Builds the FHIR resource, `id` included, `meta` left to the store. Pure. */
  toFhir(resolve: FhirIdResolver): R;
}

/** Half-open range of instants `[from, to)`. */
export interface TimeWindow {
  from: Date;
  to: Date;
}

/** A window, optionally narrowed to one practitioner (booking's live re-check asks for exactly that). */
export interface WindowQuery extends TimeWindow {
  practitionerUpstreamId?: string;
}

/**
 * What a connector can do, so callers branch on capabilities, never on the connector's kind.
 */
export interface ConnectorCapabilities {
  /** Patients can be listed by `modified since`. */
  incrementalPatients: boolean;
  /** The system reports deletions itself; when false, deletes are visible only by absence from a full window. */
  reportsDeletes: boolean;
  /** Writes carry an idempotency key the system honours; when false, never re-send a write whose outcome is unknown. */
  idempotentWrites: boolean;
  /** Appointments can be found by the correlation marker written with them (reconciliation after unknown outcomes). */
  findByMarker: boolean;
  /** The system checks conflicts itself; when false, booking must re-check and verify around every write. */
  conflictChecking: boolean;
  /**
   * Patients can be searched by exactly what a patient write holds (name, birth date, phone), so a create whose
   * outcome is unknown can be reconciled ({@link Connector.findCreatedPatients}) instead of re-sent; when false,
   * such a create stays unknown until staff resolve it.
   */
  findPatients: boolean;
}

/** Practitioners, locations, their schedules (practitioner × location) and the rules availability is computed from. */
export interface ReferenceData {
  practitioners: UpstreamRecord<Practitioner>[];
  locations: UpstreamRecord<Location>[];
  schedules: UpstreamRecord<Schedule>[];
}

/** A page of patients changed since a cursor, and the cursor to ask from next time. */
export interface PatientChanges {
  records: UpstreamRecord<Patient>[];
  /** Opaque; `null` when the system returned nothing to advance it. */
  cursor: string | null;
}

/** An appointment to write, in upstream-neutral terms. */
export interface AppointmentWrite {
  patientUpstreamId: string;
  practitionerUpstreamId: string;
  locationUpstreamId: string;
  /** The appointment type's code (the `appointmentType` coding Switchboard publishes). */
  appointmentTypeCode: string;
  start: Date;
  minutes: number;
  comment?: string;
  /** Correlation marker, stored verbatim upstream so an unknown outcome can be reconciled. */
  marker: string;
}

/** A patient to write, as a FHIR Patient (the connector picks what its system can hold). */
export type PatientWrite = Patient;

export interface CallOptions {
  /** Abandons the call (and any wait for a rate limit) when aborted. */
  signal?: AbortSignal;
}

/**
 * A records system, seen through FHIR R4. Every method may throw {@link UpstreamError}.
 * Reads are safe to retry; writes are not (see {@link ConnectorCapabilities.idempotentWrites}).
 */
export interface Connector {
  readonly capabilities: ConnectorCapabilities;
  /** The practice's IANA time zone. */
  readonly timezone: string;

  referenceData(options?: CallOptions): Promise<ReferenceData>;
  /**
   * Every appointment starting in the window, whatever its status, all at once (booking's live re-check of one
   * practitioner-day); the pages of {@link appointmentPagesInWindow} put together.
   */
  appointmentsInWindow(window: WindowQuery, options?: CallOptions): Promise<UpstreamRecord<Appointment>[]>;
  /**
   * The same appointments page by page, as the records system lists them, each page read when the caller asks for
   * the next (issue 16 item 5: a sync pass over a window of 100,000 holds one page, not the window). The records
   * system may be written to between pages: a record may be listed twice or missed, which a pass must tolerate.
   */
  appointmentPagesInWindow(
    window: WindowQuery,
    options?: CallOptions,
  ): AsyncIterable<readonly UpstreamRecord<Appointment>[]>;
  /** Blocks and closures overlapping the window, as `busy-unavailable` Slots, one per schedule they close. */
  blocksInWindow(window: WindowQuery, options?: CallOptions): Promise<UpstreamRecord<Slot>[]>;
  /** One appointment, or null when it no longer exists (hard-deleted). */
  readAppointment(upstreamId: string, options?: CallOptions): Promise<UpstreamRecord<Appointment> | null>;
  /** Patients changed since `cursor` (`null`: all of them). */
  patientsChangedSince(cursor: string | null, options?: CallOptions): Promise<PatientChanges>;
  readPatient(upstreamId: string, options?: CallOptions): Promise<UpstreamRecord<Patient> | null>;
  /** Every appointment of a patient, past and future (the new-patient rule asks whether there was a visit). */
  patientAppointments(
    patientUpstreamId: string,
    options?: CallOptions,
  ): Promise<UpstreamRecord<Appointment>[]>;

  createAppointment(write: AppointmentWrite, options?: CallOptions): Promise<UpstreamRecord<Appointment>>;
  rescheduleAppointment(
    upstreamId: string,
    write: AppointmentWrite,
    options?: CallOptions,
  ): Promise<UpstreamRecord<Appointment>>;
  cancelAppointment(
    upstreamId: string,
    reason: string,
    options?: CallOptions,
  ): Promise<UpstreamRecord<Appointment>>;
  /**
   * The correlation marker this connector writes with a saga's appointment (DESIGN.md section 4, step 4: the
   * `externalRef` of the simulated system), in the form its records system can store and be searched by. Pure.
   * Booking treats it as opaque: only the connector that formats a marker knows how to find it again.
   * @param sagaId the booking saga's id (a UUID)
   */
  correlationMarker(sagaId: string): string;
  /**
   * The correlation marker an appointment of this records system was written with, as its FHIR mapping shows it
   * (an `Appointment.identifier`); undefined when Switchboard did not book it. A reschedule writes it again. Pure.
   */
  markerOf(appointment: Appointment): string | undefined;
  /** Appointments carrying the correlation marker (zero, one, or — after a blind re-send — more). */
  findAppointmentsByMarker(marker: string, options?: CallOptions): Promise<UpstreamRecord<Appointment>[]>;
  createPatient(patient: PatientWrite, options?: CallOptions): Promise<UpstreamRecord<Patient>>;
  /**
   * The patients of the records system that {@link createPatient} of this patient could have created: those with
   * exactly the family name, given names, birth date (and phone, when given) it would write. A records system
   * without a marker on patients is reconciled this way (DESIGN.md section 4; issue 10 item 5). Only meaningful
   * when {@link ConnectorCapabilities.findPatients}.
   */
  findCreatedPatients(patient: PatientWrite, options?: CallOptions): Promise<UpstreamRecord<Patient>[]>;
  updatePatient(
    upstreamId: string,
    patient: PatientWrite,
    options?: CallOptions,
  ): Promise<UpstreamRecord<Patient>>;

  /** Releases timers and sockets. */
  close(): Promise<void>;
}
