/**
 * Booking metrics (issue 15): outcomes by reason and saga durations, labelled by tenant, kind, outcome and reason
 * code only — never by patient, practitioner or appointment.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { BookingOutcome } from './booking-types.js';

/** What a booking, cancel or reschedule ended as. */
export type BookingMetricKind = 'book' | 'cancel' | 'reschedule';

export interface BookingMetrics {
  /** Records a finished request: its outcome and how long its saga ran. */
  finished(tenantId: string, kind: BookingMetricKind, outcome: BookingOutcome, seconds: number): void;
}

export function createBookingMetrics(registry: Registry | undefined): BookingMetrics | undefined {
  if (!registry) return undefined;
  const registers = [registry];
  const outcomes = new Counter({
    name: 'switchboard_bookings_total',
    help: 'Bookings, cancellations and reschedules by tenant, kind and outcome (done, duplicate, refused), with the refusal reason code',
    labelNames: ['tenant', 'kind', 'outcome', 'reason'],
    registers,
  });
  const durations = new Histogram({
    name: 'switchboard_booking_saga_duration_seconds',
    help: 'Time from request to the end of its saga (after a 202 booking-pending answer, until it resolved)',
    labelNames: ['tenant', 'kind', 'outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers,
  });
  return {
    finished(tenant, kind, outcome, seconds) {
      const result = outcome.ok ? (outcome.duplicate ? 'duplicate' : 'done') : 'refused';
      outcomes.inc({ tenant, kind, outcome: result, reason: outcome.ok ? '' : outcome.code });
      durations.observe({ tenant, kind, outcome: result }, seconds);
    },
  };
}
