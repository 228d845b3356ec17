/**
 * How a patient registration whose outcome is not known yet is answered (issue 10 item 5): the records system may
 * have created the patient and a search could not tell yet. `POST Patient` answers `202 Accepted` with an
 * OperationOutcome coded `registration-pending` (never stored under the Idempotency-Key: the same request again
 * reconciles and gets the final answer, and never creates a second patient); `$book`, which cannot book for a
 * patient it cannot name, answers `503` with the same code and `Retry-After`.
 */
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { PatientRegistrationPending } from '../../src/booking/patient-registration.js';
import type { InteractionResult } from '../interactions/interaction-deps.js';
import { FhirError, SWITCHBOARD_ISSUE_SYSTEM } from '../operation-outcome.js';

/** Switchboard's issue code of a registration whose outcome is not known yet. */
export const REGISTRATION_PENDING_CODE = 'registration-pending';

function pendingOutcome(pending: PatientRegistrationPending): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'warning',
        code: 'transient',
        details: {
          coding: [{ system: SWITCHBOARD_ISSUE_SYSTEM, code: REGISTRATION_PENDING_CODE }],
          text: pending.message,
        },
        diagnostics: pending.message,
      },
    ],
  };
}

/** `POST Patient`'s 202 answer. */
export function registrationPendingResult(
  pending: PatientRegistrationPending,
): InteractionResult & { resourceIds: string[] } {
  return {
    status: 202,
    body: pendingOutcome(pending),
    headers: { 'Retry-After': String(pending.retryAfterSeconds) },
    resourceIds: [],
  };
}

/** The 503 of an operation that needed the patient registered first. */
export function registrationPendingError(pending: PatientRegistrationPending): FhirError {
  return new FhirError(503, pendingOutcome(pending), { 'Retry-After': String(pending.retryAfterSeconds) });
}
