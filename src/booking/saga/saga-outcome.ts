/**
 * The outcome of a booking saga as it stands now (DESIGN.md section 4, "Truthful answers"): what a client that was
 * told `booking-pending` gets when it asks again with the same Idempotency-Key.
 */
import type { Appointment } from '@medplum/fhirtypes';
import { readResource } from '../../store/resource-store.js';
import { patientMessages, type BookingFailureCode, type BookingOutcome } from '../booking-types.js';
import { pendingOutcome } from './run-saga.js';
import type { SagaContext } from './saga-context.js';
import { readSaga, type Saga } from './saga-store.js';

const FAILURE_CODES = new Set<string>(Object.keys(patientMessages));

/**
 * The final outcome of saga `bookingId` once it has ended (committed: the appointment; released or handed to
 * staff: its failure), else `booking-pending`. The caller first asks the process that may still be validating or
 * queueing a saga not recorded yet (`BookingService.outcomeOf`).
 */
export async function sagaOutcome(
  ctx: SagaContext,
  tenantId: string,
  bookingId: string,
): Promise<BookingOutcome> {
  const saga = await readSaga(ctx.store, tenantId, bookingId);
  if (saga?.state === 'committed' && saga.appointmentId) {
    const stored = await readResource(ctx.store, tenantId, 'Appointment', saga.appointmentId);
    if (stored) {
      return {
        ok: true,
        appointment: stored.resource as Appointment,
        versionId: stored.versionId,
        bookingId,
        created: saga.kind === 'book',
      };
    }
  }
  if (saga?.state === 'released' || saga?.state === 'needs-attention') {
    const code = failureCodeOf(saga);
    return { ok: false, code, message: patientMessages[code], alternatives: [], bookingId };
  }
  if (!saga) {
    // Never recorded here, and its process knows nothing of it (another instance, or a restart): nothing was
    // held or sent for it, so nothing was booked.
    return {
      ok: false,
      code: 'ehr-unavailable',
      message: patientMessages['ehr-unavailable'],
      alternatives: [],
    };
  }
  return pendingOutcome(bookingId);
}

/** Why a saga that ended without a booking (released, or handed to staff) failed. */
export function failureCodeOf(saga: Pick<Saga, 'state' | 'errorCode'>): BookingFailureCode {
  // Handed to staff after a write that could not be undone: whatever went wrong first, it is not "refused".
  if (saga.state === 'needs-attention') return 'needs-attention';
  if (saga.errorCode && FAILURE_CODES.has(saga.errorCode)) return saga.errorCode as BookingFailureCode;
  return 'ehr-unavailable';
}
