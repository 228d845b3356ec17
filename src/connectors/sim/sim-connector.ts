/**
 * The connector for the simulated records system (DESIGN.md section 2): its proprietary API through
 * {@link SimClient}, its data model through the pure mapping in `sim-fhir-mapping.ts`.
 */
import type { UpstreamObserver } from '../upstream-observer.js';
import type { Appointment, Patient, Period, Slot } from '@medplum/fhirtypes';
import type { SimConnectorSettings } from '../../config.js';
import type {
  SimAppointment,
  SimAppointmentInput,
  SimBlock,
  SimPatient,
  SimPatientInput,
} from '../../sim/sim-types.js';
import {
  addCalendarDays,
  instantToLocalDate,
  instantToWallTime,
  wallTimeToInstant,
} from '../../wall-time.js';
import type {
  AppointmentWrite,
  CallOptions,
  Connector,
  ConnectorCapabilities,
  PatientChanges,
  ReferenceData,
  UpstreamRecord,
  WindowQuery,
} from '../connector.js';
import { UpstreamError } from '../upstream-error.js';
import { SimClient, type SimClientOptions } from './sim-client.js';
import { readSimSnapshot, type Snapshot } from './sim-snapshot.js';
import { correlationMarkerOf, formatCorrelationMarker } from './sim-fhir-context.js';
import {
  simAppointmentRecord,
  simBlockRecords,
  simPatientRecord,
  simReferenceRecords,
  type SimRecordContext,
} from './sim-records.js';
import { patientInputFromFhir } from './sim-fhir-write.js';
import { allPages } from '../all-pages.js';

export interface SimConnectorOptions {
  tenantId: string;
  settings: SimConnectorSettings;
  /** Overrides the zone the records system's locations report. */
  timezone?: string;
  now?: () => number;
  /** Told of every call to the records system (console and metrics, issue 15). */
  observe?: UpstreamObserver;
  /**
   * Publishes each Schedule's `planningHorizon` (R4: the `date` search parameter of Schedule) as the local dates
   * from today to this many days ahead, plus one: the booking horizon. It moves once a day.
   */
  planningHorizonDays?: number;
  /** Overrides of the HTTP client's resilience settings (tests shorten the breaker, inject a sleep). */
  client?: Partial<
    Pick<SimClientOptions, 'breakerThreshold' | 'breakerHalfOpenAfterMs' | 'maxRateLimitWaitMs' | 'sleep'>
  >;
}

export class SimConnector implements Connector {
  readonly capabilities: ConnectorCapabilities = {
    incrementalPatients: true,
    reportsDeletes: false,
    idempotentWrites: false,
    findByMarker: true,
    conflictChecking: false,
    findPatients: true,
  };
  private readonly client: SimClient;
  private snapshot: Snapshot | undefined;

  constructor(private readonly options: SimConnectorOptions) {
    this.client = new SimClient({
      ...options.settings,
      ...options.client,
      now: options.now,
      observe: options.observe,
    });
  }

  /** The practice zone: the configured override, else the first location's. Known once reference data was read. */
  get timezone(): string {
    return this.zoneOf(this.snapshot);
  }

  /** The Schedules' planning horizon in `zone`: local dates today … today + horizon + 1 (see the option). */
  private planningHorizon(zone: string | undefined): { planningHorizon?: Period } {
    const days = this.options.planningHorizonDays;
    if (days === undefined) return {};
    const today = instantToLocalDate(new Date(this.options.now?.() ?? Date.now()), zone ?? this.timezone);
    return { planningHorizon: { start: today, end: addCalendarDays(today, days + 1) } };
  }

  async referenceData(options: CallOptions = {}): Promise<ReferenceData> {
    const snapshot = await this.readSnapshot(options.signal);
    return simReferenceRecords(this.recordContext(snapshot), (zone) => this.planningHorizon(zone));
  }

  async appointmentsInWindow(
    window: WindowQuery,
    options: CallOptions = {},
  ): Promise<UpstreamRecord<Appointment>[]> {
    return allPages(this.appointmentPagesInWindow(window, options));
  }

  async *appointmentPagesInWindow(
    window: WindowQuery,
    options: CallOptions = {},
  ): AsyncGenerator<UpstreamRecord<Appointment>[]> {
    const ctx = this.recordContext(await this.currentSnapshot(options.signal));
    const pages = this.client.pages<SimAppointment>(
      '/appointments',
      { from: this.wall(window.from), to: this.wall(window.to), providerId: window.practitionerUpstreamId },
      options.signal,
    );
    for await (const page of pages) yield page.map((a) => simAppointmentRecord(a, ctx));
  }

  async blocksInWindow(window: WindowQuery, options: CallOptions = {}): Promise<UpstreamRecord<Slot>[]> {
    const ctx = this.recordContext(await this.currentSnapshot(options.signal));
    const blocks = await this.client.get<SimBlock[]>(
      '/blocks',
      { from: this.wall(window.from), to: this.wall(window.to), providerId: window.practitionerUpstreamId },
      options.signal,
    );
    return blocks.flatMap((block) => simBlockRecords(block, ctx));
  }

  async readAppointment(
    upstreamId: string,
    options: CallOptions = {},
  ): Promise<UpstreamRecord<Appointment> | null> {
    const snapshot = await this.currentSnapshot(options.signal);
    const a = await this.client.getOrNull<SimAppointment>(
      `/appointments/${encodeURIComponent(upstreamId)}`,
      options.signal,
    );
    return a ? simAppointmentRecord(a, this.recordContext(snapshot)) : null;
  }

  async patientsChangedSince(cursor: string | null, options: CallOptions = {}): Promise<PatientChanges> {
    const snapshot = await this.currentSnapshot(options.signal);
    // modifiedSince is inclusive: records stamped in the cursor's own second are read again and diffed away.
    const items = await this.client.getAllPages<SimPatient>(
      '/patients',
      cursor === null ? {} : { modifiedSince: cursor },
      options.signal,
    );
    const latest = items.reduce<string | null>(
      (max, p) => (max === null || p.modifiedAt > max ? p.modifiedAt : max),
      cursor,
    );
    return { records: items.map((p) => simPatientRecord(p, this.recordContext(snapshot))), cursor: latest };
  }

  async readPatient(upstreamId: string, options: CallOptions = {}): Promise<UpstreamRecord<Patient> | null> {
    const snapshot = await this.currentSnapshot(options.signal);
    const p = await this.client.getOrNull<SimPatient>(
      `/patients/${encodeURIComponent(upstreamId)}`,
      options.signal,
    );
    return p ? simPatientRecord(p, this.recordContext(snapshot)) : null;
  }

  async patientAppointments(
    patientUpstreamId: string,
    options: CallOptions = {},
  ): Promise<UpstreamRecord<Appointment>[]> {
    const snapshot = await this.currentSnapshot(options.signal);
    const items = await this.client.getAllPages<SimAppointment>(
      `/patients/${encodeURIComponent(patientUpstreamId)}/history`,
      {},
      options.signal,
    );
    return items.map((a) => simAppointmentRecord(a, this.recordContext(snapshot)));
  }

  async createAppointment(
    write: AppointmentWrite,
    options: CallOptions = {},
  ): Promise<UpstreamRecord<Appointment>> {
    const snapshot = await this.currentSnapshot(options.signal);
    const created = await this.client.write<SimAppointment>(
      'POST',
      '/appointments',
      this.appointmentInput(write, snapshot),
      options.signal,
    );
    return simAppointmentRecord(created, this.recordContext(snapshot));
  }

  async rescheduleAppointment(
    upstreamId: string,
    write: AppointmentWrite,
    options: CallOptions = {},
  ): Promise<UpstreamRecord<Appointment>> {
    const snapshot = await this.currentSnapshot(options.signal);
    const updated = await this.client.write<SimAppointment>(
      'PUT',
      `/appointments/${encodeURIComponent(upstreamId)}`,
      this.appointmentInput(write, snapshot),
      options.signal,
    );
    return simAppointmentRecord(updated, this.recordContext(snapshot));
  }

  async cancelAppointment(
    upstreamId: string,
    reason: string,
    options: CallOptions = {},
  ): Promise<UpstreamRecord<Appointment>> {
    const snapshot = await this.currentSnapshot(options.signal);
    const cancelled = await this.client.write<SimAppointment>(
      'POST',
      `/appointments/${encodeURIComponent(upstreamId)}/cancel`,
      { reason },
      options.signal,
    );
    return simAppointmentRecord(cancelled, this.recordContext(snapshot));
  }

  correlationMarker(sagaId: string): string {
    return formatCorrelationMarker(sagaId);
  }

  markerOf(appointment: Appointment): string | undefined {
    return correlationMarkerOf(appointment);
  }

  async findAppointmentsByMarker(
    marker: string,
    options: CallOptions = {},
  ): Promise<UpstreamRecord<Appointment>[]> {
    const snapshot = await this.currentSnapshot(options.signal);
    const items = await this.client.getAllPages<SimAppointment>(
      '/appointments',
      { externalRef: marker },
      options.signal,
    );
    return items.map((a) => simAppointmentRecord(a, this.recordContext(snapshot)));
  }

  async createPatient(patient: Patient, options: CallOptions = {}): Promise<UpstreamRecord<Patient>> {
    const snapshot = await this.currentSnapshot(options.signal);
    const input: SimPatientInput = patientInputFromFhir(patient);
    const created = await this.client.write<SimPatient>('POST', '/patients', input, options.signal);
    return simPatientRecord(created, this.recordContext(snapshot));
  }

  async findCreatedPatients(patient: Patient, options: CallOptions = {}): Promise<UpstreamRecord<Patient>[]> {
    const snapshot = await this.currentSnapshot(options.signal);
    const input = patientInputFromFhir(patient);
    const digits = (text: string | null) => (text ?? '').replace(/\D/g, '');
    const items = await this.client.getAllPages<SimPatient>(
      '/patients',
      {
        lastName: input.lastName,
        firstName: input.firstName,
        dob: input.dob,
        ...(digits(input.phone) ? { phone: digits(input.phone) } : {}),
      },
      options.signal,
    );
    // The sim matches names by prefix: keep only what this write would have stored.
    const same = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();
    return items
      .filter(
        (p) =>
          same(p.lastName, input.lastName) &&
          same(p.firstName, input.firstName) &&
          p.dob === input.dob &&
          digits(p.phone) === digits(input.phone),
      )
      .map((p) => simPatientRecord(p, this.recordContext(snapshot)));
  }

  async updatePatient(
    upstreamId: string,
    patient: Patient,
    options: CallOptions = {},
  ): Promise<UpstreamRecord<Patient>> {
    const snapshot = await this.currentSnapshot(options.signal);
    const updated = await this.client.write<SimPatient>(
      'PUT',
      `/patients/${encodeURIComponent(upstreamId)}`,
      patientInputFromFhir(patient),
      options.signal,
    );
    return simPatientRecord(updated, this.recordContext(snapshot));
  }

  async close(): Promise<void> {
    this.client.close();
  }

  private async readSnapshot(signal: AbortSignal | undefined): Promise<Snapshot> {
    this.snapshot = await readSimSnapshot(this.client, this.options.tenantId, this.options.timezone, signal);
    return this.snapshot;
  }

  private async currentSnapshot(signal: AbortSignal | undefined): Promise<Snapshot> {
    return this.snapshot ?? this.readSnapshot(signal);
  }

  private recordContext(snapshot: Snapshot): SimRecordContext {
    return { tenantId: this.options.tenantId, zone: this.zoneOf(snapshot), snapshot };
  }

  private zoneOf(snapshot: Snapshot | undefined): string {
    return this.options.timezone ?? snapshot?.locations[0]?.timezone ?? 'UTC';
  }

  private appointmentInput(write: AppointmentWrite, snapshot: Snapshot): SimAppointmentInput {
    const type = snapshot.types.find((t) => t.code === write.appointmentTypeCode);
    if (!type) {
      throw new UpstreamError('rejected', `unknown appointment type ${write.appointmentTypeCode}`, {
        outcome: 'not-applied',
      });
    }
    const locationId = Number(write.locationUpstreamId);
    const zone = snapshot.locations.find((l) => l.id === locationId)?.timezone ?? this.timezone;
    const start = instantToWallTime(write.start, zone);
    // A start that is not a whole minute in the location's zone cannot be written as a wall time faithfully.
    if (wallTimeToInstant(start, zone).getTime() !== write.start.getTime()) {
      throw new UpstreamError('rejected', 'appointment start must fall on a whole minute', {
        outcome: 'not-applied',
      });
    }
    return {
      patientId: Number(write.patientUpstreamId),
      providerId: Number(write.practitionerUpstreamId),
      locationId,
      appointmentTypeId: type.id,
      start,
      durationMinutes: write.minutes,
      notes: write.comment ?? null,
      externalRef: write.marker,
    };
  }

  /** Window bounds as practice wall times: the records system filters in its own clock. */
  private wall(instant: Date): string {
    return instantToWallTime(instant, this.timezone);
  }
}
