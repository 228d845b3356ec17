/**
 * The invariants of issue 10, checked after a campaign against the records system as ground truth. Each is a
 * count of violations with a few examples, so a failing run says what broke and how often.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Appointment, Bundle, Task } from '@medplum/fhirtypes';
import type { UpstreamAppointment } from './campaign-records.js';
import {
  finalAnswer,
  HANDED_TO_STAFF,
  isSuccess,
  retryAfterMs,
  toAnswer,
  type Answer,
  type CampaignHistory,
} from './campaign-history.js';
import type { CampaignWorld, HttpAnswer } from './campaign-world.js';

export interface InvariantReport {
  name: string;
  violations: number;
  examples: string[];
}

export async function checkInvariants(
  world: CampaignWorld,
  history: CampaignHistory,
  seedAppointmentIds: ReadonlySet<string>,
): Promise<InvariantReport[]> {
  const upstream = await world.upstreamAppointments();
  const active = upstream.filter((a) => a.active);
  const marked = (a: UpstreamAppointment) => a.marker !== undefined;
  const byMarker = new Map<string, UpstreamAppointment[]>();
  for (const a of upstream.filter(marked))
    byMarker.set(a.marker as string, [...(byMarker.get(a.marker as string) ?? []), a]);
  const overlap = (a: UpstreamAppointment, b: UpstreamAppointment) =>
    a.providerId === b.providerId && a.start < b.end && b.start < a.end;
  const at = (a: UpstreamAppointment) => a.start.toISOString();
  const heldByMarker = new Map([...history.held.values()].map((h) => [h.marker, h]));
  const confirmedFrontDesk = new Map(
    history
      .frontDeskOps()
      .filter(
        (o) => o.kind === 'front-desk-book' && o.upstreamId !== undefined && o.confirmedAt !== undefined,
      )
      .map((o) => [o.upstreamId as string, o.confirmedAt as number]),
  );

  const report = (name: string) => ({ name, violations: 0, examples: [] as string[] });
  const fail = (r: InvariantReport, example: string) => {
    r.violations++;
    if (r.examples.length < 5) r.examples.push(example);
  };

  // 1. Never over an appointment that existed (and stayed) before the request that placed ours began.
  const overExisting = report('no Switchboard appointment over one that existed before its request began');
  for (const ours of active.filter(marked)) {
    const held = heldByMarker.get(ours.marker as string);
    // Never answered as booked: each booking has its own patient, so its request is known by that.
    const placedAt =
      held?.placedAt ?? history.bookOps().find((op) => op.patient.simId === ours.patientId)?.startedAt;
    for (const other of active.filter((a) => !marked(a) && overlap(a, ours))) {
      const existedSince = seedAppointmentIds.has(other.id) ? 0 : confirmedFrontDesk.get(other.id);
      if (existedSince !== undefined && (placedAt === undefined || existedSince < placedAt))
        fail(overExisting, `${ours.marker} at ${at(ours)} over upstream ${other.id}`);
    }
  }

  // 2. No two active Switchboard appointments overlap.
  const ownOverlap = report('no two Switchboard appointments overlap');
  const ours = active.filter(marked);
  for (let i = 0; i < ours.length; i++)
    for (let j = i + 1; j < ours.length; j++)
      if (overlap(ours[i] as UpstreamAppointment, ours[j] as UpstreamAppointment))
        fail(
          ownOverlap,
          `${ours[i]?.marker} and ${ours[j]?.marker} at ${at(ours[i] as UpstreamAppointment)}`,
        );

  // 3. Every appointment an agent was told it holds is in the records system exactly once, where it was told.
  const told = report('every 201 has exactly one active upstream appointment at its time');
  const refusedMoveStayed = report('a refused reschedule leaves the appointment where it was');
  const refusedMoves = new Set(
    history
      .changeOps()
      .filter((o) => {
        const answer = finalAnswer(o);
        return (
          o.kind === 'reschedule' &&
          answer !== undefined &&
          !isSuccess(answer) &&
          answer.code !== HANDED_TO_STAFF
        );
      })
      .map((o) => o.appointmentId),
  );
  for (const held of history.held.values()) {
    const live = (byMarker.get(held.marker) ?? []).filter((a) => a.active);
    const expected = held.cancelled ? 0 : 1;
    if (live.length !== expected) {
      fail(told, `${held.marker}: ${live.length} active upstream, expected ${expected}`);
      continue;
    }
    const where = live[0];
    if (where && where.start.getTime() !== held.start.getTime()) {
      fail(told, `${held.marker}: upstream at ${at(where)}, told ${held.start.toISOString()}`);
      if (refusedMoves.has(held.id)) {
        // What each reschedule of it was told, in order.
        const moves = history
          .changeOps()
          .filter((o) => o.kind === 'reschedule' && o.appointmentId === held.id)
          .map((o) => `${o.to?.start.toISOString() ?? '?'}: ${o.answers.map(describe).join(' → ')}`);
        fail(refusedMoveStayed, `${held.marker} moved to ${at(where)}; reschedules ${moves.join('; ')}`);
      }
    }
  }

  // 4. Every active Switchboard appointment upstream was answered as booked to someone, or is an open
  // manual-intervention Task for staff (each booking has its own patient, whom the Task is for).
  const unanswered = report(
    'every active Switchboard-marked upstream appointment was answered 201 or is an open manual-intervention Task',
  );
  const patientsWithOpenTasks = await openTaskPatients(world, history);
  for (const a of active.filter(marked))
    if (!heldByMarker.has(a.marker as string) && !patientsWithOpenTasks.has(a.patientId)) {
      // What its request was told, every answer in order (each booking has its own patient).
      const told = history
        .bookOps()
        .filter((op) => op.patient.simId === a.patientId)
        .map((op) => `${op.key ? 'keyed' : 'keyless'}: ${op.answers.map(describe).join(' → ') || 'nothing'}`);
      fail(
        unanswered,
        `${a.marker} (upstream ${a.id}, patient ${a.patientId}, ${at(a)}); told ${told.join('; ')}`,
      );
    }

  // 5. One upstream write per Idempotency-Key.
  const perKey = report('one upstream write per Idempotency-Key');
  for (const op of history.bookOps().filter((o) => o.key !== undefined)) {
    const writes = upstream.filter((a) => marked(a) && a.patientId === op.patient.simId);
    if (writes.length > 1) fail(perKey, `key ${op.key}: ${writes.length} upstream appointments`);
  }

  // 6. The facade agrees with the records system about every appointment an agent holds.
  const agrees = report('the facade agrees with the records system');
  for (const held of history.held.values()) {
    const read = toAnswer(await readThrottled(world, `Appointment/${held.id}`));
    const stored = read.appointment as Appointment | undefined;
    const live = (byMarker.get(held.marker) ?? []).find((a) => a.active);
    const facadeActive = stored !== undefined && stored.status !== 'cancelled';
    if (facadeActive !== (live !== undefined)) {
      fail(
        agrees,
        `${held.marker}: facade ${stored?.status ?? read.status}, upstream ${live ? 'active' : 'none active'}`,
      );
    } else if (live && stored && new Date(stored.start as string).getTime() !== live.start.getTime()) {
      fail(agrees, `${held.marker}: facade at ${stored.start}, upstream at ${at(live)}`);
    }
  }

  return [overExisting, ownOverlap, told, refusedMoveStayed, unanswered, perKey, agrees];
}

/** The records system's ids of the patients that open manual-intervention Tasks are for. */
async function openTaskPatients(world: CampaignWorld, history: CampaignHistory): Promise<Set<number>> {
  const answer = await readThrottled(world, 'Task?status=requested&_count=1000');
  const bundle = answer.body as Bundle<Task> | undefined;
  if (answer.status !== 200 || !bundle) throw new Error(`campaign: Task search answered ${answer.status}`);
  const fhirIds = new Set(
    (bundle.entry ?? []).map((e) => e.resource?.for?.reference?.replace('Patient/', '')).filter(Boolean),
  );
  return new Set(
    history
      .bookOps()
      .filter((op) => fhirIds.has(op.patient.fhirId))
      .map((op) => op.patient.simId),
  );
}

/**
 * A GET by the first agent that waits out the facade's per-client rate limit: reading every held appointment in a
 * burst can meet it, and a 429 says nothing about the appointment (it was reported as a disagreement before).
 */
function describe(answer: Answer): string {
  return answer.code ? `${answer.status} ${answer.code}` : String(answer.status);
}

async function readThrottled(world: CampaignWorld, path: string): Promise<HttpAnswer> {
  for (let attempt = 0; ; attempt++) {
    const answer = await world.fhir(world.tokens[0] as string, 'GET', path);
    if (answer.status !== 429 || attempt >= 20) return answer;
    await sleep(retryAfterMs(answer));
  }
}
