/**
 * Benchmark: scale-out (issue 11) — Switchboard instances as child processes (`tsx src/main.ts demo` with SIM_URL)
 * on one simulated records system (in this process) and a fresh PostgreSQL database. Needs `TEST_DATABASE_URL`.
 * 1. upstream calls per minute for the demo tenant with 1 and with 3 instances: three 10-s windows aligned on the
 *    sync schedule (no minute boundary inside), counted by the sim (`GET /_sim/calls`); aim: equal within 20 %;
 * 2. Slot-search throughput with 1 and 3 instances: 24 concurrent clients for 10 s, requests spread round-robin;
 * 3. booking throughput with 1 and 3 instances: 40 bookings of distinct free slots, 8 in flight, spread likewise;
 * 4. failover: with three instances, the lease holder is killed with SIGKILL 5 times (a new instance replaces it
 *    each time); failover = kill → every survivor's `/readyz` names a new live holder. Default lease timings (10 s
 *    TTL, 2 s renewal); aim ≤ 15 s.
 * The per-client rate limit is raised (SWITCHBOARD_RATE_PER_SECOND) and the sim's lifted during 2 and 3, so the
 * figures measure Switchboard, not the limits.
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Bundle, Patient, Schedule, Slot } from '@medplum/fhirtypes';
import { startDemoSim, type RunningSim } from '../src/sim/demo-sim.js';
import { createCluster, type Cluster, type ClusterInstance } from '../test/scale-out/support/cluster.js';
import { agreedHolder, callsInWindow, fhir } from '../test/scale-out/support/cluster-probes.js';
import type { Benchmark, BenchmarkResult, Figure } from './benchmark.js';
import { max, median } from './stats.js';

const SEARCH_CLIENTS = 24;
const SEARCH_SECONDS = 10;
const BOOKINGS = 40;
const BOOKINGS_IN_FLIGHT = 8;
const KILLS = 5;

async function upstreamCallsPerMinute(sim: RunningSim): Promise<{ perMinute: number; callers: number }> {
  let total = 0;
  const callers = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const window = await callsInWindow(sim);
    total += window.total;
    for (const c of window.callers) callers.add(c);
  }
  return { perMinute: total * 2, callers: callers.size };
}

async function searchThroughput(
  instances: readonly ClusterInstance[],
): Promise<{ rps: number; errors: number }> {
  const from = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
  const deadline = performance.now() + SEARCH_SECONDS * 1000;
  let done = 0;
  let errors = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: SEARCH_CLIENTS }, async () => {
      while (performance.now() < deadline) {
        const instance = instances[next++ % instances.length] as ClusterInstance;
        const res = await fhir<Bundle>(instance, `Slot?service-type=follow-up&start=ge${from}&_count=20`);
        if (res.status === 200) done++;
        else errors++;
      }
    }),
  );
  return { rps: done / SEARCH_SECONDS, errors };
}

interface Bookable {
  slot: string;
  practitioner: string;
}

async function freeSlots(instance: ClusterInstance, count: number): Promise<Bookable[]> {
  const from = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
  const found = await fhir<Bundle<Slot>>(instance, `Slot?service-type=follow-up&start=ge${from}&_count=200`);
  const practitionerOf = new Map<string, string>();
  const out: Bookable[] = [];
  const taken = new Set<string>();
  for (const entry of found.body.entry ?? []) {
    const slot = entry.resource as Slot;
    const scheduleRef = (slot.schedule.reference ?? '').replace(/^.*Schedule\//, 'Schedule/');
    if (!practitionerOf.has(scheduleRef)) {
      const schedule = await fhir<Schedule>(instance, scheduleRef);
      practitionerOf.set(
        scheduleRef,
        schedule.body.actor.find((a) => a.reference?.includes('Practitioner/'))?.reference ?? '',
      );
    }
    const practitioner = practitionerOf.get(scheduleRef) as string;
    // One booking per practitioner and start: two locations' slots at one time are one practitioner's time.
    const key = `${practitioner}@${slot.start}`;
    if (taken.has(key)) continue;
    taken.add(key);
    out.push({ slot: slot.id as string, practitioner });
    if (out.length === count) break;
  }
  return out;
}

async function bookingThroughput(
  instances: readonly ClusterInstance[],
  slots: readonly Bookable[],
  patients: readonly string[],
): Promise<{ perSecond: number; created: number; other: Record<number, number> }> {
  let next = 0;
  let created = 0;
  const other: Record<number, number> = {};
  const started = performance.now();
  await Promise.all(
    Array.from({ length: BOOKINGS_IN_FLIGHT }, async () => {
      for (;;) {
        const i = next++;
        const target = slots[i];
        if (!target) return;
        const res = await fhir(instances[i % instances.length] as ClusterInstance, 'Appointment', {
          method: 'POST',
          headers: { 'Content-Type': 'application/fhir+json' },
          body: JSON.stringify({
            resourceType: 'Appointment',
            status: 'booked',
            slot: [{ reference: `Slot/${target.slot}` }],
            appointmentType: {
              coding: [{ system: 'urn:switchboard:demo:appointment-type', code: 'follow-up' }],
            },
            participant: [
              { actor: { reference: `Patient/${patients[i % patients.length]}` }, status: 'accepted' },
              { actor: { reference: target.practitioner }, status: 'accepted' },
            ],
          }),
        });
        if (res.status === 201) created++;
        else other[res.status] = (other[res.status] ?? 0) + 1;
      }
    }),
  );
  return { perSecond: created / ((performance.now() - started) / 1000), created, other };
}

async function failoverSeconds(cluster: Cluster, log: (line: string) => void): Promise<number[]> {
  const samples: number[] = [];
  for (let k = 0; k < KILLS; k++) {
    const live = cluster.instances.filter((i) => i.alive());
    const holderId = await agreedHolder(live);
    const holder = live.find((i) => i.id === holderId) as ClusterInstance;
    const killedAt = performance.now();
    await holder.kill9();
    const survivors = cluster.instances.filter((i) => i.alive());
    const next = await agreedHolder(survivors);
    const seconds = (performance.now() - killedAt) / 1000;
    samples.push(seconds);
    log(`kill ${k + 1}: ${holderId} → ${next} in ${seconds.toFixed(1)} s`);
    await cluster.start();
  }
  return samples;
}

export const benchmark: Benchmark = {
  name: 'scale-out',
  title: 'Scale-out: one poller per tenant, throughput and failover with 1 and 3 instances on PostgreSQL',
  async run(log): Promise<BenchmarkResult> {
    const adminUrl = process.env.TEST_DATABASE_URL;
    if (!adminUrl) throw new Error('scale-out needs PostgreSQL: set TEST_DATABASE_URL');
    const sim = await startDemoSim({ port: 0 });
    // Measured with the shared limiter in place, but high enough not to be what is measured.
    const cluster = await createCluster({
      adminUrl,
      simUrl: sim.url,
      leaseTtlMs: 10_000,
      leaseRenewMs: 2_000,
      env: { SWITCHBOARD_RATE_PER_SECOND: '100000', LOG_LEVEL: 'warn' },
    });
    try {
      const first = await cluster.start();
      await agreedHolder([first]);
      log('1 instance ready; counting upstream calls');
      const calls1 = await upstreamCallsPerMinute(sim);
      sim.server.faults.set({ rateLimitPerMinute: 1_000_000 });
      const search1 = await searchThroughput([first]);
      const slots = await freeSlots(first, BOOKINGS * 2);
      const patientBundle = await fhir<Bundle<Patient>>(first, `Patient?_count=${BOOKINGS * 2}`);
      const patients = (patientBundle.body.entry ?? []).map((e) => e.resource?.id as string);
      const book1 = await bookingThroughput([first], slots.slice(0, BOOKINGS), patients.slice(0, BOOKINGS));
      log(`1 instance: search ${search1.rps.toFixed(0)} req/s, booking ${book1.perSecond.toFixed(1)}/s`);
      sim.server.faults.clear();

      await Promise.all([cluster.start(), cluster.start()]);
      const three = cluster.instances.filter((i) => i.alive());
      await agreedHolder(three);
      // Let a hand-over to the tenant's rendezvous owner settle before counting.
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      await agreedHolder(three);
      log('3 instances ready; counting upstream calls');
      const calls3 = await upstreamCallsPerMinute(sim);
      sim.server.faults.set({ rateLimitPerMinute: 1_000_000 });
      const search3 = await searchThroughput(three);
      const book3 = await bookingThroughput(three, slots.slice(BOOKINGS), patients.slice(BOOKINGS));
      log(`3 instances: search ${search3.rps.toFixed(0)} req/s, booking ${book3.perSecond.toFixed(1)}/s`);
      sim.server.faults.clear();

      const failovers = await failoverSeconds(cluster, log);
      const ratio = calls3.perMinute / calls1.perMinute;
      const figures: Figure[] = [
        { figure: 'upstream calls/min, 1 instance', value: String(calls1.perMinute) },
        {
          figure: 'upstream calls/min, 3 instances',
          value: `${calls3.perMinute} (${calls3.callers} caller${calls3.callers === 1 ? '' : 's'})`,
          aim: 'within 20 % of 1 instance',
          met: Math.abs(ratio - 1) <= 0.2,
        },
        {
          figure: 'Slot search, 1 instance',
          value: `${search1.rps.toFixed(0)} req/s (${search1.errors} errors)`,
        },
        {
          figure: 'Slot search, 3 instances',
          value: `${search3.rps.toFixed(0)} req/s (${search3.errors} errors)`,
        },
        {
          figure: 'bookings, 1 instance',
          value: `${book1.perSecond.toFixed(1)}/s (${book1.created}/${BOOKINGS} created${describeOther(book1.other)})`,
        },
        {
          figure: 'bookings, 3 instances',
          value: `${book3.perSecond.toFixed(1)}/s (${book3.created}/${BOOKINGS} created${describeOther(book3.other)})`,
        },
        {
          figure: `failover after kill -9, p50 / max over ${KILLS}`,
          value: `${median(failovers).toFixed(1)} s / ${max(failovers).toFixed(1)} s`,
          aim: '≤ 15 s',
          met: max(failovers) <= 15,
        },
      ];
      return {
        tables: [{ caption: 'PostgreSQL, instances as child processes on this machine', figures }],
        noise:
          'one run; calls are counted over three aligned 10-s windows per setting; throughput over one 10-s run and one batch of bookings; failover over 5 kills',
        notes: [
          `Every instance, the simulator and PostgreSQL share this machine's ${availableParallelism()} cores: three instances cannot be much faster than one here; the figures show that the upstream work is not multiplied and what spreading costs.`,
          'Failover = SIGKILL of the lease holder until every surviving instance names a new live holder on /readyz; it is bounded by the lease TTL (10 s) plus one renewal round (2 s).',
        ],
      };
    } finally {
      await cluster.dispose();
      await sim.stop();
    }
  },
};

function describeOther(other: Record<number, number>): string {
  const entries = Object.entries(other);
  return entries.length === 0 ? '' : `; ${entries.map(([status, n]) => `${n} × ${status}`).join(', ')}`;
}
