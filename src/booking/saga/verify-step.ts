/**
 * Step 5 of the saga (DESIGN.md section 4): read back around the written appointment. It must be what was asked
 * (some FHIR servers book another free Slot at the same time than the one passed: issue 12), it must be there once
 * and nothing else may now overlap it (the front desk may have booked the same time a moment ago); then step 6.
 */
import type { Appointment } from '@medplum/fhirtypes';
import type { UpstreamRecord } from '../../connectors/connector.js';
import { toFhirResources } from '../../connectors/resolve-fhir-ids.js';
import type { BookingOutcome } from '../booking-types.js';
import { LOOKBEHIND_MS, occupiesTime, overlaps } from './busy-time.js';
import { commit } from './commit-step.js';
import { compensate } from './compensate-step.js';
import type { BookingTenant, SagaContext } from './saga-context.js';
import { SagaFailure } from './saga-failure.js';
import type { Saga } from './saga-store.js';

/** Verifies the write and commits it; a clash is compensated and fails `slot-taken`. */
export async function verifyAndCommit(
  ctx: SagaContext,
  tenant: BookingTenant,
  saga: Saga,
  written: UpstreamRecord<Appointment>,
): Promise<BookingOutcome> {
  if (!(await isWhatWasAsked(ctx, saga, written))) {
    await compensate(
      ctx,
      tenant,
      { ...saga, upstreamId: written.upstreamId },
      'the records system booked another practitioner, place or time than asked',
    );
    throw new SagaFailure(
      'ehr-rejected',
      'the records system booked another practitioner, place or time than asked; it was undone',
    );
  }
  const around = await tenant.connector.appointmentsInWindow({
    from: new Date(saga.start.getTime() - LOOKBEHIND_MS),
    to: saga.end,
    practitionerUpstreamId: saga.request.practitionerUpstreamId,
  });
  const resources = await toFhirResources(ctx.store, saga.tenantId, around);
  const clash = around.some(
    (record, i) =>
      record.upstreamId !== written.upstreamId &&
      occupiesTime(resources[i]) &&
      overlaps(resources[i]?.start, resources[i]?.end, saga),
  );
  if (clash) {
    // The front desk booked the same time a moment ago: theirs stands, ours is undone.
    await compensate(
      ctx,
      tenant,
      { ...saga, upstreamId: written.upstreamId },
      'conflicting booking found after writing',
    );
    throw new SagaFailure('slot-taken', 'the records system received another booking for that time');
  }
  const event = saga.kind === 'reschedule' ? 'appointment.rescheduled' : 'appointment.booked';
  await ctx.checkpoint('verified');
  return commit(ctx, saga, written, event);
}

/** The written appointment is for the practitioner, location and time the saga asked for. */
async function isWhatWasAsked(
  ctx: SagaContext,
  saga: Saga,
  written: UpstreamRecord<Appointment>,
): Promise<boolean> {
  const has = (type: 'Practitioner' | 'Location', id: string) =>
    written.references.some((r) => r.resourceType === type && r.upstreamId === id);
  if (!has('Practitioner', saga.request.practitionerUpstreamId)) return false;
  if (!has('Location', saga.request.locationUpstreamId)) return false;
  const [appointment] = await toFhirResources(ctx.store, saga.tenantId, [written]);
  return (
    appointment?.start !== undefined &&
    Date.parse(appointment.start) === saga.start.getTime() &&
    (appointment.end === undefined || Date.parse(appointment.end) === saga.end.getTime())
  );
}
