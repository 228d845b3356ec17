import { describe, expect, it } from 'vitest';
import {
  decideRetry,
  parseRetryAfter,
  type RetrySettings,
} from '../../../src/webhooks/delivery/retry-policy.js';

const settings: RetrySettings = {
  baseDelayMs: 5_000,
  maxDelayMs: 6 * 3600_000,
  maxAgeSeconds: 3 * 24 * 3600,
  maxAttempts: 100,
};
const start = new Date('2026-11-21T00:00:00.000Z');
const at = (ms: number) => new Date(start.getTime() + ms);

describe('webhook retry policy', () => {
  it('backs off exponentially with jitter between half and the whole delay, up to the ceiling', () => {
    const delay = (attempts: number, random: number) => {
      const decision = decideRetry(attempts, start, start, settings, undefined, () => random);
      if (decision.kind !== 'retry') throw new Error('dead-lettered');
      return decision.at.getTime() - start.getTime();
    };
    expect([delay(1, 0), delay(1, 1)]).toEqual([2_500, 5_000]);
    expect([delay(4, 0), delay(4, 1)]).toEqual([20_000, 40_000]);
    expect(delay(30, 1)).toBe(settings.maxDelayMs);
  });

  it('never retries sooner than Retry-After asks', () => {
    const decision = decideRetry(1, start, start, settings, 3_600_000, () => 0);
    expect(decision).toEqual({ kind: 'retry', at: at(3_600_000) });
  });

  it('keeps retrying for the whole window, trying once more at its end, then dead-letters', () => {
    const nearEnd = at(settings.maxAgeSeconds * 1000 - 60_000);
    expect(decideRetry(20, start, nearEnd, settings, undefined, () => 1)).toEqual({
      kind: 'retry',
      at: at(settings.maxAgeSeconds * 1000),
    });
    expect(decideRetry(21, start, at(settings.maxAgeSeconds * 1000), settings)).toEqual({
      kind: 'dead-letter',
    });
    expect(decideRetry(100, start, start, settings)).toEqual({ kind: 'dead-letter' });
  });

  it('reads Retry-After as seconds or an HTTP date, capped at a day', () => {
    expect(parseRetryAfter('120', start)).toBe(120_000);
    expect(parseRetryAfter(new Date(start.getTime() + 30_000).toUTCString(), start)).toBe(30_000);
    expect(parseRetryAfter('999999', start)).toBe(24 * 3600_000);
    expect(parseRetryAfter('soon', start)).toBeUndefined();
    expect(parseRetryAfter(undefined, start)).toBeUndefined();
  });
});
