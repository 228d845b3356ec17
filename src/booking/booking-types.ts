/**
 * The words booking speaks (DESIGN.md section 4): what a caller asks for, and the typed outcomes an agent can act
 * on — a precise code, a message safe to read to a patient, and alternatives where there are any.
 */
import type { Appointment, Slot } from '@medplum/fhirtypes';
import type { BookingRuleCode } from '../availability/slot-calculator.js';

/** A new appointment, in FHIR ids. */
export interface BookingRequest {
  patientId: string;
  practitionerId: string;
  locationId: string;
  /** Code of the appointment type (the tenant's appointment-type system). */
  appointmentTypeCode: string;
  start: Date;
  minutes: number;
  comment?: string;
}

/** Why a booking (or cancel, or reschedule) did not happen. */
export type BookingFailureCode =
  /** Someone else holds or has booked that time. */
  | 'slot-taken'
  /** Not within the practitioner's working hours there. */
  | 'outside-hours'
  /** The practitioner (or practice) is blocked: vacation, surgery, holiday. */
  | 'provider-unavailable'
  /** A booking rule, each its own code: the past, minimum notice, horizon, grid, length, type, new patients. */
  | BookingRuleCode
  /** A patient, practitioner, location, type or appointment that does not exist. */
  | 'not-found'
  /** The appointment changed since the caller read it (If-Match). */
  | 'version-conflict'
  /** The appointment cannot make that change (already cancelled, in the past). */
  | 'invalid-state'
  /** The records system is down, timing out or its circuit is open. */
  | 'ehr-unavailable'
  /** The records system asked us to slow down. */
  | 'rate-limited'
  /** Switchboard's own booking queue for the practice is full, or the request waited in it too long. */
  | 'busy'
  /** The records system refused the write as invalid. */
  | 'ehr-rejected'
  /**
   * Not a failure yet: the outcome is unknown at the response deadline (or the write's answer was lost) and the
   * saga goes on; answered `202`, the same Idempotency-Key gives the final answer once known.
   */
  | 'booking-pending'
  /**
   * Not refused either: the change was written upstream and could not be undone (a reschedule whose original time
   * was taken meanwhile, an undo the records system keeps refusing), so the practice's staff finish it from a
   * manual-intervention Task; answered `202` with the Task as `Location`.
   */
  | 'needs-attention';

export interface BookingFailure {
  ok: false;
  code: BookingFailureCode;
  /** Plain words, safe to read to a patient. */
  message: string;
  /** For `ehr-unavailable` / `rate-limited`: when to try again. */
  retryAfterSeconds?: number;
  /** Up to three free slots: same type and practitioner first, then others. */
  alternatives: Slot[];
  /** The saga, for the audit trail and support. */
  bookingId?: string;
}

export interface BookingSuccess {
  ok: true;
  appointment: Appointment;
  versionId: number;
  bookingId: string;
  /** False when an idempotent replay of the saga found the work already done. */
  created: boolean;
  /**
   * True when the request repeated a booking this client had already made (an agent's keyless retry, issue 10
   * item 7): nothing new was booked, the appointment is that booking's.
   */
  duplicate?: boolean;
}

export type BookingOutcome = BookingSuccess | BookingFailure;

/** Saga states, in the order a booking normally passes through them. */
export type SagaState =
  /** Time claimed locally; nothing sent upstream yet. */
  | 'held'
  /** About to send, or sent, the write upstream. */
  | 'writing'
  /** The write's outcome is unknown (timeout, dropped connection): reconcile by marker. */
  | 'unknown'
  /** The records system holds the appointment; not yet verified and committed. */
  | 'written'
  /** Verified and in the store: done. */
  | 'committed'
  /** Undoing an upstream write (a conflict found after writing). */
  | 'compensating'
  /** Finished without a booking: hold released, anything written upstream undone. */
  | 'released'
  /**
   * Ended by handing it to the practice's staff: what was written upstream could not be undone automatically (the
   * original time was taken meanwhile, the records system refuses the cancel). A manual-intervention `Task` says
   * what to do; the saga's claims are released, recovery no longer touches it.
   */
  | 'needs-attention';

/**
 * What a saga does. `hold` only claims time (IHE ITI-116 `$hold`): nothing goes upstream until it is confirmed,
 * when it becomes a `book` saga keeping its claims and marker.
 */
export type SagaKind = 'book' | 'cancel' | 'reschedule' | 'hold';

/** Time to hold for a later booking (`$hold`): the patient may be named only when the hold is confirmed. */
export type HoldRequest = Omit<BookingRequest, 'patientId'> & { patientId?: string };

/**
 * A hold, or a booking whose outcome is not known yet, as the saga keeps it: the facade shows it as a `pending`
 * Appointment whose id is the saga's (a new booking's appointment keeps that id once it is committed).
 */
export interface HeldTime {
  /** The saga id: also the id of the pending Appointment the facade shows for it. */
  holdId: string;
  /** A `$hold` (it lapses at {@link expiresAt} unless booked), or a booking in flight. */
  kind: 'hold' | 'booking';
  /** `held` while it lasts; `confirmed` once booked; `released` when given up, lapsed or failed. */
  state: 'held' | 'confirmed' | 'released';
  /** Why a released booking did not happen (its failure code), when it failed. */
  failureCode?: BookingFailureCode;
  practitionerId: string;
  locationId: string;
  patientId?: string;
  appointmentTypeCode: string;
  start: Date;
  end: Date;
  minutes: number;
  comment?: string;
  /** When the hold lapses; the recovery worker releases it after that. */
  expiresAt: Date;
  /** The booked appointment, once confirmed. */
  appointmentId?: string;
}

export interface HoldSuccess {
  ok: true;
  hold: HeldTime;
}

export type HoldOutcome = HoldSuccess | BookingFailure;

export const patientMessages: Record<BookingFailureCode, string> = {
  'slot-taken': 'Sorry, that time was just taken.',
  'outside-hours': 'The doctor does not see patients at that time.',
  'provider-unavailable': 'The doctor is not available at that time.',
  'in-the-past': 'That time has already passed.',
  'too-soon': 'That time is too soon to book; the practice needs more notice.',
  'beyond-horizon': 'That time is too far ahead to book yet.',
  'off-grid':
    'Appointments can only start at the practice’s set times; please pick one of the times offered.',
  'wrong-duration': 'That kind of appointment takes a different length of time.',
  'type-not-offered': 'That kind of appointment is not offered with this doctor at that time.',
  'new-patients-only':
    'That kind of appointment is only for patients who have not been seen at the practice before.',
  'not-found': 'We could not find that in the practice’s records.',
  'version-conflict': 'The appointment was changed in the meantime; please check it again.',
  'invalid-state': 'That appointment cannot be changed any more.',
  'ehr-unavailable': 'The practice’s system is not answering right now; please try again in a moment.',
  'rate-limited': 'The practice’s system is busy; please try again in a moment.',
  busy: 'We are handling many bookings for the practice right now; please try again in a moment.',
  'ehr-rejected': 'The practice’s system did not accept that appointment.',
  'booking-pending': 'Your booking is being confirmed with the practice; I’ll confirm in a moment.',
  'needs-attention':
    'The practice’s staff need to finish this change by hand; they will contact you to confirm the time.',
};
