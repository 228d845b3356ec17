/**
 * A new booking as a saga (DESIGN.md section 4): validate → hold → live re-check → write with the connector's
 * correlation marker → verify → commit. A confirmed `$hold` joins it at the live re-check.
 */
import type { BookingOutcome, BookingRequest } from '../booking-types.js';
import { hold } from './hold-step.js';
import { liveRecheck, requireNewPatient } from './live-recheck-step.js';
import { runSaga } from './run-saga.js';
import { SagaFailure } from './saga-failure.js';
import type { BookingTenant, SagaContext } from './saga-context.js';
import type { Saga } from './saga-store.js';
import { upstreamRequest, validate } from './validate-step.js';
import { verifyAndCommit } from './verify-step.js';
import { appointmentWrite, write } from './write-step.js';

/** Books a new appointment. */
export function bookSaga(
  ctx: SagaContext,
  tenant: BookingTenant,
  request: BookingRequest,
  clientId?: string,
  sagaId?: string,
  signal?: AbortSignal,
): Promise<BookingOutcome> {
  return runSaga(ctx, {
    tenant,
    sagaId,
    request,
    start: async (sagaId) => {
      const { newPatientOnly, scheduleId } = await validate(ctx, tenant, request);
      const sagaRequest = { ...(await upstreamRequest(ctx, tenant.config.id, request)), scheduleId };
      const saga = await hold(ctx, tenant, { sagaId, kind: 'book', clientId, request, sagaRequest });
      return { saga, newPatientOnly };
    },
    steps: ({ saga, newPatientOnly }) => bookingSteps(ctx, tenant, saga, request, newPatientOnly, signal),
  });
}

/** The steps of a booking once its time is held: the same for a new booking and a confirmed hold. */
export async function bookingSteps(
  ctx: SagaContext,
  tenant: BookingTenant,
  saga: Saga,
  request: BookingRequest,
  newPatientOnly: boolean,
  signal?: AbortSignal,
): Promise<BookingOutcome> {
  await liveRecheck(ctx, tenant, saga);
  if (newPatientOnly) await requireNewPatient(ctx, tenant, saga);
  // The caller has gone: nothing was sent upstream yet, so the saga is released rather than written for nobody.
  if (signal?.aborted) throw new SagaFailure('ehr-unavailable', 'the caller disconnected before the write');
  const written = await write(ctx, tenant, saga, () =>
    tenant.connector.createAppointment(appointmentWrite(saga.request, request, saga.marker, request.comment)),
  );
  return verifyAndCommit(ctx, tenant, saga, written);
}
