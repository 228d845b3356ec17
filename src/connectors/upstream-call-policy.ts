/**
 * The etiquette both upstream clients keep with a records system (DESIGN.md section 7; reliability.md 1.1): a
 * per-call timeout, a per-tenant concurrency limit (4× as many calls may queue, then fail fast), a circuit breaker
 * opened by consecutive unavailable or timed-out calls, retries for reads only, calls and waits cut short when the
 * client closes, and what a call that got no answer means for a write (applied or not).
 */
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  ConsecutiveBreaker,
  ExponentialBackoff,
  bulkhead,
  circuitBreaker,
  handleWhen,
  retry,
  wrap,
  type IPolicy,
} from 'cockatiel';
import { UpstreamError, type WriteOutcome } from './upstream-error.js';

export interface UpstreamCallSettings {
  /** How long one call may take. */
  timeoutMs: number;
  /** Calls in flight at once; 4× that may queue. */
  maxConcurrency: number;
  /** Consecutive failures (unavailable / timeout) that open the circuit (default 5). */
  breakerThreshold?: number;
  /** How long the circuit stays open before a trial call (default 5 s). */
  breakerHalfOpenAfterMs?: number;
}

/** A read is retried and never changes anything; a write's outcome may be unknown. */
export type CallMode = 'read' | 'write';

/** The timeout, limit, breaker and read retries of one client, naming `system` (`records system`, …) in its errors. */
export class UpstreamCallPolicy {
  private readonly closing = new AbortController();
  /** The concurrency limit and circuit breaker; cockatiel's own errors pass through. */
  readonly limited: IPolicy;
  /** Up to 2 retries of a read (at most 3 calls) after an unavailable or timed-out attempt. */
  readonly readRetry: IPolicy;

  constructor(
    private readonly settings: UpstreamCallSettings,
    private readonly system: string,
  ) {
    const countsAgainstBreaker = handleWhen(
      (err) => err instanceof UpstreamError && (err.kind === 'unavailable' || err.kind === 'timeout'),
    );
    this.limited = wrap(
      bulkhead(settings.maxConcurrency, settings.maxConcurrency * 4),
      circuitBreaker(countsAgainstBreaker, {
        halfOpenAfter: settings.breakerHalfOpenAfterMs ?? 5_000,
        breaker: new ConsecutiveBreaker(settings.breakerThreshold ?? 5),
      }),
    );
    // cockatiel counts retries, not attempts: 2 → at most 3 calls (reliability.md 1.1).
    this.readRetry = retry(countsAgainstBreaker, {
      maxAttempts: 2,
      backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2_000 }),
    });
  }

  /**
   * `work` under the limit and breaker. An open circuit or a full queue is `unavailable`, certainly not applied
   * (nothing was sent); errors `work` throws (inside, so they count towards opening the circuit) pass through.
   */
  async guarded<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await this.limited.execute(work);
    } catch (err) {
      if (err instanceof BrokenCircuitError) {
        throw new UpstreamError('unavailable', `${this.system} circuit open after repeated failures`, {
          outcome: 'not-applied',
          retryAfterSeconds: Math.ceil((this.settings.breakerHalfOpenAfterMs ?? 5_000) / 1000),
        });
      }
      if (err instanceof BulkheadRejectedError) {
        throw new UpstreamError('unavailable', `too many calls to the ${this.system} queued`, {
          outcome: 'not-applied',
          retryAfterSeconds: 1,
        });
      }
      throw err;
    }
  }

  /** Cuts short every call in flight and every wait: the client is closing. */
  close(): void {
    this.closing.abort();
  }

  /** Aborts when the caller gives up (if it can) or the client closes: what waits between calls heed. */
  cancelled(callerSignal?: AbortSignal): AbortSignal {
    return callerSignal ? AbortSignal.any([callerSignal, this.closing.signal]) : this.closing.signal;
  }

  /**
   * {@link cancelled}, and the per-call timeout, for a call whose answer the caller reads itself (the token
   * requests). The timeout is a timer of its own, not `AbortSignal.timeout()`: `AbortSignal.any()` holds its sources
   * weakly, so Node (20.20) collects such a timeout signal at the next garbage collection and the call then never
   * times out. It runs to its end (it bounds the body too); unreferenced, it keeps no process alive.
   */
  callSignal(callerSignal?: AbortSignal): AbortSignal {
    return this.deadline(callerSignal).signal;
  }

  /**
   * `fetch` under the per-call timeout and {@link cancelled}, the answer's body read whole before it returns (so the
   * timeout bounds the body too, and its timer is cleared as soon as the answer is in, instead of staying pending
   * for the rest of its time). No answer, or one cut off mid-body, is `timeout` when the time ran out (neither the
   * caller nor the client gave up), else `unavailable` (the connection failed, or the answer was cut off); either
   * way a write whose request left this process may have been committed, so its outcome is unknown.
   */
  async fetch(
    url: URL | string,
    init: Omit<RequestInit, 'signal'>,
    mode: CallMode,
    callerSignal?: AbortSignal,
  ): Promise<Response> {
    const { signal, clear } = this.deadline(callerSignal);
    let answered = false;
    try {
      const response = await fetch(url, { ...init, signal });
      answered = true;
      const body = await response.arrayBuffer();
      return new Response(body.byteLength === 0 ? null : body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    } catch (cause) {
      const timedOut = signal.aborted && !callerSignal?.aborted && !this.closing.signal.aborted;
      const outcome: WriteOutcome = mode === 'write' ? 'unknown' : 'not-applied';
      throw timedOut
        ? new UpstreamError('timeout', `${this.system} did not answer within ${this.settings.timeoutMs} ms`, {
            outcome,
            cause,
          })
        : new UpstreamError(
            'unavailable',
            answered ? `${this.system} answer was cut off` : `${this.system} connection failed`,
            { outcome, cause },
          );
    } finally {
      clear();
    }
  }

  /** The signal one call heeds ({@link cancelled} and its timeout), and how to stop its timer. */
  private deadline(callerSignal?: AbortSignal): { signal: AbortSignal; clear(): void } {
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
      this.settings.timeoutMs,
    ).unref();
    return {
      signal: AbortSignal.any([deadline.signal, this.cancelled(callerSignal)]),
      clear: () => clearTimeout(timer),
    };
  }
}

/** `Retry-After` as whole seconds (delta or HTTP date), undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null, nowMs: number): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - nowMs) / 1000));
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
