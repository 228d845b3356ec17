import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SimHarness } from './sim-harness.js';
import { startSim } from './sim-harness.js';
import { TINY_PASSWORD, TINY_USERNAME, tinyFirm } from '../support/tiny-firm.js';

describe('sim rate limit', () => {
  let h: SimHarness;
  beforeEach(async () => {
    h = await startSim({ rateLimitPerMinute: 3 });
  });
  afterEach(async () => {
    await h.stop();
  });

  it('answers 429 with an integer Retry-After that says when the window frees, counting OAuth calls', async () => {
    const { access_token: token } = await h.login(); // call 1, at t0
    expect((await h.api('GET', '/providers', undefined, token)).status).toBe(200); // call 2, t0
    h.clock.advanceSeconds(10);
    expect((await h.api('GET', '/locations', undefined, token)).status).toBe(200); // call 3, t0 + 10 s
    h.clock.advanceSeconds(10);
    const limited = await h.api<{ error: string }>('GET', '/providers', undefined, token);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(/application\/json/);
    expect(limited.body.error).toBe('rate_limited');
    // The two calls at t0 leave the window at t0 + 60 s: 40 s from now.
    expect(limited.headers.get('retry-after')).toBe('40');

    h.clock.advanceSeconds(39);
    const almost = await h.api('GET', '/providers', undefined, token);
    expect(almost.status).toBe(429);
    expect(almost.headers.get('retry-after')).toBe('1');
    h.clock.advanceSeconds(1);
    expect((await h.api('GET', '/providers', undefined, token)).status).toBe(200);
  });

  it('rate-limits the token endpoint too', async () => {
    for (let i = 0; i < 3; i++) expect((await h.login()).token_type).toBe('Bearer');
    const refused = await h.token({
      grant_type: 'password',
      username: TINY_USERNAME,
      password: TINY_PASSWORD,
    });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBe(60);
  });

  it('applies a limit lowered at run time through the faults control, and never limits the controls', async () => {
    const { access_token: token } = await h.login();
    const set = await fetch(`${h.baseUrl}/_sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rateLimitPerMinute: 1 }),
    });
    expect(await set.json()).toMatchObject({ rateLimitPerMinute: 1 });
    expect((await h.api('GET', '/providers', undefined, token)).status).toBe(429);
    for (let i = 0; i < 5; i++) expect((await fetch(`${h.baseUrl}/_sim/faults`)).status).toBe(200);
  });
});

describe('sim rate limit per firm', () => {
  it('counts each firm separately', async () => {
    const credentials = [{ username: TINY_USERNAME, password: TINY_PASSWORD }];
    const h = await startSim({
      rateLimitPerMinute: 2,
      firms: { alpha: { data: tinyFirm(), credentials }, beta: { data: tinyFirm(), credentials } },
    });
    try {
      const { access_token: token } = await h.login();
      expect((await h.api('GET', '/providers', undefined, token)).status).toBe(200);
      expect((await h.api('GET', '/providers', undefined, token)).status).toBe(429);
      const beta = await fetch(`${h.baseUrl}/firm/beta/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'password',
          username: TINY_USERNAME,
          password: TINY_PASSWORD,
        }),
      });
      expect(beta.status).toBe(200);
    } finally {
      await h.stop();
    }
  });
});
