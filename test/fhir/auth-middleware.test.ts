import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SWITCHBOARD_ISSUE_SYSTEM } from '../../fhir/operation-outcome.js';
import { FHIR_JSON, startTinyFhirApp, testClient, tokenOf, type TinyFhirApp } from '../auth/tiny-fhir-app.js';
import { expectValidFhir } from '../support/fhir-validators.js';

describe('FHIR authentication over HTTP', () => {
  let app: TinyFhirApp;
  const bearer = (clientId: string) => ({ Authorization: `Bearer ${tokenOf(clientId)}` });

  beforeAll(async () => {
    app = await startTinyFhirApp({
      clients: [
        testClient('agent', ['system/*.cruds']),
        testClient('reader', ['system/Appointment.rs', 'system/Patient.read']),
        testClient('booker', ['system/Appointment.c']),
        testClient('everywhere', ['system/*.rs'], ['*']),
      ],
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('serves metadata without a token', async () => {
    const res = await request(app.url).get('/fhir/demo/metadata');
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('CapabilityStatement');
    expect((await request(app.url).get('/fhir/demo/METADATA')).status).toBe(200);
  });

  it('answers a request without a token with 401 and a bare Bearer challenge', async () => {
    const res = await request(app.url).get('/fhir/demo/Appointment?patient=p1');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="switchboard"');
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].code).toBe('login');
    expectValidFhir(res.body);
  });

  it('treats credentials of another scheme, or an empty Bearer, as no token', async () => {
    for (const authorization of ['Basic YWdlbnQ6eA==', 'Bearer', 'Bearer   ']) {
      const res = await request(app.url).get('/fhir/demo/Appointment').set('Authorization', authorization);
      expect(res.status, authorization).toBe(401);
      expect(res.headers['www-authenticate'], authorization).toBe('Bearer realm="switchboard"');
    }
  });

  it('answers an unknown or malformed token with 401 invalid_token', async () => {
    for (const authorization of [
      'Bearer not-a-token',
      'Bearer token-agent extra',
      `Bearer ${'x'.repeat(5000)}`,
    ]) {
      const res = await request(app.url).get('/fhir/demo/Appointment').set('Authorization', authorization);
      expect(res.status, authorization).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="switchboard", error="invalid_token"/);
      expect(res.body.issue[0].details.coding[0]).toEqual({
        system: SWITCHBOARD_ISSUE_SYSTEM,
        code: 'invalid_token',
      });
      expect(JSON.stringify(res.body)).not.toContain('interaction');
      expectValidFhir(res.body);
    }
  });

  it('lets a valid token through and tells the handler which client it is', async () => {
    const res = await request(app.url).get('/fhir/demo/Appointment').set(bearer('agent'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ interaction: 'search', client: 'agent' });
    const lowerCase = await request(app.url)
      .get('/fhir/demo/Appointment/a1')
      .set('Authorization', `bearer ${tokenOf('agent')}`);
    expect(lowerCase.body).toEqual({ interaction: 'read', client: 'agent' });
  });

  it('answers a client not bound to the tenant with the same 404 as an unknown tenant', async () => {
    const otherTenant = await request(app.url).get('/fhir/other/Appointment').set(bearer('agent'));
    const unknownTenant = await request(app.url).get('/fhir/nobody/Appointment').set(bearer('agent'));
    expect(otherTenant.status).toBe(404);
    expect(unknownTenant.status).toBe(404);
    expect(JSON.stringify(otherTenant.body).replaceAll('other', 'TENANT')).toBe(
      JSON.stringify(unknownTenant.body).replaceAll('nobody', 'TENANT'),
    );
    expectValidFhir(otherTenant.body);
  });

  it('answers an unknown tenant with 404 before asking for a token (the router checks tenants first)', async () => {
    const res = await request(app.url).get('/fhir/nobody/Appointment');
    expect(res.status).toBe(404);
    expect(res.headers['www-authenticate']).toBeUndefined();
  });

  it('lets a client bound to * use every tenant', async () => {
    for (const tenant of ['demo', 'other']) {
      const res = await request(app.url).get(`/fhir/${tenant}/Slot`).set(bearer('everywhere'));
      expect(res.status, tenant).toBe(200);
    }
  });

  it('answers 403 insufficient_scope naming the scope needed', async () => {
    const res = await request(app.url)
      .post('/fhir/demo/Appointment')
      .set(bearer('reader'))
      .type(FHIR_JSON)
      .send('{"resourceType":"Appointment"}');
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer error="insufficient_scope", scope="system/Appointment.c"',
    );
    const issue = res.body.issue[0];
    expect(issue.code).toBe('forbidden');
    expect(issue.details.coding).toEqual([{ system: SWITCHBOARD_ISSUE_SYSTEM, code: 'insufficient_scope' }]);
    expect(issue.diagnostics).toContain('system/Appointment.c');
    expectValidFhir(res.body);
  });

  it('answers 403 for a resource type the scopes do not mention', async () => {
    const res = await request(app.url).get('/fhir/demo/Practitioner').set(bearer('reader'));
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer error="insufficient_scope", scope="system/Practitioner.s"',
    );
    expectValidFhir(res.body);
  });

  it('authorizes $book only with both the create and the update permission', async () => {
    const denied = await request(app.url).post('/fhir/demo/Appointment/$book').set(bearer('booker'));
    expect(denied.status).toBe(403);
    expect(denied.headers['www-authenticate']).toBe(
      'Bearer error="insufficient_scope", scope="system/Appointment.cu"',
    );
    expect(denied.body.issue[0].diagnostics).toContain('$book');
    expectValidFhir(denied.body);
    const allowed = await request(app.url).post('/fhir/demo/Appointment/$book').set(bearer('agent'));
    expect(allowed.status).toBe(200);
  });
});
