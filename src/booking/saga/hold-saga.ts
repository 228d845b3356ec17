/**
 * Holds for a booking confirmed later (IHE ITI-116 `$hold` / ITI-117 `$book`, standards.md 1.3): a saga of kind
 * `hold` claims the time locally and sends nothing upstream, so a hold never shows in the records system; its
 * claims are busy time to every other booking and slot search. Confirming it turns it into a `book` saga that
 * keeps its claims and marker; the recovery worker releases it once it has expired.
 */
import { readResource } from '../../store/resource-store.js';
import { upstreamIdFor } from '../../store/upstream-ids.js';
import type {
  BookingOutcome,
  BookingRequest,
  HeldTime,
  HoldOutcome,
  HoldRequest,
  HoldSuccess,
} from '../booking-types.js';
import { bookSaga, bookingSteps } from './book-saga.js';
import { hold } from './hold-step.js';
import { releaseSaga, unchangedSince } from './release-step.js';
import { refuse, runSaga } from './run-saga.js';
import { failureCodeOf } from './saga-outcome.js';
import type { BookingTenant, SagaContext } from './saga-context.js';
import {
  promoteHoldInTransaction,
  readOwnSaga,
  readSaga,
  type Saga,
  type SagaRequest,
} from './saga-store.js';
import { upstreamRequest, validate } from './validate-step.js';

/**
 * Validates the time like a booking and claims it for `ttlMs`, as saga `options.sagaId` when given (the hold id an
 * `Idempotency-Key` was bound to before the hold was made; drawn afresh otherwise).
 */
export function holdSaga(
  ctx: SagaContext,
  tenant: BookingTenant,
  request: HoldRequest,
  options: { ttlMs: number; clientId?: string; sagaId?: string },
): Promise<HoldOutcome> {
  const asBooking: BookingRequest = { ...request, patientId: request.patientId ?? '' };
  return runSaga<{ saga: Saga }, HoldSuccess>(ctx, {
    tenant,
    request: asBooking,
    sagaId: options.sagaId,
    start: async (sagaId) => {
      const { newPatientOnly, scheduleId } = await validate(ctx, tenant, asBooking);
      const sagaRequest: SagaRequest = {
        ...(await upstreamRequest(ctx, tenant.config.id, request)),
        scheduleId,
        newPatientOnly,
        fromHold: true,
      };
      const { clientId } = options;
      const saga = await hold(
        ctx,
        tenant,
        { sagaId, kind: 'hold', clientId, request, sagaRequest },
        options.ttlMs,
      );
      return { saga };
    },
    steps: async ({ saga }) => ({ ok: true, hold: heldTimeOf(saga) }),
  });
}

/** A hold made by {@link holdSaga}, in whatever state it is now; undefined for any other id. */
export async function readHold(
  ctx: SagaContext,
  tenantId: string,
  holdId: string,
): Promise<HeldTime | undefined> {
  const saga = await readSaga(ctx.store, tenantId, holdId);
  return saga?.request.fromHold === true ? heldTimeOf(saga) : undefined;
}

/**
 * Books a hold: the saga keeps its claims and marker and goes on from the live re-check, exactly like a booking.
 * A hold already booked answers its appointment again; one that lapsed (or was released) is booked afresh if the
 * time is still free.
 */
export async function confirmHoldSaga(
  ctx: SagaContext,
  tenant: BookingTenant,
  holdId: string,
  details: { patientId?: string; comment?: string },
  options: { clientId?: string },
): Promise<BookingOutcome> {
  const tenantId = tenant.config.id;
  for (let attempt = 0; ; attempt++) {
    const saga = await readSaga(ctx.store, tenantId, holdId);
    if (saga?.request.fromHold !== true) return refuse(ctx, tenant, 'not-found', `no hold ${holdId}`);
    const request: BookingRequest = {
      patientId: details.patientId ?? saga.request.patientId,
      practitionerId: saga.practitionerId,
      locationId: saga.request.locationId,
      appointmentTypeCode: saga.request.appointmentTypeCode,
      start: saga.start,
      minutes: saga.request.minutes,
      comment: details.comment ?? saga.request.comment,
    };
    if (saga.state === 'committed') {
      const stored = saga.appointmentId
        ? await readResource(ctx.store, tenantId, 'Appointment', saga.appointmentId)
        : undefined;
      if (!stored || stored.deleted) {
        return refuse(ctx, tenant, 'invalid-state', 'the appointment booked from that hold is gone');
      }
      return {
        ok: true,
        appointment: stored.resource,
        versionId: stored.versionId,
        bookingId: saga.id,
        created: false,
      };
    }
    if (request.patientId === '') return refuse(ctx, tenant, 'not-found', 'the hold names no patient');
    if (saga.state === 'released') {
      return bookSaga(ctx, tenant, request, options.clientId ?? saga.clientId ?? undefined);
    }
    if (saga.kind !== 'hold' || attempt > 2) {
      return refuse(ctx, tenant, 'invalid-state', 'that hold is being booked already');
    }
    const patientUpstreamId = await upstreamIdFor(ctx.store, tenantId, 'Patient', request.patientId);
    if (patientUpstreamId === undefined) {
      return refuse(ctx, tenant, 'not-found', `Patient/${request.patientId} is not known`);
    }
    const sagaRequest: SagaRequest = {
      ...saga.request,
      patientId: request.patientId,
      patientUpstreamId,
      comment: request.comment,
    };
    const promoted = await ctx.store.write((trx) =>
      promoteHoldInTransaction(trx, tenantId, holdId, sagaRequest, ctx.now()),
    );
    // Released by recovery or confirmed by someone else meanwhile: look again.
    if (!promoted) continue;
    return runSaga(ctx, {
      tenant,
      sagaId: holdId,
      request,
      start: async () => ({ saga: await readOwnSaga(ctx.store, tenantId, holdId) }),
      steps: ({ saga: booking }) =>
        bookingSteps(ctx, tenant, booking, request, sagaRequest.newPatientOnly === true),
    });
  }
}

/** Gives up a hold (the client cancelled it): its claims are released at once. */
export async function releaseHoldSaga(
  ctx: SagaContext,
  tenant: BookingTenant,
  holdId: string,
): Promise<HoldOutcome> {
  const tenantId = tenant.config.id;
  const saga = await readSaga(ctx.store, tenantId, holdId);
  if (saga?.request.fromHold !== true) return refuse(ctx, tenant, 'not-found', `no hold ${holdId}`);
  const released =
    saga.kind === 'hold' &&
    saga.state === 'held' &&
    (await releaseSaga(
      ctx,
      tenantId,
      holdId,
      'released by the client',
      'booking.hold-released',
      undefined,
      unchangedSince(saga),
    ));
  if (!released) return refuse(ctx, tenant, 'invalid-state', 'that hold was already booked or released');
  return { ok: true, hold: heldTimeOf(await readOwnSaga(ctx.store, tenantId, holdId)) };
}

/** The hold a saga of kind `hold` stands for, or the booking a `book` saga is making. */
export function heldTimeOf(saga: Saga): HeldTime {
  const ended = saga.state === 'released' || saga.state === 'needs-attention';
  return {
    holdId: saga.id,
    kind: saga.request.fromHold === true ? 'hold' : 'booking',
    state: saga.state === 'committed' ? 'confirmed' : ended ? 'released' : 'held',
    ...(ended ? { failureCode: failureCodeOf(saga) } : {}),
    practitionerId: saga.practitionerId,
    locationId: saga.request.locationId,
    ...(saga.request.patientId ? { patientId: saga.request.patientId } : {}),
    appointmentTypeCode: saga.request.appointmentTypeCode,
    start: saga.start,
    end: saga.end,
    minutes: saga.request.minutes,
    ...(saga.request.comment ? { comment: saga.request.comment } : {}),
    expiresAt: new Date(saga.expiresAt),
    ...(saga.appointmentId ? { appointmentId: saga.appointmentId } : {}),
  };
}
