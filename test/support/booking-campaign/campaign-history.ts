/**
 * What a booking fault campaign did and what it was told: every operation with every answer, and the
 * appointments agents believe they hold. The invariant checker reads only this and the records system.
 */
import type { Appointment } from '@medplum/fhirtypes';
import { parseRetryAfter } from '../../../src/connectors/upstream-call-policy.js';
import type { CampaignPatient, CampaignPractitioner, HttpAnswer } from './campaign-world.js';
import { appointmentOf, detailCodeOf } from './campaign-world.js';

/** One answer as the campaign keeps it. */
export interface Answer {
  status: HttpAnswer['status'];
  code?: string;
  appointment?: Appointment;
  etag?: string;
  /** `Location` of a `202 booking-pending`: the Appointment to read for the outcome. */
  location?: string;
  /** Real time the answer arrived (ms since epoch). */
  at: number;
}

export interface BookOp {
  kind: 'book';
  index: number;
  agent: number;
  key?: string;
  patient: CampaignPatient;
  practitioner: CampaignPractitioner;
  start: Date;
  end: Date;
  body: Appointment;
  startedAt: number;
  answers: Answer[];
}

export interface ChangeOp {
  kind: 'reschedule' | 'cancel';
  index: number;
  agent: number;
  appointmentId: string;
  /** For a reschedule: where it was asked to go. */
  to?: { start: Date; end: Date };
  startedAt: number;
  answers: Answer[];
}

export interface FrontDeskOp {
  kind: 'front-desk-book' | 'front-desk-cancel';
  index: number;
  upstreamId?: string;
  providerId: number;
  start?: Date;
  minutes?: number;
  startedAt: number;
  /** When the records system answered 2xx; undefined when it did not (fault) or not yet. */
  confirmedAt?: number;
  status: HttpAnswer['status'];
}

export type CampaignOp = BookOp | ChangeOp | FrontDeskOp;

/** An appointment an agent was told it holds, and where it was last told it is. */
export interface HeldAppointment {
  id: string;
  marker: string;
  bookedBy: BookOp;
  resource: Appointment;
  etag: string;
  start: Date;
  cancelled: boolean;
  /** When the request that put it at its current time began (a booking or a successful reschedule). */
  placedAt: number;
  /** A change whose outcome was never learnt: its exact state is the facade's to tell. */
  uncertain: boolean;
}

/**
 * Answers that do not yet say what happened: a request still running under its key, `booking-pending`, and any
 * 5xx that is not one of the documented "nothing was booked" failures. No answer at all (an abort, a dropped
 * connection) is unknown too.
 */
const UNKNOWN_CODES = new Set(['idempotency-key-in-flight', 'booking-pending']);
const DEFINITE_5XX_CODES = new Set(['ehr-unavailable', 'busy']);
/**
 * Handed to the practice's staff (a 202 naming a manual-intervention Task): a final answer, but neither a success
 * nor a refusal — the appointment is wherever staff leave it, and the facade tells where.
 */
export const HANDED_TO_STAFF = 'needs-attention';

export function toAnswer(answer: HttpAnswer): Answer {
  const appointment = appointmentOf(answer);
  return {
    status: answer.status,
    code: detailCodeOf(answer),
    ...(appointment ? { appointment } : {}),
    ...(answer.headers?.get('etag') ? { etag: answer.headers.get('etag') as string } : {}),
    ...(answer.status === 202 && answer.headers?.get('location')
      ? { location: answer.headers.get('location') as string }
      : {}),
    at: Date.now(),
  };
}

/**
 * What reading a pending booking's Location says: still pending (undefined), booked (a success with the
 * appointment), or ended without a booking (a failure with the reason the Appointment's `cancelationReason` codes).
 */
export function answerFromLocation(read: HttpAnswer): Answer | undefined {
  const appointment = appointmentOf(read);
  if (read.status !== 200 || !appointment || appointment.status === 'pending') return undefined;
  if (appointment.status !== 'cancelled') return toAnswer(read);
  return {
    status: 409,
    code: appointment.cancelationReason?.coding?.[0]?.code ?? 'cancelled',
    at: Date.now(),
  };
}

/** How long a 429 asks to wait (`Retry-After`; at least 1 s). */
export function retryAfterMs(answer: HttpAnswer): number {
  const seconds = parseRetryAfter(answer.headers?.get('retry-after') ?? null, Date.now());
  return Math.max(1, seconds ?? 1) * 1000;
}

/** True when the answer says for sure what happened. */
export function isDefinite(answer: Answer): boolean {
  if (answer.status === 200 || answer.status === 201) return answer.appointment !== undefined;
  if (answer.status === 202 && answer.code === HANDED_TO_STAFF) return true;
  if (typeof answer.status !== 'number' || answer.status === 202) return false;
  if (answer.code !== undefined && UNKNOWN_CODES.has(answer.code)) return false;
  // "Slow down, ask again after Retry-After": it says nothing about an earlier attempt with the same key (an agent
  // whose first request was cut off and whose replay is refused 429 still does not know), so the agent asks again.
  if (answer.status === 429) return false;
  if (answer.status >= 500) return answer.code !== undefined && DEFINITE_5XX_CODES.has(answer.code);
  return answer.status >= 400;
}

/** The last definite answer of an operation, if any. */
export function finalAnswer(op: BookOp | ChangeOp): Answer | undefined {
  return [...op.answers].reverse().find(isDefinite);
}

export function isSuccess(answer: Answer | undefined): answer is Answer & { appointment: Appointment } {
  return (answer?.status === 200 || answer?.status === 201) && answer.appointment !== undefined;
}

/** The correlation marker an appointment carries (Switchboard's `identifier`). */
export function markerOf(appointment: Appointment): string | undefined {
  return appointment.identifier?.find((i) => i.system?.endsWith(':correlation'))?.value;
}

/** The record of one campaign run. */
export class CampaignHistory {
  readonly ops: CampaignOp[] = [];
  readonly held = new Map<string, HeldAppointment>();
  /** What was done to the instances mid-run (several instances only). */
  readonly disruptions: string[] = [];

  add<T extends CampaignOp>(op: T): T {
    this.ops.push(op);
    return op;
  }

  /** Takes note of a booking answer: a success makes (or confirms) an appointment the agent holds. */
  noteBooking(op: BookOp, answer: Answer): void {
    op.answers.push(answer);
    if (!isSuccess(answer)) return;
    const { appointment } = answer;
    const id = appointment.id as string;
    if (this.held.has(id)) return;
    this.held.set(id, {
      id,
      marker: markerOf(appointment) ?? '',
      bookedBy: op,
      resource: appointment,
      etag: answer.etag ?? '',
      start: new Date(appointment.start as string),
      cancelled: appointment.status === 'cancelled',
      placedAt: op.startedAt,
      uncertain: false,
    });
  }

  /** Takes note of a reschedule or cancel answer. */
  noteChange(op: ChangeOp, answer: Answer): void {
    op.answers.push(answer);
    const held = this.held.get(op.appointmentId);
    if (!held) return;
    if (isSuccess(answer)) {
      held.resource = answer.appointment;
      held.etag = answer.etag ?? held.etag;
      held.cancelled = answer.appointment.status === 'cancelled';
      const start = new Date(answer.appointment.start as string);
      if (start.getTime() !== held.start.getTime()) held.placedAt = op.startedAt;
      held.start = start;
    } else if (!isDefinite(answer) || answer.code === HANDED_TO_STAFF) {
      held.uncertain = true;
    }
  }

  bookOps(): BookOp[] {
    return this.ops.filter((o): o is BookOp => o.kind === 'book');
  }

  changeOps(): ChangeOp[] {
    return this.ops.filter((o): o is ChangeOp => o.kind === 'reschedule' || o.kind === 'cancel');
  }

  frontDeskOps(): FrontDeskOp[] {
    return this.ops.filter(
      (o): o is FrontDeskOp => o.kind === 'front-desk-book' || o.kind === 'front-desk-cancel',
    );
  }

  /** How many answers of each kind the campaign saw (`201`, `409 slot-taken`, `aborted`, …), the front desk's too. */
  answerCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const op of [...this.bookOps(), ...this.changeOps()]) {
      for (const answer of op.answers) {
        const label = `${op.kind} ${answer.status}${answer.code ? ` ${answer.code}` : ''}`;
        counts[label] = (counts[label] ?? 0) + 1;
      }
    }
    for (const op of this.frontDeskOps()) {
      const label = `${op.kind} ${op.status}`;
      counts[label] = (counts[label] ?? 0) + 1;
    }
    return counts;
  }
}
