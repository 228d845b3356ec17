/**
 * Booking figures for the operator console (issue 15): what happened to the bookings agents and integrators
 * attempted, from the saga rows the store keeps (DESIGN.md section 4). A request refused before any hold (invalid
 * input, unknown references) never becomes a saga and is counted only in `/metrics`.
 */
import type { SagaBucketRow } from '../store/console-queries.js';

/** One time bucket of the chart. */
export interface BookingBucket {
  /** Start of the bucket, ISO-8601 UTC. */
  start: string;
  booked: number;
  /** Refused, rolled back, or handed to a person. */
  failed: number;
  pending: number;
}

/** Bookings over one window. */
export interface BookingFigures {
  attempted: number;
  booked: number;
  /** Refused without anything written to the records system, by reason code. */
  refused: Record<string, number>;
  refusedTotal: number;
  /** Written to the records system, then undone (a conflict found after writing). */
  rolledBack: number;
  /** Handed to the practice's staff as a manual-intervention Task. */
  handedToStaff: number;
  /** Not finished yet (outcome being confirmed). */
  pending: number;
  /** booked ÷ finished attempts; null when none finished. */
  successRate: number | null;
  buckets: BookingBucket[];
}

/** Saga states still in progress. */
const IN_PROGRESS = new Set(['held', 'writing', 'unknown', 'written', 'compensating']);

/**
 * Sums saga rows into figures with `count` buckets of `bucketMs` ending at the bucket holding `now` (rows outside
 * them still count in the totals).
 */
export function bookingFigures(
  rows: readonly SagaBucketRow[],
  now: Date,
  bucket: 'hour' | 'day',
  count: number,
): BookingFigures {
  const bucketMs = bucket === 'hour' ? 3600_000 : 24 * 3600_000;
  const lastStart = Math.floor(now.getTime() / bucketMs) * bucketMs;
  const buckets: BookingBucket[] = Array.from({ length: count }, (_, i) => ({
    start: new Date(lastStart - (count - 1 - i) * bucketMs).toISOString(),
    booked: 0,
    failed: 0,
    pending: 0,
  }));
  const byKey = new Map(buckets.map((b) => [b.start.slice(0, bucket === 'hour' ? 13 : 10), b]));
  const figures: BookingFigures = {
    attempted: 0,
    booked: 0,
    refused: {},
    refusedTotal: 0,
    rolledBack: 0,
    handedToStaff: 0,
    pending: 0,
    successRate: null,
    buckets,
  };
  for (const row of rows) {
    const b = byKey.get(row.bucket);
    figures.attempted += row.count;
    if (row.state === 'committed') {
      figures.booked += row.count;
      if (b) b.booked += row.count;
    } else if (IN_PROGRESS.has(row.state)) {
      figures.pending += row.count;
      if (b) b.pending += row.count;
    } else {
      if (row.state === 'needs-attention') figures.handedToStaff += row.count;
      else if (row.wroteUpstream) figures.rolledBack += row.count;
      else {
        const reason = row.errorCode ?? 'unknown';
        figures.refused[reason] = (figures.refused[reason] ?? 0) + row.count;
        figures.refusedTotal += row.count;
      }
      if (b) b.failed += row.count;
    }
  }
  const finished = figures.attempted - figures.pending;
  figures.successRate = finished === 0 ? null : figures.booked / finished;
  return figures;
}
