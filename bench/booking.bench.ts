/**
 * Benchmark: booking through the saga (DESIGN.md section 4: validate → hold → live re-check → write → read back →
 * commit) against the simulated records system over HTTP — its latency, its overhead over the bare write, and
 * whether contention ever books a time twice. Aims: 200 concurrent requests over 20 slots → exactly 20 bookings and
 * 0 duplicates in the records system.
 *
 * Method. The demo sim on port 0 (its rate limit lifted, see the notes), a fresh SQLite store synced once with the
 * demo tenant's settings, and a `BookingService` with the store's booking rules and the tenant's sim connector,
 * as the app wires them. Free follow-up slots (15 min) are found with `searchSlots` over the next four weeks and
 * handed out so that no two bookings overlap (per practitioner, across locations). Then, in one run:
 * 1. latency: 60 bookings one at a time, each followed by a direct `POST /appointments` to the sim at another free
 *    time (a cached token, no checks: the bare write);
 * 2. contention: 200 `book` calls started together over 20 slots (10 callers per slot, different patients);
 *    successes, and the sim's own appointments at those times;
 * 3. throughput: 100 bookings of distinct slots by 20 workers (20 in flight);
 * 4. the facade's `POST /fhir/demo/Appointment`, when the running code has it: 20 bookings one at a time through
 *    `createApp` (the demo configuration) against the same sim;
 * 5. time to a definite answer without and with faults, and the fault campaign at ~1,000 operations
 *    (booking-answers.ts).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Schedule, Slot } from '@medplum/fhirtypes';
import { Registry } from 'prom-client';
import { createApp } from '../src/app.js';
import { searchSlots } from '../src/availability/availability-service.js';
import { BookingService } from '../src/booking/booking-service.js';
import type { BookingOutcome, BookingRequest } from '../src/booking/booking-types.js';
import { createStoreBookingRules } from '../src/booking/store-booking-rules.js';
import { simSettingsOf, type TenantConfig } from '../src/config.js';
import { demoConfig } from '../src/demo-config.js';
import { SimConnector } from '../src/connectors/sim/sim-connector.js';
import { createLogger } from '../src/logger.js';
import { DEMO_CREDENTIALS, DEMO_FIRM, startDemoSim, type RunningSim } from '../src/sim/demo-sim.js';
import type { SimFirmData } from '../src/sim/sim-types.js';
import { openStore, type Store } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { readResource } from '../src/store/resource-store.js';
import { fhirIdsFor, upstreamIdsFor } from '../src/store/upstream-ids.js';
import { instantToWallTime } from '../src/wall-time.js';
import { createSyncEngine } from '../sync/sync-engine.js';
import type { Benchmark, BenchmarkResult, Figure, FigureTable } from './benchmark.js';
import { sqliteDatabase } from './bench-stores.js';
import { max, median, percentile } from './stats.js';
import { measureBookingAnswers } from './booking-answers.js';

const LATENCY_BOOKINGS = 60;
const CONTENTION_SLOTS = 20;
const CONTENTION_REQUESTS = 200;
const THROUGHPUT_BOOKINGS = 100;
const THROUGHPUT_IN_FLIGHT = 20;
const HTTP_BOOKINGS = 20;
const SEARCH_DAYS = 28;
const TYPE_CODE = 'follow-up';
const PRACTICE_ZONE = 'America/New_York';
/** No phase may run longer than this. */
const PHASE_TIMEOUT_MS = 60_000;
const SIM_DEFAULT_CALLS_PER_MINUTE = 1250;
const DEMO_TOKEN = 'demo-token';

/** A free slot, as booking needs it in FHIR ids and the sim needs it in its own. */
interface FreeTime {
  slot: Slot;
  practitionerId: string;
  locationId: string;
  start: Date;
  minutes: number;
  upstream: { providerId: number; locationId: number; wall: string };
}

interface Ids {
  practitioners: Map<string, number>;
  locations: Map<string, number>;
  patients: { fhirId: string; upstreamId: number }[];
  typeId: number;
}

/** Counts the calls this process makes to the records system (the connector uses the global fetch). */
function countUpstreamCalls(simUrl: string) {
  const original = globalThis.fetch;
  let calls = 0;
  let counting = false;
  globalThis.fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (counting && url.startsWith(simUrl)) calls++;
    return original(input, init);
  };
  return {
    async during<T>(fn: () => Promise<T>): Promise<T> {
      counting = true;
      try {
        return await fn();
      } finally {
        counting = false;
      }
    },
    get calls() {
      return calls;
    },
    restore() {
      globalThis.fetch = original;
    },
  };
}

async function resolveIds(store: Store, tenantId: string, firm: SimFirmData): Promise<Ids> {
  const invert = async (type: 'Practitioner' | 'Location', ids: number[]) => {
    const map = await fhirIdsFor(store, tenantId, type, ids.map(String));
    return new Map([...map].map(([upstream, fhir]) => [fhir, Number(upstream)]));
  };
  // Patients with visits in the past year: established patients, as follow-ups are booked for.
  const seen = new Set(firm.appointments.map((a) => a.patientId));
  const patientIds = firm.patients.filter((p) => seen.has(p.id)).map((p) => String(p.id));
  const patientMap = await fhirIdsFor(store, tenantId, 'Patient', patientIds);
  const type = firm.appointmentTypes.find((t) => t.code === TYPE_CODE);
  if (!type) throw new Error(`the demo practice has no ${TYPE_CODE} type`);
  return {
    practitioners: await invert(
      'Practitioner',
      firm.providers.map((p) => p.id),
    ),
    locations: await invert(
      'Location',
      firm.locations.map((l) => l.id),
    ),
    patients: [...patientMap].map(([upstream, fhirId]) => ({ fhirId, upstreamId: Number(upstream) })),
    typeId: type.id,
  };
}

/** Free follow-up slots over the search window, none overlapping another of the same practitioner. */
async function freeTimes(store: Store, tenant: TenantConfig, ids: Ids, now: Date): Promise<FreeTime[]> {
  const slots = await searchSlots(store, tenant, {
    from: now,
    to: new Date(now.getTime() + SEARCH_DAYS * 86_400_000),
    serviceTypeCodes: [TYPE_CODE],
    now,
  });
  const actors = new Map<string, { practitionerId: string; locationId: string }>();
  const taken = new Map<string, { start: number; end: number }[]>();
  const out: FreeTime[] = [];
  for (const slot of slots) {
    const scheduleId = slot.schedule.reference?.replace(/^Schedule\//, '') ?? '';
    if (!actors.has(scheduleId)) {
      const schedule = (await readResource(store, tenant.id, 'Schedule', scheduleId))?.resource as
        Schedule | undefined;
      const refs = (schedule?.actor ?? []).map((a) => a.reference ?? '');
      const practitionerId = refs.find((r) => r.startsWith('Practitioner/'))?.slice('Practitioner/'.length);
      const locationId = refs.find((r) => r.startsWith('Location/'))?.slice('Location/'.length);
      if (!practitionerId || !locationId) continue;
      actors.set(scheduleId, { practitionerId, locationId });
    }
    const actor = actors.get(scheduleId);
    if (!actor) continue;
    const start = Date.parse(slot.start);
    const end = Date.parse(slot.end);
    const mine = taken.get(actor.practitionerId) ?? [];
    if (mine.some((t) => t.start < end && start < t.end)) continue;
    mine.push({ start, end });
    taken.set(actor.practitionerId, mine);
    const providerId = ids.practitioners.get(actor.practitionerId);
    const locationId = ids.locations.get(actor.locationId);
    if (providerId === undefined || locationId === undefined) continue;
    out.push({
      slot,
      ...actor,
      start: new Date(start),
      minutes: Math.round((end - start) / 60_000),
      upstream: { providerId, locationId, wall: instantToWallTime(new Date(start), PRACTICE_ZONE) },
    });
  }
  return out;
}

/** Spreads `list` so consecutive picks come from different practitioners and days (less contention by accident). */
function interleave(list: FreeTime[]): FreeTime[] {
  const byPractitioner = new Map<string, FreeTime[]>();
  for (const t of list)
    byPractitioner.set(t.practitionerId, [...(byPractitioner.get(t.practitionerId) ?? []), t]);
  const queues = [...byPractitioner.values()];
  const out: FreeTime[] = [];
  for (let i = 0; out.length < list.length; i++) {
    const q = queues[i % queues.length] as FreeTime[];
    const next = q.shift();
    if (next) out.push(next);
  }
  return out;
}

function take(pool: FreeTime[], n: number, what: string): FreeTime[] {
  if (pool.length < n) throw new Error(`not enough free slots for ${what}: ${pool.length} left, ${n} needed`);
  return pool.splice(0, n);
}

const request = (t: FreeTime, patientId: string, comment: string): BookingRequest => ({
  patientId,
  practitionerId: t.practitionerId,
  locationId: t.locationId,
  appointmentTypeCode: TYPE_CODE,
  start: t.start,
  minutes: t.minutes,
  comment,
});

/** The bare write an integration makes without Switchboard: one POST with a token it already holds. */
function directWriter(simUrl: string) {
  const api = `${simUrl}/firm/${DEMO_FIRM}/api`;
  let token: string | undefined;
  return {
    async prepare() {
      const response = await fetch(`${simUrl}/firm/${DEMO_FIRM}/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'password', ...DEMO_CREDENTIALS }),
      });
      if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
      token = ((await response.json()) as { access_token: string }).access_token;
    },
    async post(t: FreeTime, patientId: number, typeId: number): Promise<void> {
      const response = await fetch(`${api}/appointments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token ?? ''}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          patientId,
          providerId: t.upstream.providerId,
          locationId: t.upstream.locationId,
          appointmentTypeId: typeId,
          start: t.upstream.wall,
          durationMinutes: t.minutes,
          notes: 'Booked directly',
        }),
      });
      const text = await response.text();
      if (response.status !== 201) throw new Error(`direct POST answered ${response.status}: ${text}`);
    },
  };
}

async function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} took longer than ${PHASE_TIMEOUT_MS} ms`)),
      PHASE_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function failureCodes(outcomes: readonly BookingOutcome[]): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) if (!o.ok) counts.set(o.code, (counts.get(o.code) ?? 0) + 1);
  return counts.size === 0 ? 'none' : [...counts].map(([code, n]) => `${code}: ${n}`).join(', ');
}

const ms = (v: number) => `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;

interface HttpRoute {
  status: 'absent' | 'measured' | 'failed';
  detail: string;
  latencies?: number[];
}

/** `POST /fhir/demo/Appointment` through the whole app, if the running code serves it. */
async function measureHttpRoute(
  sim: RunningSim,
  patientOffset: number,
  log: (line: string) => void,
): Promise<HttpRoute> {
  const database = await sqliteDatabase('booking_http');
  const base = demoConfig(sim.url, {});
  const app = createApp(
    { ...base, port: 0, databaseUrl: database.url, logLevel: 'silent' },
    { logger: createLogger('silent') },
  );
  try {
    await app.start();
    const deadline = performance.now() + PHASE_TIMEOUT_MS;
    for (;;) {
      const ready = await fetch(`${app.url}/readyz`);
      await ready.arrayBuffer();
      if (ready.status === 200) break;
      if (performance.now() > deadline) return { status: 'failed', detail: 'the app did not become ready' };
      await sleep(100);
    }
    const tenant = app.config.tenants[0] as TenantConfig;
    const appIds = await resolveIds(app.store, tenant.id, sim.server.state(DEMO_FIRM));
    const pool = interleave(await freeTimes(app.store, tenant, appIds, new Date())).slice(-HTTP_BOOKINGS * 3);
    const headers = { authorization: `Bearer ${DEMO_TOKEN}`, 'content-type': 'application/fhir+json' };
    const latencies: number[] = [];
    for (let i = 0; i < HTTP_BOOKINGS; i++) {
      const t = pool[i * 3];
      const patient = appIds.patients[(patientOffset + i) % appIds.patients.length];
      if (!t || !patient) return { status: 'failed', detail: 'not enough free slots left' };
      const body = {
        resourceType: 'Appointment',
        status: 'booked',
        serviceType: [{ coding: [{ code: TYPE_CODE }] }],
        slot: [{ reference: `Slot/${t.slot.id}` }],
        participant: [
          { actor: { reference: `Patient/${patient.fhirId}` }, status: 'accepted' },
          { actor: { reference: `Practitioner/${t.practitionerId}` }, status: 'accepted' },
        ],
      };
      const started = performance.now();
      const response = await fetch(`${app.url}/fhir/demo/Appointment`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
      });
      const text = await response.text();
      const elapsed = performance.now() - started;
      if (i === 0 && (response.status === 404 || response.status === 405)) {
        return {
          status: 'absent',
          detail: `POST /fhir/demo/Appointment answered ${response.status}: ${text.slice(0, 160)}`,
        };
      }
      if (response.status !== 201) {
        return {
          status: 'failed',
          detail: `booking ${i + 1} answered ${response.status}: ${text.slice(0, 300)}`,
        };
      }
      latencies.push(elapsed);
    }
    log(`POST /fhir/demo/Appointment: ${latencies.length} bookings, p50 ${ms(median(latencies))}`);
    return { status: 'measured', detail: '', latencies };
  } finally {
    await app.stop();
    await database.dispose();
  }
}

export const benchmark: Benchmark = {
  name: 'booking',
  title: 'Booking through the saga against the records system over HTTP',
  async run(log): Promise<BenchmarkResult> {
    const saga = await measureSaga(log);
    const answers = await measureBookingAnswers(log);
    return {
      ...saga,
      tables: [...saga.tables, ...answers.tables],
      notes: [...saga.notes, ...answers.notes],
    };
  },
};

/** Parts 1–4 of the method: latency, contention, throughput and the facade's POST. */
async function measureSaga(log: (line: string) => void): Promise<BenchmarkResult> {
  const sim = await startDemoSim();
  sim.server.faults.set({ rateLimitPerMinute: 1_000_000 });
  const tenant = demoConfig(sim.url, {}).tenants[0];
  if (!tenant) throw new Error('the demo configuration has no tenant');
  const database = await sqliteDatabase('booking');
  const store = await openStore(database.url);
  const connector = new SimConnector({ tenantId: tenant.id, settings: simSettingsOf(tenant) });
  const counter = countUpstreamCalls(sim.url);
  const service = new BookingService({
    store,
    tenants: [{ config: tenant, connector }],
    rules: createStoreBookingRules(store),
    logger: createLogger('silent'),
    recoveryIntervalMs: 0,
  });
  try {
    await migrateToLatest(store);
    const engine = createSyncEngine({
      store,
      tenants: [{ config: tenant, connector }],
      logger: createLogger('silent'),
      metrics: new Registry(),
    });
    const syncStarted = performance.now();
    await engine.runOnce();
    await engine.stop();
    log(`demo practice synced once in ${((performance.now() - syncStarted) / 1000).toFixed(1)} s`);

    const firm = sim.server.state(DEMO_FIRM);
    const ids = await resolveIds(store, tenant.id, firm);
    const pool = interleave(await freeTimes(store, tenant, ids, new Date()));
    const poolSize = pool.length;
    log(`${poolSize} non-overlapping free ${TYPE_CODE} slots in the next ${SEARCH_DAYS} days`);
    const patient = (i: number) => ids.patients[i % ids.patients.length] as Ids['patients'][number];
    let patientIndex = 0;

    // 1. Latency, interleaved with the bare write.
    const direct = directWriter(sim.url);
    await direct.prepare();
    const bookTimes = take(pool, LATENCY_BOOKINGS, 'latency');
    const directTimes = take(pool, LATENCY_BOOKINGS, 'direct writes');
    const bookLatencies: number[] = [];
    const directLatencies: number[] = [];
    const latencyOutcomes: BookingOutcome[] = [];
    const callsBefore = counter.calls;
    await withTimeout(
      (async () => {
        for (let i = 0; i < LATENCY_BOOKINGS; i++) {
          const p = patient(patientIndex++);
          let started = performance.now();
          const outcome = await counter.during(() =>
            service.book(tenant.id, request(bookTimes[i] as FreeTime, p.fhirId, `latency ${i}`)),
          );
          bookLatencies.push(performance.now() - started);
          latencyOutcomes.push(outcome);
          started = performance.now();
          await direct.post(directTimes[i] as FreeTime, patient(patientIndex++).upstreamId, ids.typeId);
          directLatencies.push(performance.now() - started);
        }
      })(),
      'the latency phase',
    );
    const callsPerBooking = (counter.calls - callsBefore) / LATENCY_BOOKINGS;
    const latencyOk = latencyOutcomes.filter((o) => o.ok).length;
    log(
      `book: p50 ${ms(median(bookLatencies))}, p99 ${ms(percentile(bookLatencies, 99))} (${latencyOk}/${LATENCY_BOOKINGS} booked; ` +
        `${failureCodes(latencyOutcomes)} failed); direct POST: p50 ${ms(median(directLatencies))}`,
    );

    // 2. Contention: 10 callers per slot, all at once.
    const contended = take(pool, CONTENTION_SLOTS, 'contention');
    const contentionStarted = performance.now();
    const contentionOutcomes = await withTimeout(
      Promise.all(
        Array.from({ length: CONTENTION_REQUESTS }, (_, i) =>
          service.book(
            tenant.id,
            request(
              contended[i % CONTENTION_SLOTS] as FreeTime,
              patient(patientIndex + i).fhirId,
              `contention ${i}`,
            ),
          ),
        ),
      ),
      'the contention phase',
    );
    patientIndex += CONTENTION_REQUESTS;
    const contentionMs = performance.now() - contentionStarted;
    const contentionOk = contentionOutcomes.filter((o) => o.ok).length;
    const upstreamAt = (t: FreeTime, includeCancelled: boolean) =>
      sim.server
        .state(DEMO_FIRM)
        .appointments.filter(
          (a) =>
            a.providerId === t.upstream.providerId &&
            a.start === t.upstream.wall &&
            (includeCancelled || a.status !== 'cancelled'),
        );
    const live = contended.map((t) => upstreamAt(t, false).length);
    const duplicates = live.reduce((n, c) => n + Math.max(0, c - 1), 0);
    const unbooked = live.filter((c) => c === 0).length;
    // Our writes carry the saga's marker; the demo's own cancelled visits at those times do not count.
    const writes = contended.reduce(
      (n, t) => n + upstreamAt(t, true).filter((a) => a.externalRef?.startsWith('switchboard:')).length,
      0,
    );
    const bookedIds = contentionOutcomes.flatMap((o) => (o.ok ? [o.appointment.id ?? ''] : []));
    const storedUpstream = await upstreamIdsFor(store, tenant.id, 'Appointment', bookedIds);
    log(
      `contention: ${contentionOk} of ${CONTENTION_REQUESTS} booked over ${CONTENTION_SLOTS} slots in ${Math.round(contentionMs)} ms; ` +
        `failures ${failureCodes(contentionOutcomes)}; upstream: ${duplicates} duplicates, ${unbooked} slots with none, ${writes} writes`,
    );

    // 3. Throughput, 20 in flight.
    const distinct = take(pool, THROUGHPUT_BOOKINGS, 'throughput');
    const throughputOutcomes: BookingOutcome[] = [];
    let next = 0;
    const throughputStarted = performance.now();
    const throughputDeadline = throughputStarted + PHASE_TIMEOUT_MS;
    await Promise.all(
      Array.from({ length: THROUGHPUT_IN_FLIGHT }, async () => {
        while (next < distinct.length && performance.now() < throughputDeadline) {
          const i = next++;
          throughputOutcomes.push(
            await service.book(
              tenant.id,
              request(distinct[i] as FreeTime, patient(patientIndex + i).fhirId, `throughput ${i}`),
            ),
          );
        }
      }),
    );
    patientIndex += THROUGHPUT_BOOKINGS;
    const throughputSeconds = (performance.now() - throughputStarted) / 1000;
    const throughputOk = throughputOutcomes.filter((o) => o.ok).length;
    log(
      `throughput: ${throughputOk} of ${throughputOutcomes.length} booked in ${throughputSeconds.toFixed(2)} s ` +
        `(${(throughputOk / throughputSeconds).toFixed(1)}/s); failures ${failureCodes(throughputOutcomes)}`,
    );

    // 4. The facade's route, when present.
    const http = await measureHttpRoute(sim, patientIndex, log);
    if (http.status !== 'measured') log(`POST /fhir/demo/Appointment not measured: ${http.detail}`);

    const p50Ratio = median(bookLatencies) / median(directLatencies);
    const figures: Figure[] = [
      {
        figure: `book p50 latency (${LATENCY_BOOKINGS} bookings one at a time)`,
        value: ms(median(bookLatencies)),
      },
      { figure: 'book p99 latency', value: ms(percentile(bookLatencies, 99)) },
      { figure: 'book max latency', value: ms(max(bookLatencies)) },
      {
        figure: 'bookings that succeeded (one at a time)',
        value: `${latencyOk} of ${LATENCY_BOOKINGS}${latencyOk < LATENCY_BOOKINGS ? ` (${failureCodes(latencyOutcomes)})` : ''}`,
        aim: `${LATENCY_BOOKINGS}`,
        met: latencyOk === LATENCY_BOOKINGS,
      },
      {
        figure: `direct sim POST /appointments p50 / p99 (same run, interleaved)`,
        value: `${ms(median(directLatencies))} / ${ms(percentile(directLatencies, 99))}`,
      },
      { figure: 'overhead: book p50 / direct POST p50', value: `${p50Ratio.toFixed(1)}×` },
      {
        figure: 'records-system calls per booking (token refreshes included)',
        value: callsPerBooking.toFixed(1),
      },
      {
        figure: `contention: ${CONTENTION_REQUESTS} concurrent requests over ${CONTENTION_SLOTS} slots — bookings`,
        value: `${contentionOk}`,
        aim: `${CONTENTION_SLOTS}`,
        met: contentionOk === CONTENTION_SLOTS,
      },
      {
        figure: 'contention: duplicates in the records system (live appointments beyond one per slot)',
        value: `${duplicates}`,
        aim: '0',
        met: duplicates === 0,
      },
      {
        figure: 'contention: failures by code',
        value: failureCodes(contentionOutcomes),
      },
      {
        figure: 'contention: slots left unbooked / our writes upstream (compensated ones included)',
        value: `${unbooked} / ${writes}`,
      },
      {
        figure: 'contention: wall time for all 200',
        value: `${Math.round(contentionMs)} ms`,
      },
      {
        figure: `throughput, distinct slots, ${THROUGHPUT_IN_FLIGHT} in flight (${throughputOk} of ${throughputOutcomes.length} booked in ${throughputSeconds.toFixed(2)} s)`,
        value: `${(throughputOk / throughputSeconds).toFixed(1)} bookings/s`,
      },
      {
        figure: 'throughput: failures by code',
        value: failureCodes(throughputOutcomes),
      },
      {
        figure: `at the records system's default limit (${SIM_DEFAULT_CALLS_PER_MINUTE.toLocaleString('en-US')} calls/min)`,
        value: `≤ ${(SIM_DEFAULT_CALLS_PER_MINUTE / 60 / callsPerBooking).toFixed(1)} bookings/s for the whole tenant`,
      },
    ];
    if (http.status === 'measured' && http.latencies) {
      figures.push(
        {
          figure: `POST /fhir/demo/Appointment p50 / p99 (${http.latencies.length} one at a time, whole app)`,
          value: `${ms(median(http.latencies))} / ${ms(percentile(http.latencies, 99))}`,
        },
        {
          figure: 'POST /fhir/demo/Appointment p50 / book p50',
          value: `${(median(http.latencies) / median(bookLatencies)).toFixed(2)}×`,
        },
      );
    } else {
      figures.push({
        figure: 'POST /fhir/demo/Appointment',
        value: http.status === 'absent' ? 'not served by this build' : `failed: ${http.detail}`,
      });
    }
    const table: FigureTable = {
      caption: `SQLite, demo practice (${TYPE_CODE}, 15 min), sim over HTTP on loopback`,
      figures,
    };
    return {
      tables: [table],
      noise:
        `2-core machine; one run; p50 of ${LATENCY_BOOKINGS} bookings (p99 of ${LATENCY_BOOKINGS} is the slowest ` +
        'one or two); booking and the direct POST alternate, so their ratio compares like with like. Sim, store ' +
        'and saga share one Node process.',
      notes: [
        `A booking makes ${callsPerBooking.toFixed(1)} records-system calls (live re-check: appointments and blocks ` +
          'in parallel; the write; the read-back), against one for the direct POST, which checks nothing.',
        `The sim's rate limit (${SIM_DEFAULT_CALLS_PER_MINUTE.toLocaleString('en-US')} calls/min by default) was ` +
          'lifted for the run so the figures show the saga, not the limit; at the default the limit caps the ' +
          'tenant as stated.',
        `The demo tenant's connector allows ${tenant.connector.maxConcurrency} calls in flight and ` +
          `${tenant.connector.maxConcurrency * 4} queued (cockatiel bulkhead); more fail fast as ehr-unavailable.`,
        `Contention: ${CONTENTION_REQUESTS / CONTENTION_SLOTS} callers per slot (different patients), all started ` +
          `in one tick; ${storedUpstream.size} of the ${bookedIds.length} bookings are in the store with their ` +
          "upstream id; duplicates are counted in the sim's own records (`sim.server.state('riverside')`).",
        ...(http.status === 'measured'
          ? []
          : [`POST /fhir/demo/Appointment was not measured: ${http.detail}`]),
      ],
    };
  } finally {
    counter.restore();
    await service.stop();
    await connector.close();
    await sim.stop();
    await store.close();
    await database.dispose();
  }
}
