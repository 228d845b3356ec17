/**
 * Step 6 of the saga (DESIGN.md section 4): the appointment, its journal event, the saga's end and the release of
 * its claims, all in one transaction.
 */
import type { Appointment } from '@medplum/fhirtypes';
import type { UpstreamRecord } from '../../connectors/connector.js';
import { toFhirResources } from '../../connectors/resolve-fhir-ids.js';
import { commitChangesInTransaction } from '../../events/change-writer.js';
import type { EventType } from '../../events/event-types.js';
import {
  appointmentVersionInTransaction,
  claimedAppointmentVersion,
} from '../../store/appointment-claims.js';
import type { StoreTransaction } from '../../store/database.js';
import { readResource } from '../../store/resource-store.js';
import type { BookingOutcome } from '../booking-types.js';
import { releaseClaims } from '../time-claims.js';
import type { SagaContext } from './saga-context.js';
import { updateSagaInTransaction, type Saga } from './saga-store.js';

/** Stores the written appointment, journals `eventType` and marks the saga committed. */
export async function commit(
  ctx: SagaContext,
  saga: Saga,
  record: UpstreamRecord<Appointment>,
  eventType: EventType,
): Promise<BookingOutcome> {
  const [appointment] = await toFhirResources(ctx.store, saga.tenantId, [record]);
  if (!appointment?.id) throw new Error('mapped appointment has no id');
  const now = ctx.now();
  const result = await ctx.store.write(async (trx) => {
    await checkAppointmentClaim(ctx, trx, saga);
    const committed = await commitChangesInTransaction(
      trx,
      saga.tenantId,
      [{ op: 'upsert', resource: appointment as Appointment & { id: string } }],
      [
        {
          eventType,
          resourceType: 'Appointment',
          resourceId: appointment.id,
          payload: { bookingId: saga.id, via: 'switchboard' },
        },
      ],
      now,
    );
    await updateSagaInTransaction(
      trx,
      saga.tenantId,
      saga.id,
      { state: 'committed', appointmentId: appointment.id },
      now,
    );
    await releaseClaims(trx, saga.tenantId, saga.id);
    return committed;
  });
  await ctx.checkpoint('committed');
  const stored = await readResource(ctx.store, saga.tenantId, 'Appointment', appointment.id);
  if (!stored) throw new Error('committed appointment is not readable');
  return {
    ok: true,
    appointment: stored.resource,
    versionId: stored.versionId,
    bookingId: saga.id,
    created: result.written.length > 0 && saga.kind === 'book',
  };
}

/**
 * The compare half of If-Match's compare-and-set, in the commit transaction: a cancel or reschedule still holds
 * the claim on its appointment (taken before the upstream write, see hold-step.ts), so no other Switchboard change
 * of it can have committed, and the stored version is still the one the change was based on. A version that moved
 * anyway came from the records system itself (a sync pass importing a front-desk edit made while our write was in
 * flight). The write has happened upstream by now, and the records system's answer to it is its latest state, so
 * the commit goes on: refusing here would leave the store disagreeing with the records system. It is logged.
 */
async function checkAppointmentClaim(ctx: SagaContext, trx: StoreTransaction, saga: Saga): Promise<void> {
  if (saga.kind !== 'cancel' && saga.kind !== 'reschedule') return;
  const claim = await claimedAppointmentVersion(trx, saga.tenantId, saga.id);
  const current =
    saga.appointmentId === null
      ? undefined
      : await appointmentVersionInTransaction(trx, saga.tenantId, saga.appointmentId);
  if (claim === undefined || claim.versionId !== current) {
    ctx.logger.warn(
      { tenant: saga.tenantId, saga: saga.id, appointment: saga.appointmentId, claim, current },
      'appointment changed outside this saga while its write was in flight; storing the records system answer',
    );
  }
}
