/**
 * What the scale-out suite and benchmark ask of a cluster's instances over HTTP: readiness and the lease holder,
 * FHIR calls with the demo token, and the calls the simulated records system received in a window aligned on the
 * sync schedule.
 */
import type { Appointment } from '@medplum/fhirtypes';
import type { RunningSim } from '../../../src/sim/demo-sim.js';
import type { SimCallCounts } from '../../../src/sim/sim-call-counter.js';
import { eventually, type ClusterInstance } from './cluster.js';

const TOKEN = 'demo-token';
export const FIRM = 'riverside';

export interface Readiness {
  ready: boolean;
  instance: string;
  tenants: { demo: { ready: boolean; syncLeaseHolder: string | null } };
}

/** The demo's operator: lease holders are operator detail (issue 15), the open /readyz names no tenant. */
const OPERATOR = { authorization: 'Bearer demo-operator-token' };

export async function readyz(instance: ClusterInstance): Promise<{ status: number; body: Readiness }> {
  const res = await fetch(`${instance.url}/readyz`, { headers: OPERATOR });
  return { status: res.status, body: (await res.json()) as Readiness };
}

/** The operator console's HTML as the demo operator sees it. */
export async function statusPage(instance: ClusterInstance): Promise<string> {
  return (await fetch(`${instance.url}/status`, { headers: OPERATOR })).text();
}

export async function fhir<T>(
  instance: ClusterInstance,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(`${instance.url}/fhir/demo/${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string>) },
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
}

/**
 * A follow-up Appointment for `POST Appointment`: `patientId` with `practitioner` (a `Practitioner/…` reference) in
 * the Slot `slotId`.
 */
export function followUpBooking(
  slotId: string,
  patientId: string,
  practitioner: string | undefined,
): Appointment {
  return {
    resourceType: 'Appointment',
    status: 'booked',
    slot: [{ reference: `Slot/${slotId}` }],
    appointmentType: {
      coding: [{ system: 'urn:switchboard:demo:appointment-type', code: 'follow-up' }],
    },
    participant: [
      { actor: { reference: `Patient/${patientId}` }, status: 'accepted' },
      { actor: { reference: practitioner }, status: 'accepted' },
    ],
  };
}

/**
 * Subscribes `endpoint` to `topic` (id-only payloads) through `instance`'s facade and waits until the subscription is
 * active after its handshake; its id.
 */
export async function subscribe(instance: ClusterInstance, topic: string, endpoint: string): Promise<string> {
  const created = await fhir<{ id: string }>(instance, 'Subscription', {
    method: 'POST',
    headers: { 'Content-Type': 'application/fhir+json' },
    body: JSON.stringify({
      resourceType: 'Subscription',
      status: 'requested',
      reason: 'scale-out test',
      criteria: `https://switchboard.health/fhir/SubscriptionTopic/${topic}`,
      channel: {
        type: 'rest-hook',
        endpoint,
        payload: 'application/fhir+json',
        _payload: {
          extension: [
            {
              url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content',
              valueCode: 'id-only',
            },
          ],
        },
      },
    }),
  });
  if (created.status !== 201) throw new Error(`Subscription refused: ${JSON.stringify(created.body)}`);
  await eventually(async () => {
    const sub = await fhir<{ status: string }>(instance, `Subscription/${created.body.id}`);
    return sub.body.status === 'active' ? true : undefined;
  }, 'the subscription is active after its handshake');
  return created.body.id;
}

/** Every live instance answers /readyz 200 and they all name the same live holder of the demo tenant's lease. */
export async function agreedHolder(
  instances: readonly ClusterInstance[],
  expected?: string,
): Promise<string> {
  return eventually(async () => {
    const reports = await Promise.all(instances.map(readyz));
    const holders = new Set(reports.map((r) => r.body.tenants.demo.syncLeaseHolder));
    const holder = reports[0]?.body.tenants.demo.syncLeaseHolder;
    const ok =
      reports.every((r) => r.status === 200) &&
      holders.size === 1 &&
      typeof holder === 'string' &&
      instances.some((i) => i.id === holder) &&
      (expected === undefined || holder === expected);
    return ok ? holder : undefined;
  }, 'every instance ready, agreeing on one live lease holder');
}

/** Resolves at the next wall-clock second ending in 5 that is not :55 (a 10-s window then holds no minute boundary). */
export async function alignedWindowStart(): Promise<void> {
  for (;;) {
    const now = new Date();
    const s = now.getSeconds();
    if (s % 10 === 5 && s !== 55 && now.getMilliseconds() < 300) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function simCalls(sim: RunningSim): Promise<Record<string, number>> {
  const counts = (await (await fetch(`${sim.url}/_sim/calls`)).json()) as SimCallCounts;
  return counts.firms[FIRM]?.callers ?? {};
}

/**
 * Calls the records system receives in one 10-second window aligned on the sync schedule (five hot-window passes,
 * one patients pass, no minute boundary), in all and per caller (each instance logs in with its own token).
 */
export async function callsInWindow(sim: RunningSim): Promise<{ total: number; callers: string[] }> {
  await alignedWindowStart();
  const before = await simCalls(sim);
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  const after = await simCalls(sim);
  const delta = Object.entries(after)
    .map(([caller, n]) => [caller, n - (before[caller] ?? 0)] as const)
    .filter(([caller, n]) => n > 0 && caller !== 'token-endpoint');
  return { total: delta.reduce((a, [, n]) => a + n, 0), callers: delta.map(([caller]) => caller) };
}
