/**
 * Per-firm rate limit of the simulated records system (DESIGN.md section 2: default 1,250 calls a minute, like
 * ModMed's). A sliding one-minute log on the injectable clock, so tests can fill the window and then free it by
 * advancing time, and `Retry-After` says exactly when the next call will be accepted.
 */

/** Default calls per minute per firm. */
export const SIM_DEFAULT_RATE_LIMIT_PER_MINUTE = 1250;
const WINDOW_MS = 60_000;

/** Whether a call may go ahead, and if not, how long to wait. */
export type SimRateVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Sliding-window call counter, one window per key (firm). */
export class SimRateLimiter {
  private readonly windows = new Map<string, number[]>();

  constructor(private readonly now: () => Date) {}

  /** Counts the call when it is allowed; a refused call is not counted, so waiting as told always works. */
  take(key: string, limitPerMinute: number): SimRateVerdict {
    const nowMs = this.now().getTime();
    const log = this.windows.get(key) ?? [];
    const firstLive = log.findIndex((at) => at > nowMs - WINDOW_MS);
    const live = firstLive < 0 ? [] : firstLive === 0 ? log : log.slice(firstLive);
    const limit = Math.max(0, Math.floor(limitPerMinute));
    if (live.length < limit) {
      live.push(nowMs);
      this.windows.set(key, live);
      return { allowed: true };
    }
    this.windows.set(key, live);
    // The call fits again once enough of the oldest calls have left the window to bring the count below the limit.
    const freesAt = limit === 0 ? nowMs + WINDOW_MS : (live[live.length - limit] ?? nowMs) + WINDOW_MS;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((freesAt - nowMs) / 1000)) };
  }

  /** Empties every window (sim reset). */
  reset(): void {
    this.windows.clear();
  }
}
