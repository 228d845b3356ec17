import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SimHarness } from './sim-harness.js';
import { read, startSim } from './sim-harness.js';
import { TINY_PASSWORD, TINY_USERNAME, tinyFirm } from '../support/tiny-firm.js';

describe('sim OAuth tokens', () => {
  let h: SimHarness;
  beforeEach(async () => {
    h = await startSim();
  });
  afterEach(async () => {
    await h.stop();
  });

  it('issues an opaque bearer token pair for good credentials, not cacheable', async () => {
    const answer = await h.token({
      grant_type: 'password',
      username: TINY_USERNAME,
      password: TINY_PASSWORD,
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 300,
      refresh_token: expect.any(String),
    });
    expect(answer.body.access_token).not.toBe(answer.body.refresh_token);
    expect(answer.body.access_token.length).toBeGreaterThanOrEqual(20);
  });

  it('answers 400 invalid_grant for a wrong password or an unknown user', async () => {
    const wrong = await h.token({ grant_type: 'password', username: TINY_USERNAME, password: 'nope' });
    const unknown = await h.token({ grant_type: 'password', username: 'mallory', password: TINY_PASSWORD });
    for (const answer of [wrong, unknown]) {
      expect(answer.status).toBe(400);
      expect(answer.body.error).toBe('invalid_grant');
      expect(answer.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('answers 400 for a missing or unsupported grant type and missing parameters', async () => {
    expect((await h.token({})).body.error).toBe('invalid_request');
    expect((await h.token({ grant_type: 'client_credentials' })).body.error).toBe('unsupported_grant_type');
    const missing = await h.token({ grant_type: 'password', username: TINY_USERNAME });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ error: 'invalid_request', field: 'password' });
  });

  it('answers 401 invalid_token with a Bearer challenge when the token is missing or unknown', async () => {
    const missing = await read<{ error: string }>(await h.fetchFirm('/api/providers'));
    expect(missing.status).toBe(401);
    expect(missing.body.error).toBe('invalid_token');
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const unknown = await h.api<{ error: string }>('GET', '/providers', undefined, 'not-a-token');
    expect(unknown.status).toBe(401);
    expect(unknown.body.error).toBe('invalid_token');
    expect(unknown.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  });

  it('expires the access token after 300 s on the sim clock, and a refresh grant then works', async () => {
    const grant = await h.login();
    h.clock.advanceSeconds(299);
    expect((await h.api('GET', '/providers', undefined, grant.access_token)).status).toBe(200);
    h.clock.advanceSeconds(1);
    const expired = await h.api<{ error: string }>('GET', '/providers', undefined, grant.access_token);
    expect(expired.status).toBe(401);
    expect(expired.body).toMatchObject({ error: 'invalid_token' });
    expect(expired.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');

    const refreshed = await h.token({ grant_type: 'refresh_token', refresh_token: grant.refresh_token });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(grant.refresh_token);
    expect((await h.api('GET', '/providers', undefined, refreshed.body.access_token)).status).toBe(200);
  });

  it('rotates refresh tokens: each one works exactly once', async () => {
    const grant = await h.login();
    const first = await h.token({ grant_type: 'refresh_token', refresh_token: grant.refresh_token });
    expect(first.status).toBe(200);
    const replay = await h.token({ grant_type: 'refresh_token', refresh_token: grant.refresh_token });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    const next = await h.token({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
    expect(next.status).toBe(200);
  });

  it('answers 400 invalid_grant for an unknown refresh token', async () => {
    const answer = await h.token({ grant_type: 'refresh_token', refresh_token: 'made-up' });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_grant');
  });

  it('answers 404 JSON for an unknown firm', async () => {
    const response = await fetch(`${h.baseUrl}/firm/nowhere/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', username: TINY_USERNAME, password: TINY_PASSWORD }),
    });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    expect(await response.json()).toMatchObject({ error: 'not_found' });
  });
});

describe('sim tokens across firms and lifetimes', () => {
  it('refuses a token issued for another firm and its refresh token', async () => {
    const credentials = [{ username: TINY_USERNAME, password: TINY_PASSWORD }];
    const h = await startSim({
      firms: { alpha: { data: tinyFirm(), credentials }, beta: { data: tinyFirm(), credentials } },
    });
    try {
      const grant = await h.login(); // firm alpha
      const beta = (path: string, init?: RequestInit) => fetch(`${h.baseUrl}/firm/beta${path}`, init);
      const call = await beta('/api/providers', {
        headers: { authorization: `Bearer ${grant.access_token}` },
      });
      expect(call.status).toBe(401);
      const refresh = await beta('/oauth/token', {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: grant.refresh_token }),
      });
      expect(refresh.status).toBe(400);
      expect(await refresh.json()).toMatchObject({ error: 'invalid_grant' });
    } finally {
      await h.stop();
    }
  });

  it('honours a custom tokenTtlSeconds', async () => {
    const h = await startSim({ tokenTtlSeconds: 60 });
    try {
      const grant = await h.login();
      expect(grant.expires_in).toBe(60);
      h.clock.advanceSeconds(60);
      expect((await h.api('GET', '/providers', undefined, grant.access_token)).status).toBe(401);
    } finally {
      await h.stop();
    }
  });
});
