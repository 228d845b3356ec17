/**
 * An answer of the records system cut off after its headers (a time-out or a dropped connection mid-body) is an
 * upstream error, never an empty success: a read says nothing was applied, a write that its outcome is unknown (so
 * the saga reconciles it by marker). Likewise an answer that never comes, once the call's time is up. Against a
 * deliberately broken server over real HTTP.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SimClient } from '../../../src/connectors/sim/sim-client.js';
import { UpstreamError } from '../../../src/connectors/upstream-error.js';

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url?.includes('/oauth/token')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 't', refresh_token: 'r', expires_in: 3600 }));
      return;
    }
    if (req.url?.includes('/never')) return;
    if (req.url?.includes('/whole')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
    res.write('{"items":[');
    setTimeout(() => res.socket?.destroy(), 20);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

const client = (timeoutMs = 2_000) =>
  new SimClient({
    baseUrl: base,
    firm: 'broken',
    username: 'u',
    password: 'p',
    timeoutMs,
    maxConcurrency: 2,
  });

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (err: unknown) => err,
  );

describe('records-system answers cut off mid-body', () => {
  it('are unavailable with nothing applied for a read', async () => {
    const err = await failureOf(client().get('/appointments'));
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ kind: 'unavailable', details: { outcome: 'not-applied' } });
  });

  it('are of unknown outcome for a write', async () => {
    const err = await failureOf(client().write('POST', '/appointments', { patientId: 1 }));
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ kind: 'unavailable', details: { outcome: 'unknown' } });
  });
});

describe('records-system answers that never come', () => {
  it('time out: a read with nothing applied, a write of unknown outcome', async () => {
    const read = await failureOf(client(300).get('/never'));
    expect(read).toBeInstanceOf(UpstreamError);
    expect(read).toMatchObject({
      kind: 'timeout',
      message: 'records system did not answer within 300 ms',
      details: { outcome: 'not-applied' },
    });
    const write = await failureOf(client(300).write('POST', '/never', { patientId: 1 }));
    expect(write).toMatchObject({ kind: 'timeout', details: { outcome: 'unknown' } });
  });
});

describe('records-system answers that come whole', () => {
  it("clear their call's timer as soon as the body is in, instead of leaving it pending for its time", async () => {
    const timeoutMs = 54_321;
    const sim = client(timeoutMs);
    await sim.get('/whole'); // the token, outside the measured calls
    const set = vi.spyOn(globalThis, 'setTimeout');
    const cleared = vi.spyOn(globalThis, 'clearTimeout');
    try {
      for (let i = 0; i < 5; i++) expect(await sim.get('/whole')).toEqual({ ok: true });
      const timers = set.mock.calls.flatMap((call, i) =>
        call[1] === timeoutMs ? [set.mock.results[i]?.value] : [],
      );
      expect(timers).toHaveLength(5);
      for (const timer of timers) expect(cleared.mock.calls.some(([t]) => t === timer)).toBe(true);
    } finally {
      set.mockRestore();
      cleared.mockRestore();
    }
  });
});
