/**
 * Step 6 of the saga (DESIGN.md section 4): the appointment, its journal event, the saga's end and the release of
 * its claims, all in one transaction.
 */
import type { Appointment } from '@medplum/fhirtypes';
import type { UpstreamRecord } from '../../connectors/connector.js';
import { toFhirResources } from '../../connectors/resolve-fhir-ids.js';
import { commitChangesInTransaction } from '../../events/change-writer.js';
import type { EventType } from '../../events/event-types.js';
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
