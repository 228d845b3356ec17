/**
 * Step 4 of the saga (DESIGN.md section 4): the one upstream write, with the saga row recording that it is being
 * sent and what came back. An unknown outcome (timeout, dropped connection) is reconciled by marker, never re-sent.
 */
import type { Appointment } from '@medplum/fhirtypes';
import type { AppointmentWrite, UpstreamRecord } from '../../connectors/connector.js';
import { isUpstreamError } from '../../connectors/upstream-error.js';
import type { BookingRequest } from '../booking-types.js';
import { reconcile } from './reconcile-step.js';
import type { BookingTenant, SagaContext } from './saga-context.js';
import { updateSaga, type Saga, type SagaPatch, type SagaRequest } from './saga-store.js';

/** Sends the write; an outcome that may have been applied is reconciled before anything is concluded. */
export async function write(
  ctx: SagaContext,
  tenant: BookingTenant,
  saga: Saga,
  send: () => Promise<UpstreamRecord<Appointment>>,
): Promise<UpstreamRecord<Appointment>> {
  const record = (patch: SagaPatch): Promise<void> =>
    updateSaga(ctx.store, saga.tenantId, saga.id, patch, ctx.now());
  await record({ state: 'writing' });
  try {
    const sending = send();
    // A rejection while the checkpoint runs is handled by the `await` below, not reported as unhandled.
    sending.catch(() => undefined);
    await ctx.checkpoint('write-sent');
    const written = await sending;
    await ctx.checkpoint('written');
    await record({ state: 'written', upstreamId: written.upstreamId });
    return written;
  } catch (err) {
    if (!isUpstreamError(err) || err.outcome === 'not-applied') throw err;
    await record({ state: 'unknown', errorDetail: err.message });
    await ctx.checkpoint('unknown');
    const found = await reconcile(ctx, tenant, { ...saga, state: 'unknown' });
    if (!found) throw err;
    return found;
  }
}

/** What the records system is asked to write: the request in upstream ids, with the saga's marker. */
export function appointmentWrite(
  upstream: SagaRequest,
  request: BookingRequest,
  marker: string,
  comment: string | undefined,
): AppointmentWrite {
  return {
    patientUpstreamId: upstream.patientUpstreamId,
    practitionerUpstreamId: upstream.practitionerUpstreamId,
    locationUpstreamId: upstream.locationUpstreamId,
    appointmentTypeCode: request.appointmentTypeCode,
    start: request.start,
    minutes: request.minutes,
    comment,
    marker,
  };
}
