/**
 * Reconciliation (DESIGN.md section 4): after an unknown outcome or a crash, find what the records system really
 * holds for a saga. Bookings are found by their marker; cancels and reschedules by reading the appointment back.
 * Never re-sends.
 */
import type { Appointment } from '@medplum/fhirtypes';
import type { UpstreamRecord } from '../../connectors/connector.js';
import { toFhirResources } from '../../connectors/resolve-fhir-ids.js';
import type { BookingTenant, SagaContext } from './saga-context.js';
import { updateSaga, type Saga } from './saga-store.js';

/** The saga's write as the records system holds it, or null when it was not applied. */
export async function reconcile(
  ctx: SagaContext,
  tenant: BookingTenant,
  saga: Saga,
): Promise<UpstreamRecord<Appointment> | null> {
  if (saga.kind === 'book') {
    const found = await tenant.connector.findAppointmentsByMarker(saga.marker);
    if (found.length === 0) return null;
    // A blind re-send elsewhere may have written it twice: the first stays, the others are cancelled.
    const [keep, ...extra] = [...found].sort((a, b) => Number(a.upstreamId) - Number(b.upstreamId));
    for (const duplicate of extra) {
      await tenant.connector.cancelAppointment(duplicate.upstreamId, 'Duplicate removed by Switchboard');
    }
    await updateSaga(
      ctx.store,
      saga.tenantId,
      saga.id,
      { state: 'written', upstreamId: keep?.upstreamId },
      ctx.now(),
    );
    return keep ?? null;
  }
  const upstreamId = saga.request.existingUpstreamId as string;
  const current = await tenant.connector.readAppointment(upstreamId);
  if (!current) return null;
  const [appointment] = await toFhirResources(ctx.store, saga.tenantId, [current]);
  const applied =
    saga.kind === 'cancel'
      ? appointment?.status === 'cancelled'
      : appointment?.start !== undefined && Date.parse(appointment.start) === saga.start.getTime();
  return applied ? current : null;
}
