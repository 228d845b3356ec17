/**
 * Operator authentication of `/status`, `/readyz` and `/metrics`, and the metrics' names and labels (issue 15):
 * over real HTTP against the demo app, on SQLite and on PostgreSQL when TEST_DATABASE_URL is set.
 */
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { createLogger } from '../../src/logger.js';
import type { ReadinessReport } from '../../src/readiness.js';
import { waitUntil } from '../support/webhook-receiver.js';
import {
  addAttentionTask,
  bookFreeSlot,
  fhir,
  OPERATOR_TOKEN,
  startConsoleDemo,
  subscribeReceiver,
  waitReady,
  type ConsoleDemo,
} from './support/console-demo.js';

const DIALECTS = ['sqlite' as const, ...(process.env.TEST_DATABASE_URL ? ['postgres' as const] : [])];
const operator = { authorization: `Bearer ${OPERATOR_TOKEN}` };

/** Every sample of the Prometheus text: metric name, labels, value. */
function samples(text: string): Array<{ name: string; labels: Record<string, string>; value: string }> {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a sample: ${line}`);
      const labels: Record<string, string> = {};
      for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
      return { name: match[1]!, labels, value: match[3]! };
    });
}

describe.each(DIALECTS)('operator pages (%s)', (dialect) => {
  let demo: ConsoleDemo;
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${demo.app.url}${path}`, { headers, redirect: 'manual' });

  beforeAll(async () => {
    demo = await startConsoleDemo({ dialect });
    await waitReady(demo.app);
  }, 120_000);
  afterAll(async () => {
    await demo?.stop();
  });

  it('keeps /status, /metrics and /readyz details for operators: no token, a non-operator token and a forged cookie are refused', async () => {
    for (const path of ['/status', '/metrics']) {
      for (const headers of [
        {} as Record<string, string>,
        { authorization: 'Bearer demo-token' },
        { cookie: 'switchboard_operator=forged' },
      ]) {
        const res = await get(path, headers);
        expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="switchboard operator"');
      }
      expect((await get(path, operator)).status).toBe(200);
    }
    // Open: whether the instance can serve, and no more (on a loaded machine the hot window may lag for a moment).
    const openAnswer = await get('/readyz');
    const open = (await openAnswer.json()) as {
      ready: boolean;
      store: string;
      tenants: { total: number; ready: number };
    };
    expect(Object.keys(open).sort()).toEqual(['ready', 'store', 'tenants']);
    expect(open).toMatchObject({ ready: openAnswer.status === 200, store: 'ok', tenants: { total: 1 } });
    expect(open.tenants.ready).toBe(open.ready ? 1 : open.tenants.ready);
    expect(JSON.stringify(open)).not.toMatch(/demo|Riverside|window|error/i);
    const full = (await (await get('/readyz', operator)).json()) as ReadinessReport;
    expect(Object.keys(full.tenants)).toEqual(['demo']);
    expect(Object.keys(full.tenants.demo?.streams ?? {}).sort()).toEqual([
      'patients',
      'reference',
      'window-hot',
      'window-warm',
    ]);
    expect((await get('/healthz')).status).toBe(200);
  });

  it('signs a browser in with an HttpOnly SameSite=Strict session cookie every instance knows, and out again', async () => {
    const wrong = await fetch(`${demo.app.url}/status/login`, {
      method: 'POST',
      body: new URLSearchParams({ token: 'demo-token' }),
      redirect: 'manual',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const signedIn = await fetch(`${demo.app.url}/status/login`, {
      method: 'POST',
      body: new URLSearchParams({ token: OPERATOR_TOKEN }),
      redirect: 'manual',
    });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe('/status');
    const setCookie = signedIn.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(
      /^switchboard_operator=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/,
    );
    const cookie = setCookie.split(';')[0] as string;
    expect((await get('/status', { cookie })).status).toBe(200);
    // Another instance on the same store (behind a round-robin balancer) knows the session too.
    const other = createApp(
      { ...demo.app.config, port: 0 },
      { schedule: false, logger: createLogger('silent') },
    );
    await other.start();
    try {
      expect((await fetch(`${other.url}/status`, { headers: { cookie } })).status).toBe(200);
    } finally {
      await other.stop();
    }
    expect((await get('/metrics', { cookie })).status).toBe(200);
    expect(((await (await get('/readyz', { cookie })).json()) as ReadinessReport).tenants.demo).toBeDefined();

    const out = await fetch(`${demo.app.url}/status/logout`, {
      method: 'POST',
      headers: { cookie },
      redirect: 'manual',
    });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/^switchboard_operator=; .*Max-Age=0/);
    expect((await get('/status', { cookie })).status).toBe(401);
  }, 60_000);

  it('exports booking, saga, intervention, HTTP, upstream, rate-limit and webhook metrics labelled without PHI', async () => {
    await addAttentionTask(demo.app);
    await subscribeReceiver(demo.app, demo.receiver);
    const appointment = await bookFreeSlot(demo.app);
    await waitUntil(
      async () =>
        (await fhir<{ status: string }>(demo.app, `Appointment/${appointment.id}`)).body.status === 'booked',
      'the booking is committed',
      30_000,
    );
    await waitUntil(() => demo.receiver.received.length > 1, 'a notification was refused', 30_000);
    let all: ReturnType<typeof samples> = [];
    await waitUntil(
      async () => {
        all = samples(await (await get('/metrics', operator)).text());
        return all.some((s) => s.name === 'switchboard_webhook_deliveries_total');
      },
      'the failed delivery is counted',
      30_000,
    );
    const labelsOf = (name: string) => {
      const found = all.filter((s) => s.name === name);
      expect(found.length, name).toBeGreaterThan(0);
      return Object.keys(found[0]!.labels).sort();
    };
    expect(labelsOf('switchboard_bookings_total')).toEqual([
      'instance',
      'kind',
      'outcome',
      'reason',
      'tenant',
    ]);
    expect(labelsOf('switchboard_booking_saga_duration_seconds_bucket')).toEqual([
      'instance',
      'kind',
      'le',
      'outcome',
      'tenant',
    ]);
    expect(labelsOf('switchboard_manual_interventions_open')).toEqual(['instance', 'tenant']);
    expect(labelsOf('switchboard_patients_awaiting_review')).toEqual(['instance', 'tenant']);
    expect(labelsOf('switchboard_http_requests_total')).toEqual(['instance', 'method', 'route', 'status']);
    expect(labelsOf('switchboard_http_request_duration_seconds_bucket')).toEqual([
      'instance',
      'le',
      'method',
      'route',
    ]);
    expect(labelsOf('switchboard_upstream_calls_total')).toEqual([
      'endpoint',
      'instance',
      'outcome',
      'tenant',
    ]);
    expect(labelsOf('switchboard_upstream_call_duration_seconds_bucket')).toEqual([
      'endpoint',
      'instance',
      'le',
      'tenant',
    ]);
    expect(labelsOf('switchboard_upstream_rate_limit_used_ratio')).toEqual(['instance', 'tenant']);
    expect(labelsOf('switchboard_webhook_deliveries_total')).toEqual(['instance', 'outcome', 'tenant']);

    const value = (name: string, labels: Record<string, string>) =>
      all.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('switchboard_bookings_total', { tenant: 'demo', kind: 'book', outcome: 'done' })).toBe('1');
    expect(value('switchboard_manual_interventions_open', { tenant: 'demo' })).toBe('1');
    // 201, or 202 booking-pending on a loaded machine: one request either way.
    const posted = (status: string) =>
      Number(
        value('switchboard_http_requests_total', {
          route: '/fhir/{tenant}/Appointment',
          method: 'POST',
          status,
        }) ?? 0,
      );
    expect(posted('201') + posted('202')).toBe(1);
    expect(Number(value('switchboard_upstream_rate_limit_used_ratio', { tenant: 'demo' }))).toBeGreaterThan(
      0,
    );
    expect(
      Number(value('switchboard_webhook_deliveries_total', { tenant: 'demo', outcome: 'failed' })),
    ).toBeGreaterThan(0);

    // No PHI: label names from a closed set, endpoints and routes are templates, and no label value names a
    // patient (by FHIR id or family name) of the practice.
    const allowed = new Set([
      'instance',
      'tenant',
      'kind',
      'outcome',
      'reason',
      'le',
      'method',
      'route',
      'status',
      'endpoint',
      'stream',
      'holder',
      'quantile',
      'version',
      'major',
      'minor',
      'patch',
      'space',
      'type',
      'kind',
    ]);
    const ours = all.filter((s) => s.name.startsWith('switchboard_'));
    for (const s of ours)
      for (const label of Object.keys(s.labels)) expect(allowed, `${s.name} ${label}`).toContain(label);
    for (const s of ours.filter((x) => x.labels.endpoint !== undefined))
      expect(s.labels.endpoint).toMatch(
        /^(GET|POST|PUT|DELETE) (\/([a-z][a-z-]*|[A-Z][A-Za-z]+|\{id\}|_history|\$[a-z][a-z-]*))+$/,
      );
    for (const s of ours.filter((x) => x.labels.route !== undefined))
      expect(s.labels.route).toMatch(/^(\/[\w.{}$-]+)+$|^other$/);
    const patients = await fhir<Bundle<Patient>>(demo.app, 'Patient?_count=200');
    const phi = (patients.body.entry ?? []).flatMap((e) => [
      e.resource?.id ?? '',
      e.resource?.name?.[0]?.family ?? '',
    ]);
    expect(phi.length).toBeGreaterThan(100);
    const values = new Set(ours.flatMap((s) => Object.values(s.labels)));
    for (const item of phi.filter((p) => p.length > 2)) expect(values.has(item), item).toBe(false);
    for (const v of values)
      expect(
        phi.some((p) => p.length > 3 && v.includes(p)),
        v,
      ).toBe(false);
  }, 120_000);
});

describe('metrics opened for a private-network scraper', () => {
  let demo: ConsoleDemo;
  beforeAll(async () => {
    demo = await startConsoleDemo({ configure: (config) => ({ ...config, metrics: { open: true } }) });
  }, 120_000);
  afterAll(async () => {
    await demo?.stop();
  });

  it('serves /metrics without a token with metrics.open, and still keeps /status for operators', async () => {
    expect((await fetch(`${demo.app.url}/metrics`)).status).toBe(200);
    expect((await fetch(`${demo.app.url}/status`)).status).toBe(401);
  });
});
