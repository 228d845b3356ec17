/**
 * The world a booking fault campaign runs in (issue 10; reliability.md §1.2 "Jepsen-style testing"): a demo records
 * system on its own port — the proprietary simulator or the FHIR one (issue 12; campaign-records.ts) — a whole
 * Switchboard over real HTTP with a store of either dialect (or several instances on one PostgreSQL, issue 11:
 * campaign-switchboards.ts), several agent clients (each its own token, as separate agent platforms would be), and
 * the front desk acting through the records system's own API. The records system's memory is the ground truth the
 * invariants are checked against.
 */
import type { Appointment, Bundle, Patient, Practitioner, Slot } from '@medplum/fhirtypes';
import { instantToWallTime, wallTimeToInstant } from '../../../src/wall-time.js';
import {
  PRACTICE_ZONE,
  startRecords,
  type CampaignRecords,
  type RecordsKind,
  type UpstreamAppointment,
} from './campaign-records.js';
import { startSwitchboards, type ClusterPlan } from './campaign-switchboards.js';

export const CAMPAIGN_TENANT = 'demo';
export { PRACTICE_ZONE };
const AGENT_PATIENCE_MS = 30_000;
export const TYPE_SYSTEM = `urn:switchboard:${CAMPAIGN_TENANT}:appointment-type`;

/** What an HTTP call answered: a status and a parsed body, or how it ended without one. */
export interface HttpAnswer<T = unknown> {
  status: number | 'aborted' | 'network-error';
  headers?: Headers;
  body?: T;
}

/** A practitioner of the demo practice, known by both its FHIR id and the records system's provider id. */
export interface CampaignPractitioner {
  fhirId: string;
  providerId: number;
}

/** A patient of the demo practice, known by both ids. */
export interface CampaignPatient {
  fhirId: string;
  simId: number;
}

export interface CampaignWorld {
  /** The records system: ground truth, front desk, faults, the practice it holds. */
  readonly records: CampaignRecords;
  /** One bearer token per agent client. */
  readonly tokens: readonly string[];
  /** A FHIR call to `/fhir/demo/{path}`; never throws for an HTTP answer. */
  fhir<T = unknown>(
    token: string,
    method: string,
    path: string,
    options?: {
      body?: unknown;
      headers?: Record<string, string>;
      contentType?: string;
      signal?: AbortSignal;
    },
  ): Promise<HttpAnswer<T>>;
  /** Several instances only: one killed with SIGKILL and replaced (see campaign-switchboards.ts). */
  disrupt?(pick: (count: number) => number): Promise<string>;
  setFaults(patch: Parameters<CampaignRecords['setFaults']>[0]): void;
  clearFaults(): void;
  /** The records system's appointments now (ground truth). */
  upstreamAppointments(): Promise<UpstreamAppointment[]>;
  practitioners(): Promise<CampaignPractitioner[]>;
  patients(count: number): Promise<CampaignPatient[]>;
  /** Free slots of a practitioner and appointment type between two instants, as the facade offers them. */
  freeSlots(practitioner: CampaignPractitioner, typeCode: string, from: Date, to: Date): Promise<Slot[]>;
  wall(instant: Date): string;
  instant(wall: string): Date;
  close(): Promise<void>;
}

/**
 * Boots the records system (`records`, default the proprietary simulator) and Switchboard on port 0: one app in
 * this process on `databaseUrl` (a SQLite file path or a PostgreSQL URL), or, with `cluster`, several instances as
 * child processes on a fresh PostgreSQL database.
 */
export async function startCampaignWorld(options: {
  databaseUrl?: string;
  agents: number;
  /** Per-call timeout towards the records system: short, so time-outs happen within a campaign. */
  upstreamTimeoutMs: number;
  cluster?: ClusterPlan;
  records?: RecordsKind;
  /** More top-level configuration (`webhooks`, `secretKeyFile`: the webhook suites over both connectors). */
  config?: Record<string, unknown>;
  /** How long the front desk waits for the records system (campaign-records.ts). */
  frontDeskPatienceMs?: number;
  /** More of the tenant's `booking` settings (`responseDeadlineMs`). */
  booking?: Record<string, unknown>;
}): Promise<CampaignWorld> {
  const records = await startRecords(options.records ?? 'sim', {
    frontDeskPatienceMs: options.frontDeskPatienceMs,
  });
  const tokens = Array.from({ length: options.agents }, (_, i) => `campaign-agent-token-${i}`);
  const config = {
    ...options.config,
    logLevel: 'silent',
    tenants: [
      {
        id: CAMPAIGN_TENANT,
        name: 'Riverside Family Medicine',
        connector: records.connector(options.upstreamTimeoutMs),
        sync: {
          hotIntervalSeconds: 1,
          warmIntervalSeconds: 30,
          patientsIntervalSeconds: 5,
          ...(records.horizonDays ? { horizonDays: records.horizonDays } : {}),
        },
        booking: {
          ...(records.horizonDays ? { horizonDays: records.horizonDays } : {}),
          ...options.booking,
        },
      },
    ],
    clients: tokens.map((token, i) => ({
      id: `agent-${i}`,
      token,
      scopes: ['system/*.cruds'],
      tenants: [CAMPAIGN_TENANT],
    })),
  };
  const switchboards = await startSwitchboards(config, options.databaseUrl ?? '', options.cluster).catch(
    async (err: unknown) => {
      await records.stop();
      throw err;
    },
  );
  const fetchAnswer = async <T>(url: string, init: RequestInit): Promise<HttpAnswer<T>> => {
    try {
      const response = await fetch(url, init);
      const text = await response.text();
      return {
        status: response.status,
        headers: response.headers,
        body: (text ? (JSON.parse(text) as T) : undefined) as T,
      };
    } catch {
      if (init.signal?.aborted) return { status: 'aborted' };
      return { status: 'network-error' };
    }
  };

  const world: CampaignWorld = {
    records,
    tokens,
    ...(switchboards.disrupt ? { disrupt: switchboards.disrupt } : {}),
    fhir(token, method, path, o = {}) {
      return fetchAnswer(`${switchboards.next()}/fhir/${CAMPAIGN_TENANT}/${path}`, {
        method,
        // An agent's platform gives up at some point; no campaign step may wait forever.
        signal: o.signal ?? AbortSignal.timeout(AGENT_PATIENCE_MS),
        headers: {
          authorization: `Bearer ${token}`,
          ...(o.body === undefined ? {} : { 'content-type': o.contentType ?? 'application/fhir+json' }),
          ...o.headers,
        },
        body: o.body === undefined ? undefined : JSON.stringify(o.body),
      });
    },
    setFaults: (patch) => records.setFaults(patch),
    clearFaults: () => records.clearFaults(),
    upstreamAppointments: () => records.appointments(),
    async practitioners() {
      const state = records.practice;
      const answer = await world.fhir<Bundle<Practitioner>>(
        tokens[0] as string,
        'GET',
        'Practitioner?_count=50',
      );
      return (answer.body?.entry ?? []).flatMap((e) => {
        const npi = e.resource?.identifier?.find((i) => i.system?.endsWith('us-npi'))?.value;
        const provider = state.providers.find((p) => p.npi === npi);
        return provider && e.resource?.id ? [{ fhirId: e.resource.id, providerId: provider.id }] : [];
      });
    },
    async patients(count) {
      const state = records.practice;
      const found: CampaignPatient[] = [];
      let path: string | undefined = 'Patient?_count=100';
      while (path && found.length < count) {
        const answer: HttpAnswer<Bundle<Patient>> = await world.fhir(tokens[0] as string, 'GET', path);
        for (const entry of answer.body?.entry ?? []) {
          const mrn = entry.resource?.identifier?.[0]?.value;
          const patient = state.patients.find((p) => p.mrn === mrn);
          if (patient && entry.resource?.id) found.push({ fhirId: entry.resource.id, simId: patient.id });
        }
        const next = answer.body?.link?.find((l) => l.relation === 'next')?.url;
        path = next?.slice(next.indexOf(`/fhir/${CAMPAIGN_TENANT}/`) + `/fhir/${CAMPAIGN_TENANT}/`.length);
      }
      return found.slice(0, count);
    },
    async freeSlots(practitioner, typeCode, from, to) {
      const query = new URLSearchParams([
        ['practitioner', practitioner.fhirId],
        ['service-type', typeCode],
        ['start', `ge${from.toISOString()}`],
        ['start', `lt${to.toISOString()}`],
        ['status', 'free'],
        ['_count', '100'],
      ]);
      const answer = await world.fhir<Bundle<Slot>>(tokens[0] as string, 'GET', `Slot?${query}`);
      return (answer.body?.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
    },
    wall: (instant) => instantToWallTime(instant, PRACTICE_ZONE),
    instant: (wall) => wallTimeToInstant(wall, PRACTICE_ZONE),
    async close() {
      await switchboards.close();
      await records.stop();
    },
  };
  return world;
}

/** The appointment an answer carries, when it carries one. */
export function appointmentOf(answer: HttpAnswer): Appointment | undefined {
  const body = answer.body as Appointment | undefined;
  return body?.resourceType === 'Appointment' ? body : undefined;
}

/** The Switchboard code of an OperationOutcome answer (`slot-taken`, `booking-pending`, …). */
export function detailCodeOf(answer: HttpAnswer): string | undefined {
  const outcome = answer.body as { issue?: Array<{ details?: { coding?: Array<{ code?: string }> } }> };
  return outcome?.issue?.[0]?.details?.coding?.[0]?.code;
}
