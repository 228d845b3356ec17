/**
 * The one run skeleton every saga kind shares (DESIGN.md section 4): start the saga (validate, write its row and
 * claims), run its steps while the recovery worker keeps off it, and turn any way it ends without success into a
 * typed failure — releasing what it held and offering alternatives where the time was the problem.
 */
import { randomUUID } from 'node:crypto';
import { BOOKING_RULE_CODES } from '../../availability/slot-calculator.js';
import { isUpstreamError } from '../../connectors/upstream-error.js';
import {
  patientMessages,
  type BookingFailure,
  type BookingFailureCode,
  type BookingRequest,
} from '../booking-types.js';
import { releaseSaga } from './release-step.js';
import type { BookingTenant, SagaContext } from './saga-context.js';
import { SagaFailure, classify } from './saga-failure.js';
import { readSaga, updateSaga, type Saga } from './saga-store.js';

/** One saga of one kind, as {@link runSaga} runs it. */
export interface SagaRun<Started extends { saga: Saga }, Success> {
  tenant: BookingTenant;
  /** An existing saga to go on with (a confirmed hold); a new one gets a fresh id. */
  sagaId?: string;
  /** The request a definite failure offers alternatives around, when known before the saga starts. */
  request?: BookingRequest;
  /**
   * Validates and writes the saga row (and claims, where it holds time); nothing goes upstream yet.
   * `alternativesAround` names the request once it is known, for a saga that learns it only here.
   */
  start(sagaId: string, alternativesAround: (request: BookingRequest) => void): Promise<Started>;
  /** The steps after the saga is recorded: the live re-check, the write, verify and commit. */
  steps(started: Started): Promise<Success>;
}

/** Runs a saga from start to end; a failure at any point is released (or left to recovery) and answered. */
export async function runSaga<Started extends { saga: Saga }, Success>(
  ctx: SagaContext,
  run: SagaRun<Started, Success>,
): Promise<Success | BookingFailure> {
  const sagaId = run.sagaId ?? randomUUID();
  let request = run.request;
  try {
    const started = await run.start(sagaId, (known) => {
      request = known;
    });
    ctx.active.add(sagaId);
    ctx.recorded(sagaId);
    return await run.steps(started);
  } catch (err) {
    return failSaga(ctx, run.tenant, sagaId, request, err);
  } finally {
    ctx.active.delete(sagaId);
  }
}

/** A typed failure that touches no saga. */
export function refuse(
  ctx: SagaContext,
  tenant: BookingTenant,
  code: BookingFailureCode,
  detail: string,
  retryAfterSeconds?: number,
): Promise<BookingFailure> {
  return failSaga(ctx, tenant, randomUUID(), undefined, new SagaFailure(code, detail, retryAfterSeconds));
}

/** The edge: every way a saga can end without success becomes a typed failure, with alternatives. */
export async function failSaga(
  ctx: SagaContext,
  tenant: BookingTenant,
  sagaId: string,
  request: BookingRequest | undefined,
  err: unknown,
): Promise<BookingFailure> {
  const failure = classify(err);
  if (!(err instanceof SagaFailure) && !isUpstreamError(err)) {
    ctx.logger.error({ err, tenant: tenant.config.id, saga: sagaId }, 'booking failed unexpectedly');
  }
  const saga = await readSaga(ctx.store, tenant.config.id, sagaId);
  const inFlight = saga !== undefined && afterWrite(saga, err);
  if (saga && inFlight) {
    // The write may stand upstream: never released here. The recovery worker reconciles by marker (or finishes
    // the compensation) and only then releases; the answer is `booking-pending`, never "nothing was booked".
    if (saga.state === 'writing' || saga.state === 'written') {
      await updateSaga(
        ctx.store,
        saga.tenantId,
        saga.id,
        { state: 'unknown', errorDetail: failure.detail },
        ctx.now(),
      );
    }
    ctx.logger.warn(
      { err, tenant: tenant.config.id, saga: sagaId },
      'saga left to reconciliation after its write',
    );
    ctx.leftToRecovery();
    return pendingOutcome(sagaId);
  }
  if (saga?.state === 'needs-attention') {
    // Its compensation could not undo the write (e.g. a reschedule whose original time was taken meanwhile): the
    // change stands upstream until staff act, so the failure that started the compensation is not the answer.
    return {
      ok: false,
      code: 'needs-attention',
      message: patientMessages['needs-attention'],
      alternatives: [],
      bookingId: sagaId,
    };
  }
  if (saga && saga.state !== 'committed' && saga.state !== 'released') {
    await releaseSaga(ctx, tenant.config.id, sagaId, failure.detail, 'booking.failed', failure.code);
  }
  const alternatives =
    request &&
    ['slot-taken', 'outside-hours', 'provider-unavailable', ...BOOKING_RULE_CODES].includes(failure.code)
      ? await ctx.rules.alternatives(tenant.config, request, ctx.now(), 3).catch(() => [])
      : [];
  return {
    ok: false,
    code: failure.code,
    message: patientMessages[failure.code],
    retryAfterSeconds: failure.retryAfterSeconds,
    alternatives,
    bookingId: saga ? sagaId : undefined,
  };
}

/**
 * True when the saga's write may stand upstream: it was sent (`writing`) and did not fail definitely before being
 * applied, or it was written, or its outcome is unknown, or its compensation has not finished.
 */
function afterWrite(saga: Saga, err: unknown): boolean {
  switch (saga.state) {
    case 'writing':
      return !(isUpstreamError(err) && err.outcome === 'not-applied');
    case 'unknown':
    case 'written':
    case 'compensating':
      return true;
    case 'held':
    case 'committed':
    case 'released':
    case 'needs-attention':
      return false;
  }
}

/** The answer while a saga's outcome is not known yet: `booking-pending`, with the saga to ask about later. */
export function pendingOutcome(sagaId: string): BookingFailure {
  return {
    ok: false,
    code: 'booking-pending',
    message: patientMessages['booking-pending'],
    alternatives: [],
    bookingId: sagaId,
  };
}
