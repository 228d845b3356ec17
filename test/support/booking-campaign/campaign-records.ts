/**
 * The records system a booking fault campaign runs against, behind one interface (issues 10 and 12): the
 * proprietary simulator (its own JSON API) or the FHIR R4 simulator on Medplum's engine (plain FHIR). Each gives the
 * ground truth the invariants are checked against — every appointment it holds, normalised — the front desk's own
 * bookings and cancels through its API, its fault controls, and the practice it was seeded with (the same Riverside
 * practice for both), plus the tenant's connector configuration for Switchboard.
 */
import type { Appointment } from '@medplum/fhirtypes';
import { demoFhirTenant } from '../../../src/config-fhir-connector.js';
import { startDemoFhirSim } from '../../../src/fhir-sim/demo-fhir-sim.js';
import { DEMO_CREDENTIALS, DEMO_FIRM, startDemoSim } from '../../../src/sim/demo-sim.js';
import type { SimFaults, SimFirmData } from '../../../src/sim/sim-types.js';
import { instantToWallTime, wallTimeToInstant } from '../../../src/wall-time.js';

export const PRACTICE_ZONE = 'America/New_York';
const FRONT_DESK_PATIENCE_MS = 3_000;
const MARKER_PREFIX = 'switchboard:';

/**
 * Which records system a campaign runs against: the proprietary simulator, the FHIR simulator publishing Slots,
 * or the FHIR simulator publishing none (quirk `noSlots`; the tenant computes free time from configured hours).
 */
export type RecordsKind = 'sim' | 'fhir' | 'fhir-hours';

/** An appointment as the records system holds it, in the terms the invariants need. */
export interface UpstreamAppointment {
  id: string;
  /** Switchboard's correlation marker, when Switchboard wrote it. */
  marker?: string;
  /** Occupies its time (not cancelled, not a no-show). */
  active: boolean;
  providerId: number;
  patientId: number;
  start: Date;
  end: Date;
  /** FHIR records systems: how many Slots the appointment references. */
  slotReferences?: number;
}

/** What a front-desk call answered: its HTTP status (or how it ended) and the new appointment's id. */
export interface FrontDeskAnswer {
  status: number | 'network-error';
  upstreamId?: string;
}

export interface CampaignRecords {
  readonly kind: RecordsKind;
  /** The practice the records system was seeded with: providers, patients, templates, appointment types. */
  readonly practice: SimFirmData;
  /** The `connector` block of the campaign tenant's configuration. */
  connector(upstreamTimeoutMs: number): Record<string, unknown>;
  /** The tenant's sync and booking horizon, when the campaign limits it. */
  readonly horizonDays?: number;
  /** Every appointment it holds now, cancelled ones too (ground truth). */
  appointments(): Promise<UpstreamAppointment[]>;
  /** The front desk books a follow-up through the records system's own API. */
  frontDeskBook(booking: {
    providerId: number;
    locationId: number;
    patientId: number;
    start: Date;
    minutes: number;
  }): Promise<FrontDeskAnswer>;
  /** The front desk cancels one of its appointments. */
  frontDeskCancel(upstreamId: string): Promise<FrontDeskAnswer>;
  setFaults(patch: Partial<SimFaults>): void;
  clearFaults(): void;
  stop(): Promise<void>;
}

export interface RecordsOptions {
  /** How long the front desk waits for the records system before giving up (default 3 s, a person's patience). */
  frontDeskPatienceMs?: number;
}

export function startRecords(kind: RecordsKind, options: RecordsOptions = {}): Promise<CampaignRecords> {
  const patience = options.frontDeskPatienceMs ?? FRONT_DESK_PATIENCE_MS;
  return kind === 'sim' ? startSimRecords(patience) : startFhirRecords(patience, kind === 'fhir-hours');
}

const FOLLOW_UP = 'follow-up';

async function startSimRecords(patienceMs: number): Promise<CampaignRecords> {
  const sim = await startDemoSim({ port: 0 });
  const firmUrl = `${sim.url}/firm/${DEMO_FIRM}`;
  const frontDesk = frontDeskCaller(`${firmUrl}/oauth/token`, 'application/json', patienceMs);
  const practice = sim.server.state(DEMO_FIRM);
  const followUp = practice.appointmentTypes.find((t) => t.code === FOLLOW_UP)?.id as number;
  return {
    kind: 'sim',
    practice,
    connector: (timeoutMs) => ({
      kind: 'sim',
      baseUrl: sim.url,
      firm: DEMO_FIRM,
      username: DEMO_CREDENTIALS.username,
      password: DEMO_CREDENTIALS.password,
      timeoutMs,
    }),
    appointments: () =>
      Promise.resolve(
        sim.server.state(DEMO_FIRM).appointments.map((a) => {
          const start = wallTimeToInstant(a.start, PRACTICE_ZONE);
          return {
            id: String(a.id),
            ...(a.externalRef?.startsWith(MARKER_PREFIX) ? { marker: a.externalRef } : {}),
            active: a.status !== 'cancelled' && a.status !== 'no-show',
            providerId: a.providerId,
            patientId: a.patientId,
            start,
            end: new Date(start.getTime() + a.durationMinutes * 60_000),
          };
        }),
      ),
    async frontDeskBook(b) {
      const answer = await frontDesk.call<{ id: number }>('POST', `${firmUrl}/api/appointments`, {
        patientId: b.patientId,
        providerId: b.providerId,
        locationId: b.locationId,
        appointmentTypeId: followUp,
        start: instantToWallTime(b.start, PRACTICE_ZONE),
        durationMinutes: b.minutes,
        notes: 'front desk (campaign)',
      });
      return { status: answer.status, ...(answer.body?.id ? { upstreamId: String(answer.body.id) } : {}) };
    },
    async frontDeskCancel(upstreamId) {
      const answer = await frontDesk.call('POST', `${firmUrl}/api/appointments/${upstreamId}/cancel`, {
        reason: 'front desk (campaign)',
      });
      return { status: answer.status };
    },
    setFaults: (patch) => void sim.server.faults.set(patch),
    clearFaults: () => void sim.server.faults.clear(),
    stop: () => sim.stop(),
  };
}

async function startFhirRecords(patienceMs: number, noSlots: boolean): Promise<CampaignRecords> {
  const sim = await startDemoFhirSim({ port: 0 });
  if (noSlots) sim.server.quirks.set({ noSlots });
  const base = sim.server.fhirBase(DEMO_FIRM);
  const frontDesk = frontDeskCaller(sim.server.tokenUrl(DEMO_FIRM), 'application/fhir+json', patienceMs);
  const typeSystem = `https://fhir-sim.example/${DEMO_FIRM}/CodeSystem/appointment-type`;
  const followUp = sim.practice.appointmentTypes.find((t) => t.code === FOLLOW_UP);
  const reference = (a: Appointment, type: string) =>
    Number(
      a.participant
        .map((p) => p.actor?.reference ?? '')
        .find((r) => r.startsWith(`${type}/`))
        ?.slice(type.length + 1),
    );
  return {
    kind: noSlots ? 'fhir-hours' : 'fhir',
    practice: sim.practice,
    // The campaign books within the next week: a two-week horizon (the hot window) keeps every Slot search of the
    // short-timeout campaign tenant small. The whole 60 days the simulator publishes take Slot searches (it scans its
    // memory for each) past the 1.2 s call time-out on a loaded machine, so the tenant would never become ready.
    horizonDays: 14,
    // The practice's hours, as the demo configures them: per-window type rules, and the free time without Slots.
    connector: (timeoutMs) => ({
      ...demoFhirTenant(sim.url, { hours: sim.practice, availability: noSlots ? 'hours' : 'slots' })
        .connector,
      timeoutMs,
    }),
    async appointments() {
      const all = await sim.server
        .repository(DEMO_FIRM)
        .searchResources<Appointment>({ resourceType: 'Appointment', count: 1_000_000 });
      return all.map((a) => {
        const marker = a.identifier?.find((i) => i.value?.startsWith(MARKER_PREFIX))?.value;
        return {
          id: a.id as string,
          ...(marker ? { marker } : {}),
          active: !['cancelled', 'noshow', 'entered-in-error'].includes(a.status),
          providerId: reference(a, 'Practitioner'),
          patientId: reference(a, 'Patient'),
          start: new Date(a.start as string),
          end: new Date(a.end as string),
          slotReferences: a.slot?.length ?? 0,
        };
      });
    },
    async frontDeskBook(b) {
      const answer = await frontDesk.call<Appointment>('POST', `${base}/Appointment`, {
        resourceType: 'Appointment',
        status: 'booked',
        appointmentType: { coding: [{ system: typeSystem, code: followUp?.code ?? FOLLOW_UP }] },
        start: b.start.toISOString(),
        end: new Date(b.start.getTime() + b.minutes * 60_000).toISOString(),
        comment: 'front desk (campaign)',
        participant: [
          { actor: { reference: `Patient/${b.patientId}` }, status: 'accepted' },
          { actor: { reference: `Practitioner/${b.providerId}` }, status: 'accepted' },
          { actor: { reference: `Location/${b.locationId}` }, status: 'accepted' },
        ],
      });
      return { status: answer.status, ...(answer.body?.id ? { upstreamId: answer.body.id } : {}) };
    },
    async frontDeskCancel(upstreamId) {
      const current = await frontDesk.call<Appointment>('GET', `${base}/Appointment/${upstreamId}`);
      if (current.status !== 200 || !current.body) return { status: current.status };
      const { meta: _meta, ...appointment } = current.body;
      const answer = await frontDesk.call('PUT', `${base}/Appointment/${upstreamId}`, {
        ...appointment,
        status: 'cancelled',
      });
      return { status: answer.status };
    },
    setFaults: (patch) => void sim.server.faults.set(patch),
    clearFaults: () => void sim.server.faults.clear(),
    stop: () => sim.stop(),
  };
}

/** Calls as the front desk: the password grant, a token kept until a 401, and a person's patience. */
function frontDeskCaller(tokenUrl: string, contentType: string, patienceMs: number) {
  let token: string | undefined;
  const send = async <T>(
    method: string,
    url: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<{ status: number | 'network-error'; body?: T }> => {
    try {
      const response = await fetch(url, {
        method,
        headers,
        body: body instanceof URLSearchParams ? body : body === undefined ? undefined : JSON.stringify(body),
        // The records system may hang (a time-out fault): the front desk gives up, as a person would.
        signal: AbortSignal.timeout(patienceMs),
      });
      const text = await response.text();
      return { status: response.status, body: text ? (JSON.parse(text) as T) : undefined };
    } catch {
      return { status: 'network-error' };
    }
  };
  return {
    async call<T = unknown>(
      method: string,
      url: string,
      body?: unknown,
    ): Promise<{ status: number | 'network-error'; body?: T }> {
      if (!token) {
        const form = new URLSearchParams({ grant_type: 'password', ...DEMO_CREDENTIALS });
        const granted = await send<{ access_token: string }>('POST', tokenUrl, form, {});
        if (granted.status !== 200 || !granted.body) return { status: granted.status };
        token = granted.body.access_token;
      }
      const answer = await send<T>(method, url, body, {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': contentType }),
      });
      if (answer.status === 401) token = undefined;
      return answer;
    },
  };
}
