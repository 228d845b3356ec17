/**
 * The booking benchmark's truthfulness half (issue 10): how long a caller waits for a definite answer, how often it
 * is told `202 booking-pending` first, and the randomized fault campaign at scale with its invariant counts.
 *
 * Method. The campaign world of the test suite (test/support/booking-campaign/): the demo sim and a whole
 * Switchboard (`createApp`, SQLite file) over real HTTP, agents with their own tokens.
 * 1. Time to a definite answer: bookings with an Idempotency-Key, 4 in flight, each over a free follow-up slot of
 *    its own, with the sim at 100 ms ± 50 ms per call and no faults, then under each fault mode. A `202` is
 *    followed by replays of its key every 250 ms until the answer is definite (201, 409, 503 `ehr-unavailable`, …);
 *    the time is from the first request to that answer.
 * 2. The campaign (`runCheckedCampaign`) at ~1,000 operations, then every invariant checked against the sim's records.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SimFaults } from '../src/sim/sim-types.js';
import { isDefinite, toAnswer, type Answer } from '../test/support/booking-campaign/campaign-history.js';
import { bookingBody, slotPool } from '../test/support/booking-campaign/campaign-runner.js';
import { startCampaignWorld, type CampaignWorld } from '../test/support/booking-campaign/campaign-world.js';
import { runCheckedCampaign } from '../test/support/booking-campaign/checked-campaign.js';
import type { Figure, FigureTable } from './benchmark.js';
import { median, percentile } from './stats.js';

const AGENT_TIMEOUT_MS = 2_500;
const BOOKINGS_PER_MODE = 40;
const IN_FLIGHT = 4;
const CAMPAIGN_OPERATIONS = 1_000;
const CAMPAIGN_SEED = 20261206;

const LATENCY: Partial<SimFaults> = { latencyMs: 100, jitterMs: 50 };
const MODES: ReadonlyArray<{ name: string; faults: Partial<SimFaults> }> = [
  { name: 'no faults', faults: LATENCY },
  { name: '25 % errors', faults: { ...LATENCY, errorRate: 0.25 } },
  { name: '15 % time-outs', faults: { ...LATENCY, timeoutRate: 0.15 } },
  { name: '40 % commit-then-fail', faults: { ...LATENCY, commitThenFailRate: 0.4 } },
];

interface ModeResult {
  name: string;
  times: number[];
  pendingFirst: number;
  finals: Map<string, number>;
}

export async function measureBookingAnswers(log: (line: string) => void): Promise<{
  tables: FigureTable[];
  notes: string[];
}> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-bench-answers-'));
  const world = await startCampaignWorld({
    databaseUrl: join(dir, 'store.sqlite'),
    agents: 4,
    upstreamTimeoutMs: 1_200,
  });
  try {
    const results: ModeResult[] = [];
    for (const mode of MODES) {
      log(`time to a definite answer: ${mode.name}`);
      results.push(await measureMode(world, mode.name, mode.faults));
    }
    world.clearFaults();
    const answerTable: FigureTable = {
      caption: 'POST Appointment over HTTP: time to a definite answer (202 followed by key replays)',
      figures: results.flatMap((r) => modeFigures(r)),
    };
    log(`fault campaign: ${CAMPAIGN_OPERATIONS} operations, seed ${CAMPAIGN_SEED}`);
    const campaign = await measureCampaign(log);
    return {
      tables: [answerTable, campaign.table],
      notes: [
        `${BOOKINGS_PER_MODE} bookings per mode, ${IN_FLIGHT} in flight, each with its own slot and patient; the ` +
          `response deadline is the default (2 s), an agent platform's tool time-out is ~${AGENT_TIMEOUT_MS / 1000} s.`,
        "Faults are the sim's own (`POST /_sim/faults`): errors answer 500 before applying, time-outs hang past " +
          "the connector's 1.2 s call time-out, commit-then-fail applies the write and then answers 500.",
        ...campaign.notes,
      ],
    };
  } finally {
    await world.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function measureMode(
  world: CampaignWorld,
  name: string,
  faults: Partial<SimFaults>,
): Promise<ModeResult> {
  world.clearFaults();
  // Every mode books slots of its own: the demo practice has ~60 free follow-up slots in the campaign's 5 days,
  // so the pool looks 30 days ahead (up to 100 slots a practitioner) to leave 40 for each mode.
  const pool = await slotPool(world, await world.practitioners(), { perPractitioner: 100, days: 30 });
  const patients = await world.patients(BOOKINGS_PER_MODE);
  const jobs = pool.slice(0, BOOKINGS_PER_MODE).map((slot, i) => ({ slot, patient: patients[i] }));
  world.setFaults({
    latencyMs: 0,
    jitterMs: 0,
    errorRate: 0,
    timeoutRate: 0,
    commitThenFailRate: 0,
    ...faults,
  });
  const result: ModeResult = { name, times: [], pendingFirst: 0, finals: new Map() };
  let next = 0;
  const worker = async (agent: number) => {
    while (next < jobs.length) {
      const job = jobs[next++];
      if (!job?.patient) continue;
      const key = randomUUID();
      const body = bookingBody(job.slot, job.patient);
      const token = world.tokens[agent] as string;
      const started = performance.now();
      let answer = await post(world, token, body, key);
      if (answer.status === 202) result.pendingFirst++;
      while (!isDefinite(answer) && performance.now() - started < 120_000) {
        await sleep(250);
        answer = await post(world, token, body, key);
      }
      result.times.push(performance.now() - started);
      const label = isDefinite(answer)
        ? `${answer.status}${answer.code ? ` ${answer.code}` : ''}`
        : 'no definite answer in 2 min';
      result.finals.set(label, (result.finals.get(label) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, (_, i) => worker(i)));
  world.clearFaults();
  return result;
}

async function post(world: CampaignWorld, token: string, body: unknown, key: string): Promise<Answer> {
  return toAnswer(
    await world.fhir(token, 'POST', 'Appointment', { body, headers: { 'idempotency-key': key } }),
  );
}

function modeFigures(r: ModeResult): Figure[] {
  const within = r.times.filter((t) => t <= AGENT_TIMEOUT_MS).length;
  const finals = [...r.finals.entries()].map(([label, n]) => `${label} × ${n}`).join(', ');
  return [
    {
      figure: `${r.name}: definite answer p50 / p99`,
      value: `${Math.round(median(r.times))} ms / ${Math.round(percentile(r.times, 99))} ms`,
      ...(r.name === 'no faults'
        ? { aim: `p99 ≤ ${AGENT_TIMEOUT_MS} ms`, met: percentile(r.times, 99) <= AGENT_TIMEOUT_MS }
        : {}),
    },
    {
      figure: `${r.name}: first answer 202 pending; definite within ${AGENT_TIMEOUT_MS / 1000} s`,
      value: `${pct(r.pendingFirst, r.times.length)}; ${pct(within, r.times.length)}`,
    },
    { figure: `${r.name}: final answers`, value: finals },
  ];
}

async function measureCampaign(
  log: (line: string) => void,
): Promise<{ table: FigureTable; notes: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-bench-campaign-'));
  const world = await startCampaignWorld({
    databaseUrl: join(dir, 'store.sqlite'),
    agents: 4,
    upstreamTimeoutMs: 1_200,
  });
  try {
    const { report } = await runCheckedCampaign(world, {
      seed: CAMPAIGN_SEED,
      operations: CAMPAIGN_OPERATIONS,
    });
    const { invariants, seconds } = report;
    log(`campaign done in ${seconds.toFixed(0)} s`);
    const total = invariants.reduce((sum, i) => sum + i.violations, 0);
    const answers = Object.entries(report.answers)
      .map(([label, n]) => `${label} × ${n}`)
      .join(', ');
    return {
      table: {
        caption: `Fault campaign: ${CAMPAIGN_OPERATIONS} operations, seed ${CAMPAIGN_SEED} (${seconds.toFixed(0)} s)`,
        figures: [
          { figure: 'invariant violations (all)', value: String(total), aim: '0', met: total === 0 },
          ...invariants.map((i) => ({
            figure: i.name,
            value: i.violations === 0 ? '0' : `${i.violations} (e.g. ${i.examples[0] ?? ''})`,
          })),
          { figure: 'appointments agents hold at the end', value: String(report.held) },
        ],
      },
      notes: [`Campaign answers: ${answers}.`],
    };
  } finally {
    await world.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function pct(part: number, whole: number): string {
  return whole === 0 ? '–' : `${Math.round((100 * part) / whole)} %`;
}
