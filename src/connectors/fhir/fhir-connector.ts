/**
 * The connector for records systems that speak FHIR R4 (issue 12): ModMed-, athena-, Cerner-style servers and FHIR
 * servers practices build on. Reads and writes go through {@link FhirClient}; ids and codes are rewritten by the
 * pure mapping in fhir-mapping.ts; bookable time is mirrored from the upstream's Slots (fhir-slot-gaps.ts); what
 * the server can do comes from configuration and its CapabilityStatement (fhir-capabilities.ts).
 */
import type { UpstreamObserver } from '../upstream-observer.js';
import { createHash } from 'node:crypto';
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
  FhirIdResolver,
  PatientChanges,
  ReferenceData,
  UpstreamRecord,
  WindowQuery,
} from '../connector.js';
import { UpstreamError } from '../upstream-error.js';
import { createFhirMappingContext } from './fhir-mapping-context.js';
import { resolveCapabilities, type FhirUpstreamCapabilities } from './fhir-capabilities.js';
import { FhirClient, type FhirClientOptions } from './fhir-client.js';
import {
  appointmentRefs,
  mapAppointment,
  mapLocation,
  mapPatient,
  mapPractitioner,
  mapSchedule,
  scheduleRefs,
  tenantSystems,
  scheduleOf,
  type FhirMappingContext,
} from './fhir-mapping.js';
import { isOpenSlotStatus, localDaysCovering, searchChunks, slotGapRecords } from './fhir-slot-gaps.js';
import { bookedAppointment, bookParameters, findGapRecords } from './fhir-find-book.js';
import {
  appointmentBody,
  formatMarker,
  patientBody,
  patientMatchKey,
  upstreamMarkerOf,
  upstreamTypeCoding,
} from './fhir-write-bodies.js';

/** Bump when the mapping changes what it produces, so stored source hashes stop matching. */
const MAPPING_VERSION = 1;
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
    return {
      practitioners: snapshot.practitioners.map((p) => this.record('Practitioner', p, [], mapPractitioner)),
      locations: snapshot.locations.map((l) =>
        this.record('Location', l, [], (up, id, ctx) => mapLocation(up, id, this.timezone, ctx)),
      ),
      schedules: snapshot.schedules.map((s) => this.record('Schedule', s, scheduleRefs(s), mapSchedule)),
    };
  }

  async appointmentsInWindow(window: WindowQuery, options: CallOptions = {}) {
    const params: Array<[string, string]> = [
      ['date', `ge${window.from.toISOString()}`],
      ['date', `lt${window.to.toISOString()}`],
    ];
    if (window.practitionerUpstreamId)
      params.push(['practitioner', `Practitioner/${window.practitionerUpstreamId}`]);
    const found = await this.client.search<Appointment>('Appointment', params, options.signal);
    return found.map((a) => this.appointmentRecord(a));
  }

  /**
   * Time without open upstream Slots, per schedule and whole local day, as `busy-unavailable` Slots. None when the
   * upstream publishes no Slots (`availability: "hours"`): the configured working hours are all there is.
   */
  async blocksInWindow(window: WindowQuery, options: CallOptions = {}): Promise<UpstreamRecord<Slot>[]> {
    const { slotSearchMaxDays, availability, findAndBook } = await this.discover(options.signal);
    if (findAndBook && window.practitionerUpstreamId) {
      const { schedules } = await this.currentSnapshot(options.signal);
      return findGapRecords(this.client, schedules, window, this.timezone, options.signal);
    }
    if (availability === 'hours') return [];
    const snapshot = await this.currentSnapshot(options.signal);
    const schedules = snapshot.schedules.filter(
      (s) =>
        !window.practitionerUpstreamId ||
        scheduleRefs(s).some(
          (r) => r.resourceType === 'Practitioner' && r.upstreamId === window.practitionerUpstreamId,
        ),
    );
    const zone = this.timezone;
    const days = localDaysCovering(window.from, window.to, zone);
    const first = days[0];
    const last = days[days.length - 1];
    if (!first || !last || schedules.length === 0) return [];
    const slots: Slot[] = [];
    for (const chunk of searchChunks(first.start, last.end, slotSearchMaxDays)) {
      slots.push(
        ...(await this.client.search<Slot>(
          'Slot',
          [
            ['start', `ge${chunk.from.toISOString()}`],
            ['start', `lt${chunk.to.toISOString()}`],
          ],
          options.signal,
        )),
      );
    }
    return slotGapRecords(schedules, days, slots, window, zone);
  }

  async readAppointment(upstreamId: string, options: CallOptions = {}) {
    const found = await this.client.read<Appointment>('Appointment', upstreamId, options.signal);
    return found ? this.appointmentRecord(found) : null;
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
    return { records: found.map((p) => this.patientRecord(p)), cursor: lastUpdated ? latest : null };
  }

  async readPatient(upstreamId: string, options: CallOptions = {}) {
    const found = await this.client.read<Patient>('Patient', upstreamId, options.signal);
    return found ? this.patientRecord(found) : null;
  }

  async patientAppointments(patientUpstreamId: string, options: CallOptions = {}) {
    const found = await this.client.search<Appointment>(
      'Appointment',
      [['patient', `Patient/${patientUpstreamId}`]],
      options.signal,
    );
    return found.map((a) => this.appointmentRecord(a));
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
      return this.appointmentRecord(booked);
    }
    const created = await this.client.write<Appointment>('POST', 'Appointment', body, options.signal);
    return this.appointmentRecord(created);
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
    return this.appointmentRecord(updated);
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
    return this.appointmentRecord(updated);
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
      .map((a) => this.appointmentRecord(a));
  }

  async createPatient(patient: Patient, options: CallOptions = {}) {
    const created = await this.client.write<Patient>('POST', 'Patient', patientBody(patient), options.signal);
    return this.patientRecord(created);
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
    return found.filter((p) => patientMatchKey(p) === wanted).map((p) => this.patientRecord(p));
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
    return this.patientRecord(updated);
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

  private context(resolve: FhirIdResolver): FhirMappingContext {
    return createFhirMappingContext({
      tenantId: this.options.tenantId,
      zone: this.timezone,
      resolve,
      appointmentTypes: this.options.settings.appointmentTypes,
      availability: this.upstream?.availability ?? this.options.settings.capabilities.availability,
      workingHours: this.options.settings.workingHours,
    });
  }

  private record<R extends Practitioner | Location | Schedule | Patient | Appointment>(
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
      toFhir: (resolve) => map(upstream, id, this.context(resolve)),
    };
  }

  private appointmentRecord(a: Appointment): UpstreamRecord<Appointment> {
    const marker = upstreamMarkerOf(a, this.systems.correlation);
    return {
      ...this.record('Appointment', a, appointmentRefs(a), mapAppointment),
      ...(marker ? { marker } : {}),
    };
  }

  private patientRecord(p: Patient): UpstreamRecord<Patient> {
    const { meta: _meta, ...content } = p;
    const sourceHash = createHash('sha256')
      .update(JSON.stringify([MAPPING_VERSION, this.options.tenantId, content]))
      .digest('base64url');
    return { ...this.record('Patient', p, [], mapPatient), sourceHash };
  }
}
