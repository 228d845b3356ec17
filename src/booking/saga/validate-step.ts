/**
 * Step 1 of the saga (DESIGN.md section 4): the request against the practice's rules and the claim grid, its FHIR
 * ids turned into upstream ids, and — for cancel and reschedule — the appointment as stored at the version the
 * caller saw.
 */
import type { Appointment } from '@medplum/fhirtypes';
import { readResource } from '../../store/resource-store.js';
import { upstreamIdFor } from '../../store/upstream-ids.js';
import type { BookingRequest, HoldRequest } from '../booking-types.js';
import { onClaimGrid } from '../time-claims.js';
import type { BookingTenant, RuleVerdict, SagaContext } from './saga-context.js';
import { SagaFailure } from './saga-failure.js';
import type { SagaRequest } from './saga-store.js';

/** The practice's rules over the store, and the 5-minute grid time claims need. */
export async function validate(
  ctx: SagaContext,
  tenant: BookingTenant,
  request: BookingRequest & { ignoreAppointmentId?: string },
): Promise<Extract<RuleVerdict, { ok: true }>> {
  const verdict = await ctx.rules.check(tenant.config, request, ctx.now());
  if (!verdict.ok) throw new SagaFailure(verdict.code, verdict.message ?? verdict.code);
  if (!onClaimGrid(request.start, endOf(request))) {
    throw new SagaFailure('off-grid', 'start and duration must be whole multiples of 5 minutes');
  }
  return verdict;
}

/** When the requested time ends. */
export function endOf(request: Pick<HoldRequest, 'start' | 'minutes'>): Date {
  return new Date(request.start.getTime() + request.minutes * 60_000);
}

/** The request in the upstream ids the records system knows; `not-found` for an id the store cannot map. */
export async function upstreamRequest(
  ctx: SagaContext,
  tenantId: string,
  request: HoldRequest,
): Promise<SagaRequest> {
  const lookup = async (type: 'Patient' | 'Practitioner' | 'Location', id: string): Promise<string> => {
    const upstream = await upstreamIdFor(ctx.store, tenantId, type, id);
    if (upstream === undefined) throw new SagaFailure('not-found', `${type}/${id} is not known`);
    return upstream;
  };
  return {
    patientId: request.patientId ?? '',
    locationId: request.locationId,
    appointmentTypeCode: request.appointmentTypeCode,
    minutes: request.minutes,
    comment: request.comment,
    patientUpstreamId: request.patientId === undefined ? '' : await lookup('Patient', request.patientId),
    practitionerUpstreamId: await lookup('Practitioner', request.practitionerId),
    locationUpstreamId: await lookup('Location', request.locationId),
  };
}

/** The appointment as stored, checked against the version the caller saw. */
export async function existingAppointment(
  ctx: SagaContext,
  tenant: BookingTenant,
  appointmentId: string,
  expectedVersion: number | undefined,
): Promise<{ appointment: Appointment; upstreamId: string; versionId: number }> {
  const tenantId = tenant.config.id;
  const stored = await readResource(ctx.store, tenantId, 'Appointment', appointmentId);
  const upstreamId = await upstreamIdFor(ctx.store, tenantId, 'Appointment', appointmentId);
  if (!stored || stored.deleted || upstreamId === undefined) {
    throw new SagaFailure('not-found', `Appointment/${appointmentId} is not known`);
  }
  if (expectedVersion !== undefined && expectedVersion !== stored.versionId) {
    throw new SagaFailure(
      'version-conflict',
      `Appointment/${appointmentId} is at version ${stored.versionId}, not ${expectedVersion}`,
    );
  }
  return { appointment: stored.resource, upstreamId, versionId: stored.versionId };
}

export function participantId(
  appointment: Appointment,
  type: 'Patient' | 'Practitioner' | 'Location',
): string | undefined {
  const reference = appointment.participant
    ?.map((p) => p.actor?.reference)
    .find((r) => r?.startsWith(`${type}/`));
  return reference?.slice(type.length + 1);
}

/** The booking request that moves `appointment` to `start` (and, optionally, another length). */
export function requestFromAppointment(
  appointment: Appointment,
  start: Date,
  minutes?: number,
): BookingRequest {
  const patientId = participantId(appointment, 'Patient');
  const practitionerId = participantId(appointment, 'Practitioner');
  const locationId = participantId(appointment, 'Location');
  const typeCode = appointment.appointmentType?.coding?.[0]?.code;
  if (!patientId || !practitionerId || !locationId || !typeCode) {
    throw new SagaFailure('invalid-state', 'the appointment lacks a patient, practitioner, location or type');
  }
  return {
    patientId,
    practitionerId,
    locationId,
    appointmentTypeCode: typeCode,
    start,
    minutes: minutes ?? appointment.minutesDuration ?? 15,
    comment: appointment.comment,
  };
}
