import { sql } from 'kysely';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FhirRequestContext } from '../../fhir/access.js';
import { createAccessControl } from '../../fhir/auth-middleware.js';
import { FhirError } from '../../fhir/operation-outcome.js';
import { createAuditTrail, readAuditTrail } from '../../src/audit/audit-trail.js';
import type { Store } from '../../src/store/database.js';
import { INTERACTIONS, LETTER, SCOPE_MATRIX, TYPES } from '../auth/scope-matrix.js';
import {
  startTinyFhirApp,
  testClient,
  testTenants,
  tokenOf,
  type TinyFhirApp,
} from '../auth/tiny-fhir-app.js';
import { expectValidFhir } from '../support/fhir-validators.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

const CANARY = 'Qvxcanarysmith';

/** Method and path of each interaction on a resource type, as the facade routes them. */
function call(interaction: (typeof INTERACTIONS)[number], type: string): [string, string] {
  switch (interaction) {
    case 'read':
      return ['GET', `/${type}/x1`];
    case 'vread':
      return ['GET', `/${type}/x1/_history/2`];
    case 'history-instance':
      return ['GET', `/${type}/x1/_history`];
    case 'history-type':
      return ['GET', `/${type}/_history`];
    case 'search':
      return ['GET', `/${type}`];
    case 'create':
      return ['POST', `/${type}`];
    case 'update':
      return ['PUT', `/${type}/x1`];
    case 'patch':
      return ['PATCH', `/${type}/x1`];
    case 'delete':
      return ['DELETE', `/${type}/x1`];
  }
}

describe('the scope matrix over HTTP: resource types × interactions × scopes', () => {
  let app: TinyFhirApp;
  const clientId = (i: number) => `matrix-${i}`;

  beforeAll(async () => {
    app = await startTinyFhirApp({
      clients: SCOPE_MATRIX.map((row, i) => testClient(clientId(i), row.scopes)),
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  it.each(SCOPE_MATRIX.map((row, i) => ({ ...row, i })))(
    '$scopes: 200 exactly where the grammar grants, 403 insufficient_scope elsewhere',
    async ({ grants, i }) => {
      const cells = TYPES.flatMap((type) => INTERACTIONS.map((interaction) => ({ type, interaction })));
      const wrong = await Promise.all(
        cells.map(async ({ type, interaction }) => {
          const [method, path] = call(interaction, type);
          const agent = request(app.url);
          const verb = method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
          const res = await agent[verb](`/fhir/demo${path}`).set(
            'Authorization',
            `Bearer ${tokenOf(clientId(i))}`,
          );
          const expected = (grants[type] ?? '').includes(LETTER[interaction]) ? 200 : 403;
          const challenge = `Bearer error="insufficient_scope", scope="system/${type}.${LETTER[interaction]}"`;
          const ok =
            res.status === expected &&
            (expected === 200
              ? res.body.interaction === interaction
              : res.headers['www-authenticate'] === challenge &&
                res.body.issue?.[0]?.details?.coding?.[0]?.code === 'insufficient_scope');
          return ok ? [] : [`${method} ${path} → ${res.status} (expected ${expected})`];
        }),
      );
      expect(wrong.flat()).toEqual([]);
    },
  );
});

describe('createAccessControl', () => {
  const [tenant] = testTenants(['demo']);
  const ctx = (scopes: string[] | undefined): FhirRequestContext => ({
    tenant: tenant!,
    store: undefined as unknown as Store,
    client: scopes === undefined ? undefined : testClient('c', scopes),
    requestId: 'r-1',
  });

  it('lets include filtering read only types the scopes grant read on', () => {
    const access = createAccessControl();
    const context = ctx(['system/Appointment.rs', 'system/Patient.s', 'system/Slot.read']);
    expect(access.canRead(context, 'Appointment')).toBe(true);
    expect(access.canRead(context, 'Slot')).toBe(true);
    expect(access.canRead(context, 'Patient')).toBe(false);
    expect(access.canRead(context, 'Practitioner')).toBe(false);
    expect(access.canRead(ctx(undefined), 'Appointment')).toBe(false);
  });

  it('refuses a request without a client with 401, should the auth middleware have been bypassed', () => {
    const attempt = () => createAccessControl().authorize(ctx(undefined), 'Appointment', 'read');
    expect(attempt).toThrow(FhirError);
    try {
      attempt();
    } catch (error) {
      expect((error as FhirError).status).toBe(401);
      expectValidFhir((error as FhirError).outcome);
    }
  });

  it('refuses to guess what an operation needs when authorize is used for it', () => {
    expect(() =>
      createAccessControl().authorize(ctx(['system/*.cruds']), 'Appointment', 'operation'),
    ).toThrow(/authorizeOperation/);
  });
});

describe.each(testStoreFactories)('denials and accesses in the audit trail ($name)', (factory) => {
  const testStore = useTestStore(factory);
  let app: TinyFhirApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const start = async (store: Store) => {
    app = await startTinyFhirApp({
      store,
      audit: createAuditTrail(store),
      clients: [testClient('agent', ['system/*.cruds']), testClient('reader', ['system/Appointment.rs'])],
    });
    return app;
  };

  it('records a 403 denial with the client, the interaction and the resource type', async () => {
    const { store } = testStore();
    const running = await start(store);
    const res = await request(running.url)
      .delete('/fhir/demo/Appointment/a1')
      .set('Authorization', `Bearer ${tokenOf('reader')}`);
    expect(res.status).toBe(403);
    await running.access.idle();
    expect(await readAuditTrail(store, 'demo')).toMatchObject([
      { clientId: 'reader', action: 'delete', resourceType: 'Appointment', status: 403, resourceIds: [] },
    ]);
  });

  it('records nothing for a request whose token names no client', async () => {
    const { store } = testStore();
    const running = await start(store);
    const res = await request(running.url).get('/fhir/demo/Appointment').set('Authorization', 'Bearer nope');
    expect(res.status).toBe(401);
    await running.access.idle();
    expect(await readAuditTrail(store, 'demo')).toEqual([]);
  });

  it('keeps a canary value in the query string out of the audit table', async () => {
    const { store } = testStore();
    const running = await start(store);
    const res = await request(running.url)
      .get(`/fhir/demo/Patient?family=${CANARY}&birthdate=1970-01-01&_count=5`)
      .set('Authorization', `Bearer ${tokenOf('agent')}`);
    expect(res.status).toBe(200);
    const denied = await request(running.url)
      .get(`/fhir/demo/Patient?family=${CANARY}`)
      .set('Authorization', `Bearer ${tokenOf('reader')}`);
    expect(denied.status).toBe(403);
    await running.access.idle();

    expect(await readAuditTrail(store, 'demo')).toMatchObject([
      { clientId: 'agent', action: 'search', resourceType: 'Patient', status: 200 },
      { clientId: 'reader', action: 'search', resourceType: 'Patient', status: 403 },
    ]);
    const [first] = await readAuditTrail(store, 'demo');
    expect(first?.parameters).toEqual(['_count', 'birthdate', 'family']);
    const everything = JSON.stringify((await sql`select * from audit_events`.execute(store.db)).rows);
    expect(everything).not.toContain(CANARY);
    expect(everything).not.toContain('1970-01-01');
  });
});
