/**
 * Subscriptions belong to the client that created them (issue 14 item 9): another client of the same tenant with
 * every Subscription scope gets 404 for read, search (left out), update, delete and the instance operations — so
 * it can neither read the owner's `channel.header` credentials nor rotate its secret, redrive or delete it — unless
 * it is an operator (`clients[].operator: true`). Real HTTP, authenticated by the client registry, both dialects.
 */
import type { Bundle, Subscription } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { subscriptionRoutes } from '../../fhir/routes/subscription-routes.js';
import { sha256Hex, type ClientConfig } from '../../src/config.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';
import { TINY_FIRM } from '../support/tiny-firm.js';
import { loopbackPolicy, subscriptionResource } from '../support/webhook-fixtures.js';
import { startFacade, type FacadeHarness } from './support/facade-harness.js';

const client = (id: string, operator = false): ClientConfig => ({
  id,
  tokenSha256: sha256Hex(`${id}-token-0001`),
  scopes: ['system/*.cruds'],
  tenants: [TINY_FIRM],
  operator,
});
const CLIENTS = [client('alice'), client('bob'), client('ops', true)];

async function call(
  h: FacadeHarness,
  as: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${h.base}/${path}`, {
    method,
    headers: {
      authorization: `Bearer ${as}-token-0001`,
      ...(body === undefined ? {} : { 'content-type': 'application/fhir+json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

describe.each(testStoreFactories)('Subscription owners ($name)', (factory) => {
  const db = useTestStore(factory);
  let h: FacadeHarness;
  beforeEach(async () => {
    h = await startFacade({
      store: db().store,
      clientConfigs: CLIENTS,
      routes: () => [subscriptionRoutes({ policy: loopbackPolicy(), secretOverlapSeconds: 600 })],
    });
  });
  afterEach(async () => {
    await h.close();
  });

  it('answers 404 to another client of the tenant for everything about a subscription, and serves its owner and operators', async () => {
    const created = await call(
      h,
      'alice',
      'POST',
      'Subscription',
      subscriptionResource({
        endpoint: 'http://127.0.0.1:9/hook',
        headers: ['Authorization: Bearer alice-secret'],
      }),
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const subscription = created.body as Subscription;
    const id = subscription.id as string;

    // The owner and the operator see it.
    expect((await call(h, 'alice', 'GET', `Subscription/${id}`)).status).toBe(200);
    expect((await call(h, 'ops', 'GET', `Subscription/${id}`)).status).toBe(200);
    const opsSearch = (await call(h, 'ops', 'GET', 'Subscription')).body as Bundle;
    expect(opsSearch.entry?.map((e) => e.resource?.id)).toEqual([id]);

    // Bob, with every scope, sees nothing and can change nothing.
    expect((await call(h, 'bob', 'GET', `Subscription/${id}`)).status).toBe(404);
    const search = (await call(h, 'bob', 'GET', 'Subscription')).body as Bundle;
    expect(search.entry ?? []).toEqual([]);
    const status = (await call(h, 'bob', 'GET', 'Subscription/$status')).body as Bundle;
    expect(status.entry ?? []).toEqual([]);
    for (const [method, path, body] of [
      ['GET', `Subscription/${id}/$status`, undefined],
      ['GET', `Subscription/${id}/$events`, undefined],
      ['POST', `Subscription/${id}/$rotate-secret`, { resourceType: 'Parameters' }],
      ['GET', `Subscription/${id}/$dead-letters`, undefined],
      ['POST', `Subscription/${id}/$redrive`, { resourceType: 'Parameters' }],
      ['PUT', `Subscription/${id}`, { ...subscription, status: 'off' }],
      ['DELETE', `Subscription/${id}`, undefined],
    ] as const) {
      const answer = await call(h, 'bob', method, path, body);
      expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBe(404);
    }
    // Still there, unchanged, for its owner.
    const read = await call(h, 'alice', 'GET', `Subscription/${id}`);
    expect(read.status).toBe(200);
    expect((read.body as Subscription).status).toBe('requested');
    expect((await call(h, 'alice', 'DELETE', `Subscription/${id}`)).status).toBe(204);
  });
});
