/**
 * How a booking that did not happen is answered (DESIGN.md section 4: "an OperationOutcome whose code says why, a
 * message safe to read to a patient, and alternative slots where possible"), for `POST Appointment`, `PUT`/`PATCH`
 * and the scheduling operations alike:
 *
 * - HTTP status and issue type from the failure code: `slot-taken` 409 `conflict`; `outside-hours`,
 *   `provider-unavailable` and each booking rule (`in-the-past`, `too-soon`, `beyond-horizon`, `off-grid`,
 *   `wrong-duration`, `type-not-offered`, `new-patients-only`) 422 `business-rule`, the rule's issue with an
 *   `expression` naming the element to change (issue 13 item 3); `not-found` 422 `not-found` when the missing thing
 *   is referenced from the request body (the request's own URL was fine, its content names something unknown), 404
 *   when it is the URL's target (`PUT/PATCH Appointment/{id}`); `version-conflict` 412 `conflict`;
 *   `invalid-state` 409 `conflict` (the target's current state forbids the change); `ehr-unavailable` 503
 *   `transient` and `rate-limited` 429 `throttled`, both with `Retry-After`; `ehr-rejected` 422 `processing`;
 *   `busy` 503 `transient` with `Retry-After` (Switchboard's own queue is full: nothing was held or sent);
 *   `booking-pending` 202 `informational` (severity `information`) with `Retry-After`, {@link BOOKING_ID_HEADER}
 *   and `Location` of the pending Appointment; `needs-attention` 202 `informational` (severity `warning`) with
 *   {@link BOOKING_ID_HEADER} and `Location` of the manual-intervention Task staff finish it from.
 * - The first issue carries Switchboard's precise code in `details.coding` (system {@link SWITCHBOARD_ISSUE_SYSTEM})
 *   and the patient-safe message in `details.text` and `diagnostics`.
 * - Alternatives are the free Slots themselves, as `OperationOutcome.contained` resources, each pointed at by one
 *   `information` issue (code `informational`, detail code `alternative-slot`) whose extension
 *   {@link ALTERNATIVE_SLOT_EXTENSION} references it (`#id`) and whose `diagnostics` is `Slot/{id}`. The contained
 *   Slot keeps the computed slot id, so a client books an alternative by `Appointment.slot` = `Slot/{that id}`.
 *   Why not a Bundle: an error answer in FHIR is an OperationOutcome (R4 http.html), which every client surfaces;
 *   contained resources keep the alternatives machine-readable inside it, valid R4 for both validators.
 */
import type { OperationOutcome, OperationOutcomeIssue, Resource, Slot } from '@medplum/fhirtypes';
import type { BookingRuleCode } from '../../src/availability/slot-calculator.js';
import type { BookingFailure, BookingFailureCode } from '../../src/booking/booking-types.js';
import { FhirError, SWITCHBOARD_ISSUE_SYSTEM, type IssueType } from '../operation-outcome.js';
import { resourceUrl } from '../search/bundle-builder.js';
import { weakEtag } from '../interactions/resource-headers.js';

/** On an `information` issue: the contained alternative Slot it offers. */
export const ALTERNATIVE_SLOT_EXTENSION =
  'https://switchboard.health/fhir/StructureDefinition/alternative-slot';

const ANSWERS: Record<BookingFailureCode, { status: number; code: IssueType }> = {
  'slot-taken': { status: 409, code: 'conflict' },
  'outside-hours': { status: 422, code: 'business-rule' },
  'provider-unavailable': { status: 422, code: 'business-rule' },
  'in-the-past': { status: 422, code: 'business-rule' },
  'too-soon': { status: 422, code: 'business-rule' },
  'beyond-horizon': { status: 422, code: 'business-rule' },
  'off-grid': { status: 422, code: 'business-rule' },
  'wrong-duration': { status: 422, code: 'business-rule' },
  'type-not-offered': { status: 422, code: 'business-rule' },
  'new-patients-only': { status: 422, code: 'business-rule' },
  'not-found': { status: 422, code: 'not-found' },
  'version-conflict': { status: 412, code: 'conflict' },
  'invalid-state': { status: 409, code: 'conflict' },
  'ehr-unavailable': { status: 503, code: 'transient' },
  'rate-limited': { status: 429, code: 'throttled' },
  busy: { status: 503, code: 'transient' },
  'ehr-rejected': { status: 422, code: 'processing' },
  // Not a failure: the outcome is not known yet (issue 10 item 1); the same Idempotency-Key gives it later.
  'booking-pending': { status: 202, code: 'informational' },
  // Not refused: written upstream and not undone; the practice's staff finish it from a Task (issue 10 item 2).
  'needs-attention': { status: 202, code: 'informational' },
};

/** Answers that are not failures: the outcome is still to come, or staff finish it. */
const SEVERITIES: Partial<Record<BookingFailureCode, OperationOutcomeIssue['severity']>> = {
  'booking-pending': 'information',
  'needs-attention': 'warning',
};

/**
 * The element each booking rule is about, in an Appointment (POST/PUT Appointment): the answer's `expression`
 * unless the caller names another (an operation's Parameters).
 */
export const RULE_EXPRESSIONS: Readonly<Record<BookingRuleCode, string>> = {
  'in-the-past': 'Appointment.start',
  'too-soon': 'Appointment.start',
  'beyond-horizon': 'Appointment.start',
  'off-grid': 'Appointment.start',
  'wrong-duration': 'Appointment.minutesDuration',
  'type-not-offered': 'Appointment.appointmentType',
  'new-patients-only': 'Appointment.participant',
};

/** On a `202 booking-pending` answer: the booking (saga) id a replay of its Idempotency-Key asks about. */
export const BOOKING_ID_HEADER = 'X-Booking-Id';

export interface FailureOptions {
  /** Where a `not-found` thing was named: the request body (422) or the URL (404). Default `body`. */
  target?: 'body' | 'url';
  /** FHIRPath of the element the failure is about, when one is. */
  expression?: string;
  /**
   * `booking-pending`: the URL of the Appointment it is about (a new booking's pending Appointment, or the one being
   * changed), sent as `Location`; reading it gives the outcome once known.
   */
  location?: string;
  /** The tenant's FHIR base: `needs-attention` answers name the manual-intervention Task (its id is the saga's). */
  base?: string;
}

/** The error answering a failed booking, cancel, reschedule or hold. */
export function bookingFailureError(failure: BookingFailure, options: FailureOptions = {}): FhirError {
  const answer = ANSWERS[failure.code];
  const status = failure.code === 'not-found' && options.target === 'url' ? 404 : answer.status;
  const headers: Record<string, string> = {};
  if (failure.code === 'ehr-unavailable' || failure.code === 'rate-limited' || failure.code === 'busy') {
    headers['Retry-After'] = String(Math.max(1, Math.ceil(failure.retryAfterSeconds ?? 5)));
  }
  if (failure.code === 'booking-pending' && failure.bookingId) {
    headers[BOOKING_ID_HEADER] = failure.bookingId;
    headers['Retry-After'] = '2';
    if (options.location) headers.Location = options.location;
  }
  if (failure.code === 'needs-attention' && failure.bookingId) {
    headers[BOOKING_ID_HEADER] = failure.bookingId;
    if (options.base) headers.Location = resourceUrl(options.base, 'Task', failure.bookingId);
  }
  const expression =
    options.expression ??
    (failure.code in RULE_EXPRESSIONS ? RULE_EXPRESSIONS[failure.code as BookingRuleCode] : undefined);
  return new FhirError(status, failureOutcome(failure, answer.code, expression), headers);
}

function failureOutcome(failure: BookingFailure, code: IssueType, expression?: string): OperationOutcome {
  const main: OperationOutcomeIssue = {
    severity: SEVERITIES[failure.code] ?? 'error',
    code,
    details: {
      coding: [{ system: SWITCHBOARD_ISSUE_SYSTEM, code: failure.code }],
      text: failure.message,
    },
    diagnostics: failure.message,
    ...(expression ? { expression: [expression] } : {}),
  };
  const alternatives = failure.alternatives.filter((s): s is Slot & { id: string } => s.id !== undefined);
  return {
    resourceType: 'OperationOutcome',
    ...(alternatives.length > 0 ? { contained: alternatives } : {}),
    issue: [main, ...alternatives.map(alternativeIssue)],
  };
}

function alternativeIssue(slot: Slot & { id: string }): OperationOutcomeIssue {
  return {
    extension: [{ url: ALTERNATIVE_SLOT_EXTENSION, valueReference: { reference: `#${slot.id}` } }],
    severity: 'information',
    code: 'informational',
    details: {
      coding: [{ system: SWITCHBOARD_ISSUE_SYSTEM, code: 'alternative-slot' }],
      text: `Free instead: ${slot.start} to ${slot.end}`,
    },
    diagnostics: `Slot/${slot.id}`,
  };
}

/** `ETag`, `Last-Modified` and (for a create) `Location` of a written version. */
export function writtenHeaders(
  base: string,
  resource: Resource,
  versionId: number,
  options: { location?: boolean } = {},
): Record<string, string> {
  const id = resource.id ?? '';
  const lastUpdated = resource.meta?.lastUpdated;
  return {
    ETag: weakEtag(versionId),
    ...(lastUpdated ? { 'Last-Modified': new Date(lastUpdated).toUTCString() } : {}),
    ...(options.location
      ? { Location: `${resourceUrl(base, resource.resourceType, id)}/_history/${versionId}` }
      : {}),
  };
}
