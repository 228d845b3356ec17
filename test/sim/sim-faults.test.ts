import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SimAppointment, SimFaults, SimPage } from '../../src/sim/sim-types.js';
import type { SimHarness } from './sim-harness.js';
import { appointmentBody, read, startSim } from './sim-harness.js';
import { TINY_PASSWORD, TINY_USERNAME } from '../support/tiny-firm.js';

describe('sim faults', () => {
  let h: SimHarness;
  let token: string;
  beforeEach(async () => {
    h = await startSim();
    token = (await h.login()).access_token;
  });
  afterEach(async () => {
    await h.stop();
  });

  const setFaults = async (patch: Record<string, unknown>) =>
    read<SimFaults & { error?: string; field?: string }>(
      await fetch(`${h.baseUrl}/_sim/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(patch),
      }),
    );

  const book = (externalRef: string, signal?: AbortSignal) =>
    h.fetchFirm('/api/appointments', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(appointmentBody({ externalRef })),
      signal,
    });

  const byMarker = async (externalRef: string) =>
    (
      await h.api<SimPage<SimAppointment>>(
        'GET',
        `/appointments?externalRef=${externalRef}`,
        undefined,
        token,
      )
    ).body.items;

  it('merges fault patches and reports the faults in force', async () => {
    expect((await read(await fetch(`${h.baseUrl}/_sim/faults`))).body).toEqual({
      latencyMs: 0,
      jitterMs: 0,
      errorRate: 0,
      timeoutRate: 0,
      commitThenFailRate: 0,
      rateLimitPerMinute: 1250,
      down: false,
    });
    await setFaults({ latencyMs: 5 });
    const merged = await setFaults({ errorRate: 0.25 });
    expect(merged.body).toMatchObject({ latencyMs: 5, errorRate: 0.25 });
    expect(h.sim.faults.get()).toMatchObject({ latencyMs: 5, errorRate: 0.25 });
  });

  it('refuses an unknown or out-of-range fault with 400 naming it', async () => {
    for (const [patch, field] of [
      [{ errorRate: 2 }, 'errorRate'],
      [{ latencyMs: -1 }, 'latencyMs'],
      [{ down: 'yes' }, 'down'],
      [{ rateLimitPerMinute: 1.5 }, 'rateLimitPerMinute'],
      [{ errorrate: 1 }, 'errorrate'],
    ] as const) {
      const answer = await setFaults(patch);
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ error: 'invalid_request', field });
    }
    expect(h.sim.faults.get().errorRate).toBe(0);
  });

  it('with latency still answers every call, and each delayed call counts against the rate limit', async () => {
    await setFaults({ latencyMs: 20, jitterMs: 30, rateLimitPerMinute: 3 }); // login was call 1
    const first = await h.api<unknown[]>('GET', '/providers', undefined, token);
    expect(first.status).toBe(200);
    expect(first.body).toHaveLength(2);
    expect((await h.api('GET', '/locations', undefined, token)).status).toBe(200);
    expect((await h.api('GET', '/locations', undefined, token)).status).toBe(429);
  });

  it('with errorRate 1 answers 500 and does nothing', async () => {
    await setFaults({ errorRate: 1 });
    const failed = await read<{ error: string }>(await book('sb:err'));
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ error: 'server_error', message: 'internal error' });
    expect((await h.api('GET', '/providers', undefined, token)).status).toBe(500);
    await setFaults({ errorRate: 0 });
    expect(await byMarker('sb:err')).toEqual([]);
    expect(h.sim.state('tiny').appointments).toHaveLength(4);
  });

  it('with timeoutRate 1 never answers, so the client’s timeout fires, and nothing is written', async () => {
    await setFaults({ timeoutRate: 1 });
    const error = await book('sb:hang', AbortSignal.timeout(150)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('TimeoutError');
    await setFaults({ timeoutRate: 0 });
    expect(await byMarker('sb:hang')).toEqual([]);
  });

  it('stop() closes calls left hanging by timeoutRate', async () => {
    await setFaults({ timeoutRate: 1 });
    const hanging = book('sb:hang').then(
      () => 'answered',
      () => 'dropped',
    );
    // Make sure the request has reached the sim before stopping it.
    await setFaults({});
    await h.sim.stop();
    expect(await hanging).toBe('dropped');
  });

  it('with commitThenFailRate 1 commits the write, then drops the connection or answers 500', async () => {
    await setFaults({ commitThenFailRate: 1 });
    const dropped = await book('sb:ctf-1').then(
      (r) => r.status,
      (e: unknown) => (e instanceof Error ? e.name : 'other'),
    );
    expect(dropped).toBe('TypeError'); // fetch failed: the socket closed without an answer
    const answered500 = await book('sb:ctf-2');
    expect(answered500.status).toBe(500);
    // Reads are not affected.
    expect((await h.api('GET', '/providers', undefined, token)).status).toBe(200);
    await setFaults({ commitThenFailRate: 0 });
    expect((await byMarker('sb:ctf-1')).map((a) => a.externalRef)).toEqual(['sb:ctf-1']);
    expect((await byMarker('sb:ctf-2')).map((a) => a.externalRef)).toEqual(['sb:ctf-2']);
  });

  it('with commitThenFailRate 1 also commits cancels and deletes before failing', async () => {
    await setFaults({ commitThenFailRate: 1 });
    // The failures alternate: the connection drops on the first, the second answers 500.
    await expect(h.api('POST', '/appointments/1/cancel', { reason: 'x' }, token)).rejects.toThrow();
    expect((await h.api('DELETE', '/appointments/2', undefined, token)).status).toBe(500);
    await setFaults({ commitThenFailRate: 0 });
    expect((await h.api<SimAppointment>('GET', '/appointments/1', undefined, token)).body.status).toBe(
      'cancelled',
    );
    expect((await h.api('GET', '/appointments/2', undefined, token)).status).toBe(404);
  });

  it('when down answers 503 to every firm call, OAuth included, while the controls keep working', async () => {
    await setFaults({ down: true });
    const api = await h.api<{ error: string }>('GET', '/providers', undefined, token);
    expect(api.status).toBe(503);
    expect(api.body.error).toBe('service_unavailable');
    const oauth = await h.token({ grant_type: 'password', username: TINY_USERNAME, password: TINY_PASSWORD });
    expect(oauth.status).toBe(503);
    expect((await fetch(`${h.baseUrl}/_sim/faults`)).status).toBe(200);
    await setFaults({ down: false });
    expect((await h.api('GET', '/providers', undefined, token)).status).toBe(200);
  });
});

describe('sim fault dice', () => {
  const statuses = async (seed: number | undefined): Promise<number[]> => {
    const h = await startSim(seed === undefined ? {} : { seed });
    try {
      const { access_token: token } = await h.login();
      h.sim.faults.set({ errorRate: 0.5 });
      const seen: number[] = [];
      for (let i = 0; i < 24; i++) seen.push((await h.api('GET', '/providers', undefined, token)).status);
      return seen;
    } finally {
      await h.stop();
    }
  };

  it('are reproducible: the same seed gives the same sequence of failures', async () => {
    const first = await statuses(undefined);
    expect(await statuses(undefined)).toEqual(first);
    expect(first).toContain(200);
    expect(first).toContain(500);
    const other = await statuses(7);
    expect(await statuses(7)).toEqual(other);
    expect(other).not.toEqual(first);
  });
});
