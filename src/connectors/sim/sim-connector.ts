/**
 * The connector for the simulated records system (DESIGN.md section 2): its proprietary API through
 * {@link SimClient}, its data model through the pure mapping in `sim-fhir-mapping.ts`.
 */
import type { UpstreamObserver } from '../upstream-observer.js';
import type {
  Appointment,
  Location,
  Patient,
  Period,
  Practitioner,
  Schedule,
  Slot,
} from '@medplum/fhirtypes';
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
  FhirIdResolver,
  PatientChanges,
  ReferenceData,
  UpstreamRecord,
  UpstreamRef,
  WindowQuery,
} from '../connector.js';
import { UpstreamError } from '../upstream-error.js';
import { SimClient, type SimClientOptions } from './sim-client.js';
import { readSimSnapshot, sourceHashOf, uniqueSchedules, type Snapshot } from './sim-snapshot.js';
import {
  correlationMarkerOf,
  createSimMappingContext,
  formatCorrelationMarker,
  isDefaultCorrelationMarker,
  scheduleKey,
  type SimMappingContext,
} from './sim-fhir-context.js';
import { mapBlock } from './sim-fhir-availability.js';
import { mapAppointment, mapLocation, mapPatient, mapProvider, mapSchedule } from './sim-fhir-mapping.js';
import { patientInputFromFhir } from './sim-fhir-write.js';

const ref = (resourceType: UpstreamRef['resourceType'], id: number | string): UpstreamRef => ({
  resourceType,
  upstreamId: String(id),
});

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
    return this.options.timezone ?? this.snapshot?.locations[0]?.timezone ?? 'UTC';
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
    const { providers, locations, types, templates } = snapshot;
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
            mapSchedule(provider, location, types, hours, this.context(resolve, snapshot), {
              ...this.planningHorizon(location.timezone),
            }),
        });
      }
    }
    return {
      practitioners: providers.map((p): UpstreamRecord<Practitioner> => ({
        resourceType: 'Practitioner',
        upstreamId: String(p.id),
        references: [],
        toFhir: (resolve) => mapProvider(p, this.context(resolve, snapshot)),
      })),
      locations: locations.map((l): UpstreamRecord<Location> => ({
        resourceType: 'Location',
        upstreamId: String(l.id),
        references: [],
        toFhir: (resolve) => mapLocation(l, this.context(resolve, snapshot)),
      })),
      schedules,
    };
  }

  async appointmentsInWindow(
    window: WindowQuery,
    options: CallOptions = {},
  ): Promise<UpstreamRecord<Appointment>[]> {
    const snapshot = await this.currentSnapshot(options.signal);
    const items = await this.client.getAllPages<SimAppointment>(
      '/appointments',
      { from: this.wall(window.from), to: this.wall(window.to), providerId: window.practitionerUpstreamId },
      options.signal,
    );
    return items.map((a) => this.appointmentRecord(a, snapshot));
  }

  async blocksInWindow(window: WindowQuery, options: CallOptions = {}): Promise<UpstreamRecord<Slot>[]> {
    const snapshot = await this.currentSnapshot(options.signal);
    const blocks = await this.client.get<SimBlock[]>(
      '/blocks',
      { from: this.wall(window.from), to: this.wall(window.to), providerId: window.practitionerUpstreamId },
      options.signal,
    );
    // Blocks name a provider, a location, both or neither; a closure covers each schedule it matches.
    const schedules = uniqueSchedules(snapshot.templates);
    return blocks.flatMap((block) =>
      schedules
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
            // mapBlock resolves the practitioner and location too, so they must be resolvable even when no
            // other record of this pass mentions them.
            references: [
              ref('Schedule', key),
              ...(block.providerId === null ? [] : [ref('Practitioner', block.providerId)]),
              ...(block.locationId === null ? [] : [ref('Location', block.locationId)]),
            ],
            toFhir: (resolve) => {
              const mapped = mapBlock(block, this.context(resolve, snapshot));
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
        }),
    );
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
    return a ? this.appointmentRecord(a, snapshot) : null;
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
    return { records: items.map((p) => this.patientRecord(p, snapshot)), cursor: latest };
  }

  async readPatient(upstreamId: string, options: CallOptions = {}): Promise<UpstreamRecord<Patient> | null> {
    const snapshot = await this.currentSnapshot(options.signal);
    const p = await this.client.getOrNull<SimPatient>(
      `/patients/${encodeURIComponent(upstreamId)}`,
      options.signal,
    );
    return p ? this.patientRecord(p, snapshot) : null;
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
    return items.map((a) => this.appointmentRecord(a, snapshot));
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
    return this.appointmentRecord(created, snapshot);
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
    return this.appointmentRecord(updated, snapshot);
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
    return this.appointmentRecord(cancelled, snapshot);
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
    return items.map((a) => this.appointmentRecord(a, snapshot));
  }

  async createPatient(patient: Patient, options: CallOptions = {}): Promise<UpstreamRecord<Patient>> {
    const snapshot = await this.currentSnapshot(options.signal);
    const input: SimPatientInput = patientInputFromFhir(patient);
    const created = await this.client.write<SimPatient>('POST', '/patients', input, options.signal);
    return this.patientRecord(created, snapshot);
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
      .map((p) => this.patientRecord(p, snapshot));
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
    return this.patientRecord(updated, snapshot);
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

  private context(resolve: FhirIdResolver, snapshot: Snapshot): SimMappingContext {
    return createSimMappingContext({
      tenantId: this.options.tenantId,
      practiceZone: this.timezone,
      ref: (kind, id) => resolve(kind, String(id)),
      providers: snapshot.providers,
      locations: snapshot.locations,
      appointmentTypes: snapshot.types,
    });
  }

  private appointmentRecord(a: SimAppointment, snapshot: Snapshot): UpstreamRecord<Appointment> {
    return {
      resourceType: 'Appointment',
      upstreamId: String(a.id),
      ...(a.externalRef && isDefaultCorrelationMarker(a.externalRef) ? { marker: a.externalRef } : {}),
      references: [
        ref('Patient', a.patientId),
        ref('Practitioner', a.providerId),
        ref('Location', a.locationId),
      ],
      toFhir: (resolve) => mapAppointment(a, this.context(resolve, snapshot)),
    };
  }

  private patientRecord(p: SimPatient, snapshot: Snapshot): UpstreamRecord<Patient> {
    return {
      resourceType: 'Patient',
      upstreamId: String(p.id),
      references: [],
      sourceHash: sourceHashOf(snapshot, p),
      toFhir: (resolve) => mapPatient(p, this.context(resolve, snapshot)),
    };
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
