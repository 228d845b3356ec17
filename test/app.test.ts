import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { readAuditTrail } from '../src/audit/audit-trail.js';
import { demoConfig } from '../src/demo-config.js';
import { createLogger } from '../src/logger.js';
import { startDemoSim, type RunningSim } from '../src/sim/demo-sim.js';
import { expectValidFhir } from './support/fhir-validators.js';

const OPERATOR = 'Bearer demo-operator-token';

/** The demo as `npm start` runs it, in-process on port 0 with its own store file. */
describe('the demo, booted in-process', () => {
  let sim: RunningSim;
  let app: App;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchboard-demo-'));
    sim = await startDemoSim({ port: 0 });
    const config = { ...demoConfig(sim.url, {}), port: 0, databaseUrl: join(dir, 'switchboard.sqlite') };
    app = createApp(config, { logger: createLogger('silent') });
    await app.start();
  });
  afterAll(async () => {
    await app?.stop();
    await sim?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers /healthz', async () => {
    const res = await request(app.url).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('serves a valid CapabilityStatement at /fhir/demo/metadata without a token', async () => {
    const res = await request(app.url).get('/fhir/demo/metadata');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(res.body.resourceType).toBe('CapabilityStatement');
    expect(res.body.fhirVersion).toBe('4.0.1');
    expect(res.body.implementation.url).toBe(`${app.url}/fhir/demo`);
    expectValidFhir(res.body);
  });

  it('links every operation from the CapabilityStatement to its OperationDefinition, served without a token', async () => {
    const metadata = await request(app.url).get('/fhir/demo/metadata');
    const resources = metadata.body.rest[0].resource as Array<{
      type: string;
      operation?: Array<{ name: string; definition: string }>;
    }>;
    expect(resources.some((r) => r.type === 'OperationDefinition')).toBe(true);
    const operations = resources.flatMap((r) => r.operation ?? []);
    expect(operations.length).toBe(9);
    for (const operation of operations) {
      const found = await request(app.url)
        .get('/fhir/demo/OperationDefinition')
        .query({ url: operation.definition });
      expect(found.status, operation.definition).toBe(200);
      const definition = found.body.entry?.[0]?.resource;
      expect(definition?.code, operation.definition).toBe(operation.name);
      const read = await request(app.url).get(`/fhir/demo/OperationDefinition/${definition.id}`);
      expect(read.status).toBe(200);
      expectValidFhir(read.body);
    }
  });

  it('demands the bearer token for everything but metadata, and audits what the demo client reads', async () => {
    const denied = await request(app.url).get('/fhir/demo/Practitioner');
    expect(denied.status).toBe(401);
    expect(denied.headers['www-authenticate']).toMatch(/^Bearer realm="switchboard"/);
    expectValidFhir(denied.body);

    const res = await request(app.url)
      .get('/fhir/demo/Practitioner')
      .set('Authorization', 'Bearer demo-token');
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('Bundle');
    expectValidFhir(res.body);
    const audit = await readAuditTrail(app.store, 'demo', { limit: 1000 });
    expect(audit.some((e) => e.clientId === 'demo-client' && e.resourceType === 'Practitioner')).toBe(true);
  });

  it('answers an unknown tenant with a 404 OperationOutcome', async () => {
    const res = await request(app.url).get('/fhir/nobody/metadata');
    expect(res.status).toBe(404);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].code).toBe('not-found');
    expectValidFhir(res.body);
  });

  it('becomes ready once every stream of the demo tenant has synced, and shows it on /status and /metrics', async () => {
    let ready: request.Response | undefined;
    for (let i = 0; i < 100 && ready?.status !== 200; i++) {
      ready = await request(app.url).get('/readyz').set('Authorization', OPERATOR);
      if (ready.status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(ready?.status).toBe(200);
    // Open to anyone (a load balancer), but without tenant ids, names or error text (issue 15).
    const open = await request(app.url).get('/readyz');
    expect(Object.keys(open.body).sort()).toEqual(['ready', 'store', 'tenants']);
    expect(open.body).toMatchObject({ ready: open.status === 200, store: 'ok', tenants: { total: 1 } });
    expect(JSON.stringify(open.body)).not.toMatch(/demo|Riverside|window/i);
    expect(Object.keys(ready?.body.tenants.demo.streams).sort()).toEqual([
      'patients',
      'reference',
      'window-hot',
      'window-warm',
    ]);

    expect((await request(app.url).get('/status')).status).toBe(401);
    const status = await request(app.url).get('/status').set('Authorization', OPERATOR);
    expect(status.status).toBe(200);
    expect(status.text).toContain('Riverside Family Medicine');
    expect(status.text).toContain('Today&#39;s schedule and the next two weeks');
    expect(status.text).toContain('window-hot');
    // Issue 11: the instance answering, and the one running the tenant's sync (this one: SQLite, one process).
    expect(ready?.body.instance).toBe(app.instanceId);
    expect(ready?.body.tenants.demo.syncLeaseHolder).toBe(app.instanceId);
    expect(status.text).toContain(`<code>${app.instanceId}</code> (this one)`);

    expect((await request(app.url).get('/metrics')).status).toBe(401);
    const metrics = await request(app.url).get('/metrics').set('Authorization', OPERATOR);
    // Every figure carries the instance it comes from.
    expect(metrics.text).toContain(
      `switchboard_sync_passes_total{tenant="demo",stream="reference",outcome="ok",instance="${app.instanceId}"}`,
    );
  });

  it('reports not ready when the records system is down, naming the failing stream', async () => {
    sim.server.faults.set({ down: true });
    try {
      let res: request.Response | undefined;
      // Not ready may come first from staleness (a loaded machine); wait for the failing pass to be named too.
      const named = (r: request.Response | undefined) =>
        r?.status === 503 && typeof r.body.tenants.demo.streams['window-hot'].lastError === 'string';
      for (let i = 0; i < 150 && !named(res); i++) {
        res = await request(app.url).get('/readyz').set('Authorization', OPERATOR);
        if (!named(res)) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(res?.status).toBe(503);
      expect(res?.body.tenants.demo.streams['window-hot'].lastError).toMatch(/503|circuit/);
      const open = await request(app.url).get('/readyz');
      expect(open.status).toBe(503);
      expect(JSON.stringify(open.body)).not.toMatch(/demo|Riverside|503|circuit|error/i);
    } finally {
      sim.server.faults.clear();
    }
  });
});
