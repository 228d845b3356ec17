/**
 * When a failed webhook delivery is tried again (DESIGN.md section 6; standards.md section 5 "retry etiquette"):
 * exponential backoff with jitter, never sooner than the receiver's `Retry-After`, for `maxAgeSeconds` (three
 * days by default) from the start of the retry window, then the delivery is dead-lettered.
 */

/** The `webhooks.retry` configuration. */
export interface RetrySettings {
  /** Delay after the first failure; doubles with each further failure. */
  baseDelayMs: number;
  /** Ceiling of one delay (before `Retry-After`, which may ask for longer). */
  maxDelayMs: number;
  /** How long a delivery is retried, from enqueue (or redrive) to dead letter. */
  maxAgeSeconds: number;
  /** Attempts after which a delivery is dead-lettered even inside `maxAgeSeconds`. */
  maxAttempts: number;
}

/** What to do after failed attempt number `attempts`. */
export type RetryDecision = { kind: 'retry'; at: Date } | { kind: 'dead-letter' };

/**
 * Decides the fate of a delivery that just failed its `attempts`-th attempt.
 * "Equal jitter": half the exponential delay fixed, half random, so receivers recovering from an outage are not
 * hit by every sender at once. A `Retry-After` longer than that wins. The last retry is pulled in to the end of
 * the retry window so the delivery is tried right before it would be dead-lettered.
 *
 * @see standards.md section 5
 */
export function decideRetry(
  attempts: number,
  retryStartedAt: Date,
  now: Date,
  settings: RetrySettings,
  retryAfterMs?: number,
  random: () => number = Math.random,
): RetryDecision {
  const windowEnd = retryStartedAt.getTime() + settings.maxAgeSeconds * 1000;
  if (attempts >= settings.maxAttempts || now.getTime() >= windowEnd) return { kind: 'dead-letter' };
  const exponential = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  const jittered = exponential / 2 + random() * (exponential / 2);
  const delay = Math.max(jittered, retryAfterMs ?? 0);
  return { kind: 'retry', at: new Date(Math.min(now.getTime() + delay, windowEnd)) };
}

/**
 * `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP date; undefined when absent or unreadable.
 * Capped at a day: a receiver cannot park a delivery for longer than that with one header.
 */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  let ms: number | undefined;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    const date = Date.parse(text);
    if (!Number.isNaN(date)) ms = Math.max(0, date - now.getTime());
  }
  return ms === undefined ? undefined : Math.min(ms, 24 * 3600 * 1000);
}
