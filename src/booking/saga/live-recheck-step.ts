/**
 * Step 3 of the saga (DESIGN.md section 4): ask the records system itself whether the time is still free — never
 * trust the cached copy here — and, for a new-patient visit, whether the patient was ever seen.
 */
import { scheduleIdAt } from '../../availability/schedules.js';
import { toFhirResources } from '../../connectors/resolve-fhir-ids.js';
import { LOOKBEHIND_MS, occupiesTime, overlaps } from './busy-time.js';
import type { BookingTenant, SagaContext } from './saga-context.js';
import { SagaFailure } from './saga-failure.js';
import type { Saga } from './saga-store.js';

/** Fails `slot-taken` or `provider-unavailable` when the records system has the time busy or blocked. */
export async function liveRecheck(
  ctx: SagaContext,
  tenant: BookingTenant,
  saga: Saga,
  ownUpstreamId?: string,
): Promise<void> {
  const query = {
    from: new Date(saga.start.getTime() - LOOKBEHIND_MS),
    to: saga.end,
    practitionerUpstreamId: saga.request.practitionerUpstreamId,
  };
  const [appointments, blocks] = await Promise.all([
    tenant.connector.appointmentsInWindow(query),
    tenant.connector.blocksInWindow(query),
  ]);
  const others = appointments.filter((r) => r.upstreamId !== ownUpstreamId);
  const busy = (await toFhirResources(ctx.store, saga.tenantId, others)).filter(
    (a) => occupiesTime(a) && overlaps(a.start, a.end, saga),
  );
  if (busy.length > 0)
    throw new SagaFailure('slot-taken', 'the records system already has an appointment then');
  // A block closes one schedule (practitioner × location): the practitioner's time at another location, closed
  // that day because they work elsewhere, does not close this one.
  const schedule =
    saga.request.scheduleId ??
    (await scheduleIdAt(ctx.store, saga.tenantId, saga.practitionerId, saga.request.locationId));
  const closed = (await toFhirResources(ctx.store, saga.tenantId, blocks)).filter(
    (b) =>
      overlaps(b.start, b.end, saga) &&
      (schedule === undefined || b.schedule.reference === `Schedule/${schedule}`),
  );
  if (closed.length > 0)
    throw new SagaFailure('provider-unavailable', 'the records system has that time blocked');
}

/** A new-patient visit is for a patient the practice has never seen: no visit in the records system yet. */
export async function requireNewPatient(ctx: SagaContext, tenant: BookingTenant, saga: Saga): Promise<void> {
  const history = await toFhirResources(
    ctx.store,
    saga.tenantId,
    await tenant.connector.patientAppointments(saga.request.patientUpstreamId),
  );
  if (
    history.some(
      (a) =>
        a.status === 'fulfilled' ||
        a.status === 'checked-in' ||
        a.status === 'arrived' ||
        (occupiesTime(a) && Date.parse(a.start ?? '') < saga.start.getTime()),
    )
  ) {
    throw new SagaFailure(
      'new-patients-only',
      'a new-patient visit is only for patients who have not been seen before',
    );
  }
}
