/**
 * Step 2 of the saga (DESIGN.md section 4): the saga row is written before anything is sent upstream. A booking or
 * reschedule also claims the practitioner's time in the same transaction, so of two concurrent holds on it exactly
 * one wins; a cancel claims nothing.
 */
import type { Appointment } from '@medplum/fhirtypes';
import { appointmentVersionInTransaction, claimAppointment } from '../../store/appointment-claims.js';
import { storedAppointmentOverlaps } from '../../store/appointment-overlap.js';
import type { StoreTransaction } from '../../store/database.js';
import { isUniqueViolation } from '../../store/dialect-capabilities.js';
import type { HoldRequest, SagaKind } from '../booking-types.js';
import { claimTime } from '../time-claims.js';
import { INACTIVE } from './busy-time.js';
import type { BookingTenant, SagaContext } from './saga-context.js';
import { SagaFailure } from './saga-failure.js';
import { insertSaga, readOwnSaga, type NewSaga, type Saga, type SagaRequest } from './saga-store.js';
import { endOf, participantId } from './validate-step.js';

/** What a saga that holds time is about to claim. */
export interface HoldPlan {
  sagaId: string;
  kind: SagaKind;
  clientId: string | undefined;
  /** The time and the people, in FHIR ids. */
  request: HoldRequest;
  /** The same in upstream terms, as the saga row keeps it. */
  sagaRequest: SagaRequest;
  /** A reschedule: the appointment being moved, whose own time does not count as taken. */
  appointmentId?: string;
  /** A reschedule: the versions of that appointment the change is based on (see {@link claimAppointmentInTransaction}). */
  appointmentVersion?: AppointmentVersions;
}

/** The version of an appointment a change was validated against, and the one the caller named (If-Match). */
export interface AppointmentVersions {
  seen: number;
  expected?: number;
}

/**
 * Claims the time locally (and checks the store) in one transaction, writing the saga row with the connector's
 * correlation marker.
 */
export async function hold(
  ctx: SagaContext,
  tenant: BookingTenant,
  plan: HoldPlan,
  ttlMs: number = ctx.holdTtlMs,
): Promise<Saga> {
  const tenantId = tenant.config.id;
  const saga: NewSaga = {
    tenantId,
    id: plan.sagaId,
    kind: plan.kind,
    clientId: plan.clientId ?? null,
    request: plan.sagaRequest,
    marker: tenant.connector.correlationMarker(plan.sagaId),
    practitionerId: plan.request.practitionerId,
    start: plan.request.start,
    end: endOf(plan.request),
    appointmentId: plan.appointmentId ?? null,
  };
  const now = ctx.now();
  try {
    await ctx.store.write(async (trx) => {
      if (plan.appointmentId !== undefined && plan.appointmentVersion !== undefined) {
        await claimAppointmentInTransaction(
          ctx,
          trx,
          tenantId,
          plan.appointmentId,
          saga.id,
          plan.appointmentVersion,
        );
      }
      if (
        await storedAppointmentOverlaps(trx, tenantId, {
          practitionerId: saga.practitionerId,
          start: saga.start,
          end: saga.end,
          inactiveStatuses: [...INACTIVE],
          ignoreAppointmentId: plan.appointmentId,
        })
      ) {
        throw new SagaFailure('slot-taken', 'an appointment already occupies that time');
      }
      await insertSaga(trx, saga, now, ttlMs, ctx.instanceId);
      await claimTime(trx, tenantId, saga.practitionerId, saga.start, saga.end, saga.id);
    });
  } catch (err) {
    if (isUniqueViolation(ctx.store.capabilities, err)) {
      throw new SagaFailure('slot-taken', 'another booking holds that time');
    }
    throw err;
  }
  await ctx.checkpoint('held');
  return readOwnSaga(ctx.store, tenantId, saga.id);
}

/** Writes the row of a saga on an existing appointment (a cancel), claiming no time. */
export async function recordSaga(
  ctx: SagaContext,
  tenant: BookingTenant,
  sagaId: string,
  kind: SagaKind,
  appointment: Appointment,
  upstreamId: string,
  clientId: string | undefined,
  extra: Partial<SagaRequest>,
  versions: AppointmentVersions,
): Promise<Saga> {
  const tenantId = tenant.config.id;
  const practitioner = participantId(appointment, 'Practitioner') ?? '';
  await ctx.store.write(async (trx) => {
    await claimAppointmentInTransaction(ctx, trx, tenantId, appointment.id ?? '', sagaId, versions);
    await insertSaga(
      trx,
      {
        tenantId,
        id: sagaId,
        kind,
        clientId: clientId ?? null,
        request: {
          patientId: participantId(appointment, 'Patient') ?? '',
          locationId: participantId(appointment, 'Location') ?? '',
          appointmentTypeCode: appointment.appointmentType?.coding?.[0]?.code ?? '',
          minutes: appointment.minutesDuration ?? 0,
          patientUpstreamId: '',
          practitionerUpstreamId: '',
          locationUpstreamId: '',
          existingUpstreamId: upstreamId,
          ...extra,
        },
        marker: tenant.connector.correlationMarker(sagaId),
        practitionerId: practitioner,
        start: new Date(appointment.start ?? 0),
        end: new Date(appointment.end ?? 0),
        appointmentId: appointment.id ?? null,
      },
      ctx.now(),
      ctx.holdTtlMs,
      ctx.instanceId,
    );
  });
  return readOwnSaga(ctx.store, tenantId, sagaId);
}

/**
 * If-Match as compare-and-set (issue 10 item 3): the saga claims the appointment before anything goes upstream,
 * then compares the stored version with the one the change was based on, in the same transaction. The claim comes
 * first so the comparison sees every change committed before it: a change commits its new version and releases
 * its claim in one transaction. A claim held by another saga is a change in flight: refused here, before any
 * upstream write, as `version-conflict` (412) when the caller named a version — that version is about to be
 * replaced, or else the caller may retry with it — and as `invalid-state` (409) when it did not.
 */
async function claimAppointmentInTransaction(
  ctx: SagaContext,
  trx: StoreTransaction,
  tenantId: string,
  appointmentId: string,
  sagaId: string,
  versions: AppointmentVersions,
): Promise<void> {
  const expected = versions.expected ?? versions.seen;
  try {
    await claimAppointment(trx, tenantId, appointmentId, sagaId, expected);
  } catch (err) {
    if (!isUniqueViolation(ctx.store.capabilities, err)) throw err;
    if (versions.expected !== undefined) {
      throw new SagaFailure(
        'version-conflict',
        `Appointment/${appointmentId} is being changed by another request; version ${expected} will not stay current`,
      );
    }
    throw new SagaFailure(
      'invalid-state',
      `Appointment/${appointmentId} is being changed by another request`,
    );
  }
  const current = await appointmentVersionInTransaction(trx, tenantId, appointmentId);
  if (current === undefined) throw new SagaFailure('not-found', `Appointment/${appointmentId} is not known`);
  if (current !== expected) {
    throw new SagaFailure(
      versions.expected !== undefined ? 'version-conflict' : 'invalid-state',
      `Appointment/${appointmentId} is at version ${current}, not ${expected}`,
    );
  }
}
