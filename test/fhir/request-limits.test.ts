import { gzipSync } from 'node:zlib';
import type { OperationOutcome } from '@medplum/fhirtypes';
import request from 'supertest';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkJsonShape,
  createJsonBodyParser,
  createRateLimiter,
  DEFAULT_MAX_JSON_DEPTH,
} from '../../fhir/request-limits.js';
import { createLogger } from '../../src/logger.js';
import { FHIR_JSON, startTinyFhirApp, testClient, tokenOf, type TinyFhirApp } from '../auth/tiny-fhir-app.js';
import { expectValidFhir } from '../support/fhir-validators.js';

/** A POST with exactly these bytes (supertest re-encodes Buffers sent as JSON media types). */
async function rawPost(
  url: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ status: number; body: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'Content-Type': FHIR_JSON },
    body: new Uint8Array(body),
  });
  return { status: res.status, body: await res.text() };
}

const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

describe('JSON request bodies', () => {
  let app: TinyFhirApp;
  const logged: string[] = [];
  const post = (body: string | Buffer, type = FHIR_JSON) =>
    request(app.url)
      .post('/fhir/demo/Appointment')
      .set('Authorization', `Bearer ${tokenOf('agent')}`)
      .type(type)
      .send(body);

  beforeAll(async () => {
    app = await startTinyFhirApp({
      clients: [testClient('agent', ['system/*.cruds'])],
      limits: [createJsonBodyParser()],
      logger: createLogger('error', { write: (line: string) => void logged.push(line) }),
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('parses application/fhir+json, application/json and application/json-patch+json', async () => {
    for (const type of [
      FHIR_JSON,
      'application/json',
      'application/json-patch+json',
      `${FHIR_JSON}; charset=utf-8`,
    ]) {
      const res = await post('{"resourceType":"Appointment","status":"booked"}', type);
      expect(res.status, type).toBe(200);
      expect(res.body.body, type).toEqual({ resourceType: 'Appointment', status: 'booked' });
    }
  });

  it('leaves other media types alone', async () => {
    const res = await post('family=x', 'application/x-www-form-urlencoded');
    expect(res.status).toBe(200);
    expect(res.body.body).toBeUndefined();
  });

  it('answers a 2 MB body with 413 too-costly', async () => {
    const body = JSON.stringify({ resourceType: 'Appointment', comment: 'x'.repeat(2 * 1024 * 1024) });
    const res = await post(body);
    expect(res.status).toBe(413);
    expect(res.body.issue[0].code).toBe('too-costly');
    expectValidFhir(res.body);
  });

  it('measures the limit after undoing Content-Encoding, so a small gzip bomb is refused too', async () => {
    const body = gzipSync(Buffer.from(`{"a":"${' '.repeat(2 * 1024 * 1024)}"}`));
    expect(body.length).toBeLessThan(64 * 1024);
    const headers = { Authorization: `Bearer ${tokenOf('agent')}`, 'Content-Encoding': 'gzip' };
    const res = await rawPost(`${app.url}/fhir/demo/Appointment`, headers, body);
    expect(res.status).toBe(413);
    expect((JSON.parse(res.body) as OperationOutcome).issue?.[0]?.code).toBe('too-costly');
  });

  it('answers JSON nested 10,000 deep with 400 before parsing, without a RangeError', async () => {
    const res = await post(`{"resourceType":"Bundle","entry":${nested(10_000)}}`);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].code).toBe('too-costly');
    expect(res.body.issue[0].details.coding[0].code).toBe('json-too-deep');
    expect(res.body.issue[0].diagnostics).toContain(`deeper than ${DEFAULT_MAX_JSON_DEPTH} levels`);
    expect(JSON.stringify(res.body)).not.toMatch(/RangeError|stack/i);
    expectValidFhir(res.body);
    expect(logged).toEqual([]);
  });

  it('accepts nesting up to the limit and counts no brackets inside strings', async () => {
    expect((await post(nested(DEFAULT_MAX_JSON_DEPTH))).status).toBe(200);
    expect((await post(nested(DEFAULT_MAX_JSON_DEPTH + 1))).status).toBe(400);
    const brackets = JSON.stringify({ text: '['.repeat(1000) + '{"\\"'.repeat(100) });
    const res = await post(brackets);
    expect(res.status).toBe(200);
    expect(res.body.body).toEqual(JSON.parse(brackets));
  });

  it('answers a string longer than 64 KiB with 400', async () => {
    const res = await post(JSON.stringify({ resourceType: 'Patient', text: 'x'.repeat(64 * 1024 + 1) }));
    expect(res.status).toBe(400);
    expect(res.body.issue[0].details.coding[0].code).toBe('json-string-too-long');
    expectValidFhir(res.body);
  });

  it('answers malformed JSON with 400 invalid, quoting none of the body', async () => {
    for (const body of ['{"family":"Qcanaryname", ', '{"family":Qcanaryname}', '[1,2', 'nul']) {
      const res = await post(body);
      expect(res.status, body).toBe(400);
      expect(res.body.issue[0].code).toBe('invalid');
      expect(res.body.issue[0].diagnostics).toMatch(/^request body is not valid JSON/);
      expect(JSON.stringify(res.body)).not.toContain('canary');
      expectValidFhir(res.body);
    }
    expect(logged).toEqual([]);
  });

  it('answers an unknown charset with 415', async () => {
    const res = await post('{}', `${FHIR_JSON}; charset=klingon`);
    expect(res.status).toBe(415);
    expect(res.body.issue[0].code).toBe('not-supported');
  });
});

describe('checkJsonShape', () => {
  const limits = { maxDepth: 64, maxStringLength: 10 };

  it('scans a million levels without recursion', () => {
    expect(checkJsonShape(nested(1_000_000), limits)).toEqual({ kind: 'too-deep', maxDepth: 64 });
  });

  it('follows escapes inside strings', () => {
    expect(checkJsonShape('["\\"[[[[[[[["]', { maxDepth: 1, maxStringLength: 100 })).toBeUndefined();
    expect(checkJsonShape('["0123456789"]', limits)).toBeUndefined();
    expect(checkJsonShape('["0123456789a"]', limits)).toEqual({
      kind: 'string-too-long',
      maxStringLength: 10,
    });
    expect(checkJsonShape('["0123456789a', limits)).toEqual({ kind: 'string-too-long', maxStringLength: 10 });
  });

  it('is not fooled into a negative depth by leading closers', () => {
    expect(checkJsonShape(']]]]' + nested(3), { maxDepth: 2, maxStringLength: 10 })).toEqual({
      kind: 'too-deep',
      maxDepth: 2,
    });
  });
});

describe('per-client rate limiting over HTTP', () => {
  let app: TinyFhirApp;
  const get = (clientId: string, tenant = 'demo') =>
    request(app.url)
      .get(`/fhir/${tenant}/Slot`)
      .set('Authorization', `Bearer ${tokenOf(clientId)}`);

  beforeAll(async () => {
    // 3 requests per window of 3 / 0.05 = 60 s: the window cannot roll over during the test.
    const limiter = createRateLimiter({ ratePerSecond: 0.05, burst: 3 });
    app = await startTinyFhirApp({
      clients: [testClient('busy', ['system/*.rs'], ['*']), testClient('quiet', ['system/*.rs'])],
      limits: [limiter.middleware],
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers a client over its rate with 429, Retry-After and RateLimit headers; others are unaffected', async () => {
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await get('busy');
      expect(res.status).toBe(200);
      expect(res.headers['ratelimit-limit']).toBe('3');
      remaining.push(res.headers['ratelimit-remaining'] as string);
    }
    expect(remaining).toEqual(['2', '1', '0']);

    const refused = await get('busy');
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers['ratelimit-limit']).toBe('3');
    expect(refused.headers['ratelimit-remaining']).toBe('0');
    expect(refused.headers['ratelimit-reset']).toBe(String(retryAfter));
    expect(refused.body.issue[0].code).toBe('throttled');
    expectValidFhir(refused.body);

    expect((await get('quiet')).status).toBe(200);
    expect((await get('busy', 'other')).status).toBe(200);
    expect((await request(app.url).get('/fhir/demo/metadata')).status).toBe(200);
  });
});

describe('createRateLimiter', () => {
  it('allows the burst, refuses the next request, and allows again once the window has passed', async () => {
    // 2 requests per window of 2 / 20 = 0.1 s.
    const limiter = createRateLimiter({ ratePerSecond: 20, burst: 2 });
    expect((await limiter.take('a')).allowed).toBe(true);
    expect((await limiter.take('a')).allowed).toBe(true);
    const refused = await limiter.take('a');
    expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterSeconds: 1 });
    expect((await limiter.take('b')).allowed).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await limiter.take('a')).toMatchObject({ allowed: true, remaining: 1 });
  });

  it('counts in the backend it is given: two limiters sharing one backend share one limit', async () => {
    const shared = new RateLimiterMemory({ points: 2, duration: 60, keyPrefix: 'shared' });
    const first = createRateLimiter({ ratePerSecond: 1, burst: 2, backend: () => shared });
    const second = createRateLimiter({ ratePerSecond: 1, burst: 2, backend: () => shared });
    expect((await first.take('a')).allowed).toBe(true);
    expect((await second.take('a')).allowed).toBe(true);
    expect((await first.take('a')).allowed).toBe(false);
    expect((await second.take('a')).allowed).toBe(false);
  });

  it('refuses nonsensical settings', () => {
    expect(() => createRateLimiter({ ratePerSecond: 0 })).toThrow(RangeError);
    expect(() => createRateLimiter({ burst: 0.5 })).toThrow(RangeError);
    expect(() => createJsonBodyParser({ maxDepth: -1 })).toThrow(RangeError);
  });
});
