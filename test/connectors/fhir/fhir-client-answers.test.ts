/**
 * Broken answers from an upstream FHIR server are upstream errors, never an empty success: a `200` with no body to a
 * read, and an answer cut off after its headers (a time-out or a dropped connection mid-body) — a read then says
 * nothing was applied, a write that its outcome is unknown (so the saga reconciles it by marker, never concludes).
 * Against a deliberately broken server over real HTTP.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FhirClient } from '../../../src/connectors/fhir/fhir-client.js';
import { UpstreamError } from '../../../src/connectors/upstream-error.js';

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url?.startsWith('/oauth/token')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 't', token_type: 'Bearer', expires_in: 3600 }));
      return;
    }
    if (req.url?.startsWith('/fhir/Slot')) {
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      res.end();
      return;
    }
    // Everything else: the headers and half a body, then the connection drops.
    res.writeHead(200, { 'content-type': 'application/fhir+json', 'content-length': '1000' });
    res.write('{"resourceType":"Bun');
    setTimeout(() => res.socket?.destroy(), 20);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const client = () =>
  new FhirClient({
    baseUrl: `${base}/fhir`,
    auth: { method: 'password', tokenUrl: `${base}/oauth/token`, username: 'u', password: 'p' },
    pageSize: 100,
    timeoutMs: 2_000,
    maxConcurrency: 2,
  } as ConstructorParameters<typeof FhirClient>[0]);

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (err: unknown) => err,
  );

describe('broken answers of an upstream FHIR server', () => {
  it('refuses a 200 with no body to a search as unavailable, not an empty result', async () => {
    const err = await failureOf(client().search('Slot', [['start', 'ge2026-12-07']]));
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ kind: 'unavailable', details: { outcome: 'not-applied' } });
  });

  it('reports a read cut off mid-body as unavailable, nothing applied', async () => {
    const err = await failureOf(client().search('Patient', []));
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ kind: 'unavailable', details: { outcome: 'not-applied' } });
  });

  it('reports a write cut off mid-body as of unknown outcome', async () => {
    const err = await failureOf(
      client().write('POST', 'Appointment', { resourceType: 'Appointment' } as never),
    );
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ kind: 'unavailable', details: { outcome: 'unknown' } });
  });
});
