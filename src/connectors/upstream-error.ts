/**
 * How a call to a records system failed, in terms callers can act on (DESIGN.md sections 4 and 5): whether to
 * back off, for how long, and — for writes — whether the write may have happened anyway.
 */
export type UpstreamErrorKind =
  /** The system is down, erroring or its circuit is open. */
  | 'unavailable'
  /** No answer within the per-call timeout. */
  | 'timeout'
  /** 429: wait `retryAfterSeconds`. */
  | 'rate-limited'
  /** Our credentials were refused even after refreshing. */
  | 'unauthorized'
  /** The system refused the request as invalid (4xx): sending it again will not help. */
  | 'rejected'
  /** The system refused a booking because its time is no longer free (a `$book` answering 409): nothing written. */
  | 'time-taken'
  | 'not-found';

/**
 * `not-applied`: the system certainly did not act (refused, unreachable before sending, 429, 503).
 * `unknown`: a write may have been committed (timeout, dropped connection, 500 after the request was sent) —
 * reconcile by correlation marker, never re-send blindly.
 */
export type WriteOutcome = 'not-applied' | 'unknown';

export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  constructor(
    readonly kind: UpstreamErrorKind,
    message: string,
    readonly details: {
      status?: number;
      retryAfterSeconds?: number;
      outcome?: WriteOutcome;
      cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }

  get status(): number | undefined {
    return this.details.status;
  }
  get retryAfterSeconds(): number | undefined {
    return this.details.retryAfterSeconds;
  }
  /** For writes: did the system perhaps act? Reads are always `not-applied`. */
  get outcome(): WriteOutcome {
    return this.details.outcome ?? 'not-applied';
  }
}

export const isUpstreamError = (err: unknown): err is UpstreamError => err instanceof UpstreamError;
