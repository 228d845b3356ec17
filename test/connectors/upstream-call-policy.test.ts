import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  UpstreamCallPolicy,
  abortableSleep,
  parseRetryAfter,
} from '../../src/connectors/upstream-call-policy.js';
import { UpstreamError } from '../../src/connectors/upstream-error.js';

const down = () => Promise.reject(new UpstreamError('unavailable', 'down'));

describe('UpstreamCallPolicy', () => {
  it('opens the circuit after consecutive unavailable calls and then refuses without calling, nothing applied', async () => {
    const policy = new UpstreamCallPolicy(
      { timeoutMs: 1_000, maxConcurrency: 2, breakerThreshold: 3, breakerHalfOpenAfterMs: 2_500 },
      'records system',
    );
    for (let i = 0; i < 3; i++) await expect(policy.guarded(down)).rejects.toMatchObject({ message: 'down' });
    let called = false;
    const refused = await policy
      .guarded(async () => {
        called = true;
      })
      .catch((err: unknown) => err);
    expect(called).toBe(false);
    expect(refused).toBeInstanceOf(UpstreamError);
    expect(refused).toMatchObject({
      kind: 'unavailable',
      outcome: 'not-applied',
      retryAfterSeconds: 3,
      message: 'records system circuit open after repeated failures',
    });
  });

  it('lets 4× the concurrency limit queue, and refuses the next call at once, nothing applied', async () => {
    const policy = new UpstreamCallPolicy({ timeoutMs: 1_000, maxConcurrency: 1 }, 'upstream FHIR server');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const admitted = Array.from({ length: 5 }, () => policy.guarded(() => gate));
    await expect(policy.guarded(async () => undefined)).rejects.toMatchObject({
      kind: 'unavailable',
      outcome: 'not-applied',
      message: 'too many calls to the upstream FHIR server queued',
    });
    release();
    await Promise.all(admitted);
  });

  it('retries a read that found the system unavailable twice, and one it rejected never', async () => {
    const policy = new UpstreamCallPolicy(
      { timeoutMs: 1_000, maxConcurrency: 1, breakerThreshold: 100 },
      'records system',
    );
    let calls = 0;
    await expect(policy.readRetry.execute(() => (calls++, down()))).rejects.toBeInstanceOf(UpstreamError);
    expect(calls).toBe(3);
    calls = 0;
    const rejected = () => Promise.reject(new UpstreamError('rejected', 'no'));
    await expect(policy.readRetry.execute(() => (calls++, rejected()))).rejects.toMatchObject({
      kind: 'rejected',
    });
    expect(calls).toBe(1);
  });

  it('calls a write that got no answer in time of unknown outcome, and a read that found no server not applied', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
    const policy = new UpstreamCallPolicy({ timeoutMs: 200, maxConcurrency: 2 }, 'records system');
    try {
      await expect(policy.fetch(url, { method: 'POST' }, 'write')).rejects.toMatchObject({
        kind: 'timeout',
        outcome: 'unknown',
        message: 'records system did not answer within 200 ms',
      });
      // The client closing is no time-out: nothing is known of the write either way.
      const cut = policy.fetch(url, { method: 'POST' }, 'write', new AbortController().signal);
      policy.close();
      await expect(cut).rejects.toMatchObject({ kind: 'unavailable', outcome: 'unknown' });
      expect(policy.cancelled().aborted).toBe(true);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
    // The same port, closed now: nothing listens there.
    await expect(
      new UpstreamCallPolicy({ timeoutMs: 1_000, maxConcurrency: 1 }, 'records system').fetch(
        url,
        {},
        'read',
      ),
    ).rejects.toMatchObject({
      kind: 'unavailable',
      outcome: 'not-applied',
      message: 'records system connection failed',
    });
  });
});

describe('parseRetryAfter', () => {
  it('reads delta seconds (rounded up) and HTTP dates against the given clock; nothing for empty or unreadable', () => {
    const now = Date.parse('2026-11-20T15:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3);
    expect(parseRetryAfter('2.1', now)).toBe(3);
    expect(parseRetryAfter(new Date(now + 30_000).toUTCString(), now)).toBe(30);
    expect(parseRetryAfter(new Date(now - 30_000).toUTCString(), now)).toBe(0);
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe('abortableSleep', () => {
  it('gives up with the reason as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const sleeping = abortableSleep(60_000, controller.signal);
    controller.abort(new Error('closing'));
    await expect(sleeping).rejects.toThrow('closing');
    await expect(abortableSleep(60_000, controller.signal)).rejects.toThrow('closing');
  });
});
