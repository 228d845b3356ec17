/**
 * A seeded, randomized booking campaign (issue 10): agents book with and without Idempotency-Keys (some give up
 * and disconnect mid-request, some retry identically as agent platforms do), reschedule and cancel; the front desk
 * books and cancels through the records system's own API, often at the very times agents are after; all while
 * the records system cycles through latency, errors, time-outs, commit-then-fail and outages. Then it quiesces:
 * faults off, every unknown outcome asked again until it is known, sync given time to settle.
 */
import type { Appointment, Slot } from '@medplum/fhirtypes';
import { createSeededRandom } from '../../../src/sim/seeded-random.js';
import type { SimFaults } from '../../../src/sim/sim-types.js';
import {
  answerFromLocation,
  CampaignHistory,
  isDefinite,
  retryAfterMs,
  toAnswer,
  type BookOp,
  type ChangeOp,
  type FrontDeskOp,
} from './campaign-history.js';
import {
  TYPE_SYSTEM,
  type CampaignPatient,
  type CampaignPractitioner,
  type CampaignWorld,
} from './campaign-world.js';

export interface CampaignOptions {
  seed: number;
  operations: number;
  /** Operations in flight at once. */
  concurrency: number;
  /** How long each fault phase lasts. */
  phaseMs: number;
}

const TYPE_CODE = 'follow-up';
/** Patients kept for the front desk's bookings. */
const FRONT_DESK_PATIENTS = 50;

/** The fault phases the records system cycles through, in a seeded order. */
const FAULT_PHASES: ReadonlyArray<Partial<SimFaults>> = [
  {},
  { latencyMs: 100, jitterMs: 50 },
  { errorRate: 0.25 },
  { timeoutRate: 0.15 },
  { commitThenFailRate: 0.4 },
  { down: true },
  { latencyMs: 50, jitterMs: 50, errorRate: 0.1, timeoutRate: 0.05, commitThenFailRate: 0.2 },
];
const NO_FAULTS: Partial<SimFaults> = {
  latencyMs: 0,
  jitterMs: 0,
  errorRate: 0,
  timeoutRate: 0,
  commitThenFailRate: 0,
  down: false,
};

export async function runCampaign(world: CampaignWorld, options: CampaignOptions): Promise<CampaignHistory> {
  const random = createSeededRandom(options.seed);
  const history = new CampaignHistory();
  const practitioners = await world.practitioners();
  const patients = await world.patients(options.operations + FRONT_DESK_PATIENTS);
  // Agents' patients are their own (one per booking), so every upstream appointment can be traced to its request;
  // the front desk books for the last few. A long campaign may run out of agents' patients (the demo practice has
  // ~500): its remaining bookings are then not made.
  if (patients.length <= FRONT_DESK_PATIENTS) throw new Error('campaign: too few patients');
  const agentPatients = patients.slice(0, patients.length - FRONT_DESK_PATIENTS);
  const frontDeskPatients = patients.slice(patients.length - FRONT_DESK_PATIENTS);
  let agentPatientsUsed = 0;
  const pool = await slotPool(world, practitioners);
  if (pool.length === 0) throw new Error('campaign: no free slots to book');

  let stopFaults = false;
  const faultLoop = (async () => {
    // The first phase is fault-free, so some bookings land whatever the seed and however loaded the machine is: a
    // run whose first phases keep the records system's circuit open would otherwise book nothing and prove nothing.
    let phase: Partial<SimFaults> = {};
    while (!stopFaults) {
      world.clearFaults();
      world.setFaults({ ...NO_FAULTS, ...phase });
      await sleep(options.phaseMs);
      phase = random.pick(FAULT_PHASES);
    }
  })();

  let next = 0;
  // Several instances: halfway through, one is killed with SIGKILL mid-request and another started in its place.
  let disruption: Promise<void> | undefined;
  const worker = async (agent: number) => {
    while (next < options.operations) {
      const index = next++;
      if (index === Math.floor(options.operations / 2) && world.disrupt) {
        disruption = world
          .disrupt((count) => random.int(0, count - 1))
          .then((what) => {
            history.disruptions.push(what);
          });
      }
      const roll = random.next();
      if (roll < 0.45) await book(index, agent, random.next() < 0.7);
      else if (roll < 0.55) await retryWithoutKey();
      else if (roll < 0.65) await reschedule(index, agent);
      else if (roll < 0.73) await cancel(index, agent);
      else if (roll < 0.9) await frontDeskBook(index);
      else await frontDeskCancel(index);
    }
  };

  const token = (agent: number) => world.tokens[agent % world.tokens.length] as string;

  async function sendBooking(op: BookOp, agent: number, abortAfterMs?: number): Promise<void> {
    const answer = await world.fhir(token(agent), 'POST', 'Appointment', {
      body: op.body,
      headers: op.key ? { 'idempotency-key': op.key } : {},
      signal: abortAfterMs === undefined ? undefined : AbortSignal.timeout(abortAfterMs),
    });
    history.noteBooking(op, toAnswer(answer));
  }

  async function book(index: number, agent: number, withKey: boolean): Promise<void> {
    const slot = random.pick(pool);
    const patient = agentPatients[agentPatientsUsed++];
    if (!patient) return;
    const op = history.add<BookOp>({
      kind: 'book',
      index,
      agent,
      ...(withKey ? { key: `campaign-key-${options.seed}-${String(index).padStart(6, '0')}` } : {}),
      patient,
      practitioner: slot.practitioner,
      start: slot.start,
      end: slot.end,
      body: bookingBody(slot, patient),
      startedAt: Date.now(),
      answers: [],
    });
    // One agent in ten gives up mid-request (its platform's tool time-out), at a random moment.
    await sendBooking(op, agent, random.next() < 0.1 ? random.int(20, 600) : undefined);
  }

  /** An agent platform retrying a tool call: the identical booking again, without a key. */
  async function retryWithoutKey(): Promise<void> {
    const candidates = history.bookOps().filter((o) => o.key === undefined && o.answers.length > 0);
    if (candidates.length === 0) return;
    // The retry's answers belong to the original request (same patient, same time, same body), and it comes from
    // the platform that made that request: the same client.
    const original = random.pick(candidates);
    await sendBooking(original, original.agent);
  }

  async function reschedule(index: number, agent: number): Promise<void> {
    const held = [...history.held.values()].filter((h) => !h.cancelled && !h.uncertain);
    if (held.length === 0) return;
    const target = random.pick(held);
    const choices = pool.filter((s) => s.practitioner.fhirId === target.bookedBy.practitioner.fhirId);
    if (choices.length === 0) return;
    const slot = random.pick(choices);
    const op = history.add<ChangeOp>({
      kind: 'reschedule',
      index,
      agent,
      appointmentId: target.id,
      to: { start: slot.start, end: slot.end },
      startedAt: Date.now(),
      answers: [],
    });
    const body: Appointment = {
      ...target.resource,
      start: slot.start.toISOString(),
      end: slot.end.toISOString(),
    };
    const answer = await world.fhir(token(agent), 'PUT', `Appointment/${target.id}`, {
      body,
      headers: { 'if-match': target.etag },
    });
    history.noteChange(op, toAnswer(answer));
  }

  async function cancel(index: number, agent: number): Promise<void> {
    const held = [...history.held.values()].filter((h) => !h.cancelled && !h.uncertain);
    if (held.length === 0) return;
    const target = random.pick(held);
    const op = history.add<ChangeOp>({
      kind: 'cancel',
      index,
      agent,
      appointmentId: target.id,
      startedAt: Date.now(),
      answers: [],
    });
    const answer = await world.fhir(token(agent), 'PATCH', `Appointment/${target.id}`, {
      body: [{ op: 'replace', path: '/status', value: 'cancelled' }],
      contentType: 'application/json-patch+json',
    });
    history.noteChange(op, toAnswer(answer));
  }

  async function frontDeskBook(index: number): Promise<void> {
    // Half the time exactly where agents are looking; otherwise a quarter-hour later (a partial overlap).
    const slot = random.pick(pool);
    const start = new Date(slot.start.getTime() + (random.next() < 0.5 ? 0 : 15 * 60_000));
    const op = history.add<FrontDeskOp>({
      kind: 'front-desk-book',
      index,
      providerId: slot.practitioner.providerId,
      start,
      minutes: 15,
      startedAt: Date.now(),
      status: 'network-error',
    });
    const answer = await world.records.frontDeskBook({
      patientId: random.pick(frontDeskPatients).simId,
      providerId: slot.practitioner.providerId,
      locationId: slot.locationId,
      start,
      minutes: 15,
    });
    op.status = answer.status;
    if (answer.status === 201 || answer.status === 200) {
      op.confirmedAt = Date.now();
      op.upstreamId = answer.upstreamId;
    }
  }

  async function frontDeskCancel(index: number): Promise<void> {
    const mine = history
      .frontDeskOps()
      .filter((o) => o.kind === 'front-desk-book' && o.upstreamId !== undefined);
    if (mine.length === 0) return;
    const target = random.pick(mine);
    const op = history.add<FrontDeskOp>({
      kind: 'front-desk-cancel',
      index,
      upstreamId: target.upstreamId,
      providerId: target.providerId,
      startedAt: Date.now(),
      status: 'network-error',
    });
    const answer = await world.records.frontDeskCancel(target.upstreamId as string);
    op.status = answer.status;
    if (answer.status === 200) op.confirmedAt = Date.now();
  }

  try {
    await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i)));
  } finally {
    stopFaults = true;
    await faultLoop;
    world.clearFaults();
    await disruption;
  }
  await quiesce(world, history, token);
  return history;
}

/** Faults are off: learns every outcome still unknown, then waits until the records system and sync are still. */
async function quiesce(
  world: CampaignWorld,
  history: CampaignHistory,
  token: (agent: number) => string,
): Promise<void> {
  // A pending booking resolves when its saga does: a lost write answer waits for the recovery worker, which takes
  // a saga over once its last step is older than the hold TTL (60 s), then reconciles it by marker.
  for (let round = 0; round < 300; round++) {
    // Open: the last thing the agent was told does not say what happened (a later identical retry's 202 counts,
    // even after an earlier definite answer: the patient's booking is then the one in flight).
    const open = history.bookOps().filter((op) => {
      const last = op.answers.at(-1);
      return last === undefined || !isDefinite(last);
    });
    if (open.length === 0) break;
    for (const op of open) {
      const last = op.answers.at(-1);
      if (!op.key && last?.location) {
        // No key to replay: the agent reads the Appointment the 202 named.
        const path = last.location.slice(last.location.indexOf('/Appointment/') + 1);
        const outcome = answerFromLocation(await world.fhir(token(op.agent), 'GET', path));
        if (outcome) history.noteBooking(op, outcome);
        continue;
      }
      // The same key replays or finishes the request; without one the agent's platform simply asks again.
      const answer = await world.fhir(token(op.agent), 'POST', 'Appointment', {
        body: op.body,
        headers: op.key ? { 'idempotency-key': op.key } : {},
      });
      history.noteBooking(op, toAnswer(answer));
      // Refused by the rate limit: the agent waits as told before it asks about anything else.
      if (answer.status === 429) await sleep(retryAfterMs(answer));
    }
    await sleep(500);
  }
  // A cancel or reschedule answered 202 reads as it was until its change lands (or recovery ends it): its
  // appointment is read until the facade agrees with the records system, for at most two minutes (recovery takes a
  // saga whose write answer was lost over within a minute); what it reads then is what the agent ends up with.
  for (const held of history.held.values()) {
    if (!held.uncertain) continue;
    for (let round = 0; round < 120; round++) {
      const read = toAnswer(await world.fhir(token(0), 'GET', `Appointment/${held.id}`));
      if (!isDefinite(read) || !read.appointment) break;
      held.resource = read.appointment;
      held.etag = read.etag ?? held.etag;
      held.cancelled = read.appointment.status === 'cancelled';
      held.start = new Date(read.appointment.start as string);
      const live = (await world.upstreamAppointments()).filter((a) => a.active && a.marker === held.marker);
      const agrees = held.cancelled
        ? live.length === 0
        : live.length === 1 && live[0]?.start.getTime() === held.start.getTime();
      if (agrees) break;
      await sleep(1_000);
    }
  }
  // Still: no upstream change for three hot-window passes in a row.
  let last = '';
  let stillSince = Date.now();
  for (let i = 0; i < 120 && Date.now() - stillSince < 3_500; i++) {
    const now = JSON.stringify(
      (await world.upstreamAppointments()).map((a) => [a.id, a.active, a.start.getTime()]),
    );
    if (now !== last) {
      last = now;
      stillSince = Date.now();
    }
    await sleep(250);
  }
}

export interface PoolSlot {
  id: string;
  practitioner: CampaignPractitioner;
  locationId: number;
  start: Date;
  end: Date;
}

/** Free follow-up slots of every practitioner over the next working days: what agents will fight over. */
/** The practitioner's working-hours template covering `at` (its weekday and wall time), if any. */
export function templateAt(world: CampaignWorld, providerId: number, at: Date) {
  const wall = world.wall(at);
  const weekday = ((new Date(`${wall.slice(0, 10)}T12:00:00Z`).getUTCDay() + 6) % 7) + 1;
  return world.records.practice.templates.find(
    (t) =>
      t.providerId === providerId &&
      t.weekday === weekday &&
      t.start <= wall.slice(11) &&
      wall.slice(11) < t.end,
  );
}

export async function slotPool(
  world: CampaignWorld,
  practitioners: CampaignPractitioner[],
  { perPractitioner = 25, days = 5 }: { perPractitioner?: number; days?: number } = {},
): Promise<PoolSlot[]> {
  const from = new Date(Date.now() + 2 * 86_400_000);
  const to = new Date(from.getTime() + days * 86_400_000);
  const pool: PoolSlot[] = [];
  for (const practitioner of practitioners) {
    const slots: Slot[] = await world.freeSlots(practitioner, TYPE_CODE, from, to);
    for (const slot of slots.slice(0, perPractitioner)) {
      const start = new Date(slot.start);
      const template = templateAt(world, practitioner.providerId, start);
      if (!template || !slot.id) continue;
      pool.push({
        id: slot.id,
        practitioner,
        locationId: template.locationId,
        start,
        end: new Date(slot.end),
      });
    }
  }
  return pool;
}

export function bookingBody(slot: PoolSlot, patient: CampaignPatient): Appointment {
  return {
    resourceType: 'Appointment',
    status: 'booked',
    slot: [{ reference: `Slot/${slot.id}` }],
    appointmentType: { coding: [{ system: TYPE_SYSTEM, code: TYPE_CODE }] },
    participant: [
      { actor: { reference: `Patient/${patient.fhirId}` }, status: 'accepted' },
      { actor: { reference: `Practitioner/${slot.practitioner.fhirId}` }, status: 'accepted' },
    ],
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
