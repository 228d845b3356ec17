/**
 * The connector for records systems that speak FHIR R4 (issue 12): ModMed-, athena-, Cerner-style servers and FHIR
 * servers practices build on. Reads and writes go through {@link FhirClient}; ids and codes are rewritten by the
 * pure mapping in fhir-mapping.ts; bookable time is mirrored from the upstream's Slots (fhir-slot-gaps.ts); what
 * the server can do comes from configuration and its CapabilityStatement (fhir-capabilities.ts).
 */
import type { UpstreamObserver } from '../upstream-observer.js';
import type {
  Appointment,
  Bundle,
  CapabilityStatement,
  Location,
  Patient,
  Practitioner,
  Schedule,
  Slot,
} from '@medplum/fhirtypes';
import type { FhirConnectorSettings } from '../../config-fhir-connector.js';
import { TIMEZONE_EXTENSION_URL } from '../../availability/schedule-rules.js';
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
import { resolveCapabilities, type FhirUpstreamCapabilities } from './fhir-capabilities.js';
import { FhirClient, type FhirClientOptions } from './fhir-client.js';
import {
  mapLocation,
  mapPractitioner,
  mapSchedule,
  scheduleRefs,
  tenantSystems,
  scheduleOf,
} from './fhir-mapping.js';
import { FhirRecords } from './fhir-records.js';
import { isOpenSlotStatus } from './fhir-slot-gaps.js';
import { windowGapRecords } from './fhir-window-gaps.js';
import { bookedAppointment, bookParameters } from './fhir-find-book.js';
import {
  appointmentBody,
  formatMarker,
  patientBody,
  patientMatchKey,
  upstreamMarkerOf,
  upstreamTypeCoding,
} from './fhir-write-bodies.js';
import { allPages } from '../all-pages.js';

/** How far back a marker is looked for by `comment` when the server drops identifiers. */
const MARKER_LOOKBACK_MS = 48 * 3600_000;

interface Snapshot {
  practitioners: Practitioner[];
  locations: Location[];
  schedules: Schedule[];
}

export interface FhirConnectorOptions {
  tenantId: string;
  settings: FhirConnectorSettings;
  timezone?: string;
  now?: () => number;
  /** Told of every call to the records system (console and metrics, issue 15). */
  observe?: UpstreamObserver;
  client?: Partial<
    Pick<
      FhirClientOptions,
      'breakerThreshold' | 'breakerHalfOpenAfterMs' | 'maxRateLimitWaitMs' | 'rateLimitBackoffMs' | 'sleep'
    >
  >;
}

export class FhirConnector implements Connector {
  private readonly client: FhirClient;
  private readonly systems: ReturnType<typeof tenantSystems>;
  private readonly now: () => number;
  private snapshot: Snapshot | undefined;
  private upstream: FhirUpstreamCapabilities | undefined;
  private builder: { zone: string; availability: 'slots' | 'hours'; records: FhirRecords } | undefined;

  constructor(private readonly options: FhirConnectorOptions) {
    const { kind: _kind, capabilities: _c, appointmentTypes: _t, ...http } = options.settings;
    this.now = options.now ?? Date.now;
    this.client = new FhirClient({ ...http, ...options.client, now: this.now, observe: options.observe });
    this.systems = tenantSystems(options.tenantId);
  }

  get capabilities(): ConnectorCapabilities {
    return {
      incrementalPatients: this.upstream?.lastUpdated ?? false,
      reportsDeletes: false,
      idempotentWrites: false,
      findByMarker: true,
      conflictChecking: false,
      findPatients: true,
    };
  }

  /** What the upstream can do, once known (after the first call). */
  get upstreamCapabilities(): FhirUpstreamCapabilities | undefined {
    return this.upstream;
  }

  /** Upstream calls made so far (the benchmark's calls-per-minute figure). */
  get upstreamCalls(): number {
    return this.client.calls;
  }

  get timezone(): string {
    const first = this.snapshot?.locations[0]?.extension?.find((e) => e.url === TIMEZONE_EXTENSION_URL);
    return this.options.timezone ?? first?.valueCode ?? 'UTC';
  }

  async referenceData(options: CallOptions = {}): Promise<ReferenceData> {
    await this.discover(options.signal);
    const snapshot = await this.readSnapshot(options.signal);
    const records = this.records();
    return {
      practitioners: snapshot.practitioners.map((p) =>
        records.record('Practitioner', p, [], mapPractitioner),
      ),
      locations: snapshot.locations.map((l) =>
        records.record('Location', l, [], (up, id, ctx) => mapLocation(up, id, this.timezone, ctx)),
      ),
      schedules: snapshot.schedules.map((s) => records.record('Schedule', s, scheduleRefs(s), mapSchedule)),
    };
  }

  async appointmentsInWindow(window: WindowQuery, options: CallOptions = {}) {
    return allPages(this.appointmentPagesInWindow(window, options));
  }

  /** The window's appointments a Bundle at a time, following `next` links as the caller asks for more. */
  async *appointmentPagesInWindow(
    window: WindowQuery,
    options: CallOptions = {},
  ): AsyncGenerator<UpstreamRecord<Appointment>[]> {
    const params: Array<[string, string]> = [
      ['date', `ge${window.from.toISOString()}`],
      ['date', `lt${window.to.toISOString()}`],
    ];
    if (window.practitionerUpstreamId)
      params.push(['practitioner', `Practitioner/${window.practitionerUpstreamId}`]);
    const records = this.records();
    const pages = this.client.searchPages<Appointment>('Appointment', 'Appointment', params, options.signal);
    for await (const page of pages) yield page.map((a) => records.appointment(a));
  }

  /**
   * Time without open upstream Slots, per schedule and whole local day, as `busy-unavailable` Slots. None when the
   * upstream publishes no Slots (`availability: "hours"`): the configured working hours are all there is.
   */
  async blocksInWindow(window: WindowQuery, options: CallOptions = {}): Promise<UpstreamRecord<Slot>[]> {
    const upstream = await this.discover(options.signal);
    const reference = async () => ({
      schedules: (await this.currentSnapshot(options.signal)).schedules,
      zone: this.timezone,
    });
    const gaps = await windowGapRecords(this.client, upstream, reference, window, options.signal);
    const records = this.records();
    return gaps.map((gap) => records.gap(gap));
  }

  async readAppointment(upstreamId: string, options: CallOptions = {}) {
    const found = await this.client.read<Appointment>('Appointment', upstreamId, options.signal);
    return found ? this.records().appointment(found) : null;
  }

  async patientsChangedSince(cursor: string | null, options: CallOptions = {}): Promise<PatientChanges> {
    const { lastUpdated } = await this.discover(options.signal);
    // `ge` is inclusive: records stamped at the cursor itself are read again and diffed away.
    const params: Array<[string, string]> =
      cursor !== null && lastUpdated ? [['_lastUpdated', `ge${cursor}`]] : [];
    const found = await this.client.search<Patient>('Patient', params, options.signal);
    const latest = found.reduce<string | null>((max, p) => {
      const at = p.meta?.lastUpdated;
      return at && (max === null || at > max) ? at : max;
    }, cursor);
    return { records: found.map((p) => this.records().patient(p)), cursor: lastUpdated ? latest : null };
  }

  async readPatient(upstreamId: string, options: CallOptions = {}) {
    const found = await this.client.read<Patient>('Patient', upstreamId, options.signal);
    return found ? this.records().patient(found) : null;
  }

  async patientAppointments(patientUpstreamId: string, options: CallOptions = {}) {
    const found = await this.client.search<Appointment>(
      'Appointment',
      [['patient', `Patient/${patientUpstreamId}`]],
      options.signal,
    );
    return found.map((a) => this.records().appointment(a));
  }

  async createAppointment(write: AppointmentWrite, options: CallOptions = {}) {
    const body = await this.appointmentWriteBody(write, undefined, options.signal);
    if ((await this.discover(options.signal)).findAndBook) {
      const answer = await this.client
        .write<Appointment | Bundle>('POST', 'Appointment/$book', bookParameters(body), options.signal)
        .catch((err: unknown) => {
          // `$book` checks the time: its 409 says the time is taken, not that the request was malformed.
          if (err instanceof UpstreamError && err.kind === 'rejected' && err.status === 409) {
            throw new UpstreamError('time-taken', err.message, { status: 409, outcome: 'not-applied' });
          }
          throw err;
        });
      const booked = bookedAppointment(answer);
      if (!booked) {
        // It may have been booked: what it answered does not say, so the saga reconciles by marker.
        throw new UpstreamError('unavailable', '$book answered no Appointment', { outcome: 'unknown' });
      }
      return this.records().appointment(booked);
    }
    const created = await this.client.write<Appointment>('POST', 'Appointment', body, options.signal);
    return this.records().appointment(created);
  }

  async rescheduleAppointment(upstreamId: string, write: AppointmentWrite, options: CallOptions = {}) {
    const existing = await this.mustRead(upstreamId, options.signal);
    const body = await this.appointmentWriteBody(write, existing, options.signal);
    const updated = await this.client.write<Appointment>(
      'PUT',
      `Appointment/${encodeURIComponent(upstreamId)}`,
      body,
      options.signal,
    );
    return this.records().appointment(updated);
  }

  async cancelAppointment(upstreamId: string, reason: string, options: CallOptions = {}) {
    const existing = await this.mustRead(upstreamId, options.signal);
    const { meta: _meta, ...rest } = existing;
    const body: Appointment = { ...rest, status: 'cancelled', cancelationReason: { text: reason } };
    const updated = await this.client.write<Appointment>(
      'PUT',
      `Appointment/${encodeURIComponent(upstreamId)}`,
      body,
      options.signal,
    );
    return this.records().appointment(updated);
  }

  correlationMarker(sagaId: string): string {
    return formatMarker(sagaId);
  }

  markerOf(appointment: Appointment): string | undefined {
    return appointment.identifier?.find((i) => i.system === this.systems.correlation)?.value;
  }

  async findAppointmentsByMarker(marker: string, options: CallOptions = {}) {
    const { identifierSurvivesCreate, lastUpdated } = await this.discover(options.signal);
    const params: Array<[string, string]> = identifierSurvivesCreate
      ? [['identifier', `${this.systems.correlation}|${marker}`]]
      : lastUpdated
        ? [['_lastUpdated', `ge${new Date(this.now() - MARKER_LOOKBACK_MS).toISOString()}`]]
        : [];
    const found = await this.client.search<Appointment>('Appointment', params, options.signal);
    return found
      .filter((a) => upstreamMarkerOf(a, this.systems.correlation) === marker)
      .map((a) => this.records().appointment(a));
  }

  async createPatient(patient: Patient, options: CallOptions = {}) {
    const created = await this.client.write<Patient>('POST', 'Patient', patientBody(patient), options.signal);
    return this.records().patient(created);
  }

  async findCreatedPatients(patient: Patient, options: CallOptions = {}) {
    const name = patient.name?.find((n) => n.use === 'official') ?? patient.name?.[0];
    const params: Array<[string, string]> = [];
    if (name?.family) params.push(['family', name.family]);
    if (name?.given?.[0]) params.push(['given', name.given[0]]);
    if (patient.birthDate) params.push(['birthdate', patient.birthDate]);
    if (params.length === 0) return [];
    const found = await this.client.search<Patient>('Patient', params, options.signal);
    // Name searches match prefixes: keep only what this write would have stored.
    const wanted = patientMatchKey(patientBody(patient));
    return found.filter((p) => patientMatchKey(p) === wanted).map((p) => this.records().patient(p));
  }

  async updatePatient(upstreamId: string, patient: Patient, options: CallOptions = {}) {
    const existing = await this.client.read<Patient>('Patient', upstreamId, options.signal);
    if (!existing) throw new UpstreamError('not-found', `Patient ${upstreamId} not found`, { status: 404 });
    const updated = await this.client.write<Patient>(
      'PUT',
      `Patient/${encodeURIComponent(upstreamId)}`,
      patientBody(patient, existing),
      options.signal,
    );
    return this.records().patient(updated);
  }

  async close(): Promise<void> {
    this.client.close();
  }

  /** Capabilities from configuration and the CapabilityStatement, read once (a failed read is tried again later). */
  private async discover(signal: AbortSignal | undefined): Promise<FhirUpstreamCapabilities> {
    if (this.upstream) return this.upstream;
    let statement: CapabilityStatement | undefined;
    try {
      statement = await this.client.capabilityStatement(signal);
    } catch (err) {
      if (!(err instanceof UpstreamError) || err.kind === 'unavailable' || err.kind === 'timeout') throw err;
    }
    this.upstream = resolveCapabilities(this.options.settings.capabilities, statement, {
      workingHoursConfigured: this.options.settings.workingHours.length > 0,
    });
    return this.upstream;
  }

  private async readSnapshot(signal: AbortSignal | undefined): Promise<Snapshot> {
    const [practitioners, locations, schedules] = await Promise.all([
      this.client.search<Practitioner>('Practitioner', [], signal),
      this.client.search<Location>('Location', [], signal),
      this.client.search<Schedule>('Schedule', [], signal),
    ]);
    this.snapshot = { practitioners, locations, schedules };
    return this.snapshot;
  }

  private async currentSnapshot(signal: AbortSignal | undefined): Promise<Snapshot> {
    return this.snapshot ?? this.readSnapshot(signal);
  }

  private async mustRead(upstreamId: string, signal: AbortSignal | undefined): Promise<Appointment> {
    const existing = await this.client.read<Appointment>('Appointment', upstreamId, signal);
    if (!existing) {
      throw new UpstreamError('not-found', `Appointment ${upstreamId} not found`, {
        status: 404,
        outcome: 'not-applied',
      });
    }
    return existing;
  }

  private async appointmentWriteBody(
    write: AppointmentWrite,
    existing: Appointment | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Appointment> {
    const typeCoding = upstreamTypeCoding(this.options.settings.appointmentTypes, write.appointmentTypeCode);
    const { availability } = await this.discover(signal);
    const snapshot = await this.currentSnapshot(signal);
    const schedule = scheduleOf(snapshot.schedules, write.practitionerUpstreamId, write.locationUpstreamId);
    const end = write.start.getTime() + write.minutes * 60_000;
    // Without upstream Slots the create references none: the time is the appointment's own start and end.
    const slots =
      schedule?.id && availability === 'slots'
        ? (
            await this.client.search<Slot>(
              'Slot',
              [
                ['schedule', `Schedule/${schedule.id}`],
                ['start', `ge${write.start.toISOString()}`],
                ['start', `lt${new Date(end).toISOString()}`],
              ],
              signal,
            )
          ).filter((s) => isOpenSlotStatus(s.status))
        : [];
    const { meta: _meta, ...kept } = existing ?? ({} as Partial<Appointment>);
    return appointmentBody({
      write,
      typeCoding,
      slots: slots.sort((a, b) => Date.parse(a.start) - Date.parse(b.start)),
      markerSystem: this.systems.correlation,
      existing: existing ? ({ ...kept, resourceType: 'Appointment' } as Appointment) : undefined,
    });
  }

  /** The record builder for what this connector knows now (zone, capabilities, configuration), kept until either changes. */
  private records(): FhirRecords {
    const zone = this.timezone;
    const availability =
      this.upstream?.availability ?? this.options.settings.capabilities.availability ?? 'slots';
    if (this.builder?.zone !== zone || this.builder.availability !== availability) {
      this.builder = {
        zone,
        availability,
        records: new FhirRecords({
          tenantId: this.options.tenantId,
          zone,
          appointmentTypes: this.options.settings.appointmentTypes,
          availability,
          workingHours: this.options.settings.workingHours,
          correlationSystem: this.systems.correlation,
        }),
      };
    }
    return this.builder.records;
  }
}
