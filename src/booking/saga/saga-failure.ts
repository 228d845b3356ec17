/**
 * Failure classification (DESIGN.md section 4, "truthful answers"): every way a saga can end without success
 * becomes one {@link BookingFailureCode}, and a saga released without a booking journals why.
 */
import { isUpstreamError, type UpstreamError } from '../../connectors/upstream-error.js';
import type { EventType, JournalEventInput } from '../../events/event-types.js';
import type { BookingFailureCode } from '../booking-types.js';
import type { SagaReleaseRow } from './saga-store.js';

/** A failure that ends the saga; thrown inside, turned into a `BookingFailure` at the edge. */
export class SagaFailure extends Error {
  constructor(
    readonly code: BookingFailureCode,
    detail: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(detail);
  }
}

/** A failure classified: its code, what happened (for the saga row) and when to try again. */
export interface ClassifiedFailure {
  code: BookingFailureCode;
  detail: string;
  retryAfterSeconds?: number;
}

/** Journal events of a saga that ends without a booking. */
export type ReleaseEvent = Extract<
  EventType,
  'booking.rolled-back' | 'booking.failed' | 'booking.hold-released' | 'booking.hold-expired'
>;

export function classify(err: unknown): ClassifiedFailure {
  if (err instanceof SagaFailure)
    return { code: err.code, detail: err.message, retryAfterSeconds: err.retryAfterSeconds };
  if (isUpstreamError(err)) return classifyUpstream(err);
  return {
    code: 'ehr-unavailable',
    detail: err instanceof Error ? err.message : String(err),
    retryAfterSeconds: 5,
  };
}

export function classifyUpstream(err: UpstreamError): ClassifiedFailure {
  switch (err.kind) {
    case 'rate-limited':
      return { code: 'rate-limited', detail: err.message, retryAfterSeconds: err.retryAfterSeconds ?? 5 };
    case 'rejected':
      return { code: 'ehr-rejected', detail: err.message };
    case 'time-taken':
      return { code: 'slot-taken', detail: err.message };
    case 'not-found':
      return { code: 'not-found', detail: err.message };
    case 'unavailable':
    case 'timeout':
    case 'unauthorized':
      return { code: 'ehr-unavailable', detail: err.message, retryAfterSeconds: err.retryAfterSeconds ?? 5 };
  }
}

/** The journal event of a saga released without a booking. */
export function failureEvent(
  eventType: ReleaseEvent,
  sagaId: string,
  saga: Pick<SagaReleaseRow, 'kind' | 'practitioner_id' | 'start_at' | 'end_at' | 'appointment_id'>,
  code: BookingFailureCode | undefined,
): JournalEventInput {
  return {
    eventType,
    ...(saga.appointment_id ? { resourceType: 'Appointment', resourceId: saga.appointment_id } : {}),
    payload: {
      bookingId: sagaId,
      kind: saga.kind,
      code: code ?? null,
      practitioner: `Practitioner/${saga.practitioner_id}`,
      start: saga.start_at,
      end: saga.end_at,
    },
  };
}
