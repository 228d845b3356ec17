/**
 * The manual-intervention hand-over (DESIGN.md section 4, "Truthful answers"): what a saga cannot resolve by itself
 * after its write (the original time was taken meanwhile; the records system keeps refusing the cancel) becomes a
 * FHIR `Task` for the practice's staff and a `booking.needs-attention` event, written through the one write path
 * together with the saga's end, so the item is readable and searchable through the facade and reaches subscribers.
 */
import type { Task } from '@medplum/fhirtypes';
import { recordChanges } from '../../events/change-writer.js';
import { releaseClaims } from '../time-claims.js';
import type { SagaContext } from './saga-context.js';
import { readSagaInTransaction, updateSagaInTransaction, type Saga } from './saga-store.js';

/** Identifier system of a manual-intervention Task: its value is the saga's id. */
export const BOOKING_SAGA_SYSTEM = 'https://switchboard.health/fhir/booking-saga';

/** Why staff must act, and what they must do (both read by people). */
export interface AttentionItem {
  reason: string;
  action: string;
  /** The FHIR id of the appointment concerned, when it is known to the store. */
  appointmentId?: string;
}

/**
 * Ends the saga as `needs-attention`: the Task (its id is the saga's, so a second hand-over changes nothing), the
 * event, the saga row and the release of its claims in one transaction. False when the saga had already ended.
 */
export async function needsAttention(ctx: SagaContext, saga: Saga, item: AttentionItem): Promise<boolean> {
  const now = ctx.now();
  const appointmentId = item.appointmentId ?? saga.appointmentId ?? undefined;
  const task: Task & { id: string } = {
    resourceType: 'Task',
    id: saga.id,
    identifier: [{ system: BOOKING_SAGA_SYSTEM, value: saga.id }],
    status: 'requested',
    intent: 'order',
    priority: 'urgent',
    code: { text: item.action },
    description: item.action,
    ...(appointmentId ? { focus: { reference: `Appointment/${appointmentId}` } } : {}),
    for: { reference: `Patient/${saga.request.patientId}` },
    authoredOn: now.toISOString(),
    reasonCode: { text: item.reason },
    note: [{ text: item.reason, time: now.toISOString() }],
  };
  const handed = await ctx.store.write(async (trx) => {
    const row = await readSagaInTransaction(trx, saga.tenantId, saga.id);
    if (!row || ['released', 'committed', 'needs-attention'].includes(row.state)) return false;
    await recordChanges(
      trx,
      saga.tenantId,
      {
        resources: [{ op: 'upsert', resource: task }],
        events: [
          {
            eventType: 'booking.needs-attention',
            resourceType: 'Task',
            resourceId: task.id,
            payload: {
              bookingId: saga.id,
              kind: saga.kind,
              reason: item.reason,
              action: item.action,
              appointment: appointmentId ? `Appointment/${appointmentId}` : null,
              practitioner: `Practitioner/${saga.practitionerId}`,
              start: saga.start.toISOString(),
              end: saga.end.toISOString(),
            },
          },
        ],
      },
      now,
    );
    await updateSagaInTransaction(
      trx,
      saga.tenantId,
      saga.id,
      { state: 'needs-attention', errorDetail: item.reason },
      now,
    );
    await releaseClaims(trx, saga.tenantId, saga.id);
    return true;
  });
  if (handed) {
    ctx.needsAttention(saga.tenantId, item.reason);
    ctx.logger.error(
      { tenant: saga.tenantId, saga: saga.id, reason: item.reason },
      'booking needs attention',
    );
  }
  return handed;
}
