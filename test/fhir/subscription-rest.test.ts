import type { Basic, Bundle, CapabilityStatement, OperationOutcome, Parameters } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { capabilityStatement } from '../../fhir/capability-statement.js';
import { SUPPORTED_RESOURCES } from '../../fhir/resources/supported-resources.js';
import {
  SUBSCRIPTION_SERVER_INSTANTIATES,
  subscriptionCapabilityResources,
} from '../../fhir/routes/subscription-routes.js';
import { WEBHOOK_SECRET_EXTENSION } from '../../fhir/subscriptions/webhook-secret.js';
import { createEndpointPolicy } from '../../src/webhooks/delivery/endpoint-guard.js';
import {
  PAYLOAD_CONTENT_EXTENSION,
  type BackportSubscription,
} from '../../src/webhooks/subscriptions/subscription-resource.js';
import { TOPIC_BASE_URL, TOPICS } from '../../src/webhooks/subscriptions/topics.js';
import { expectValidFhir } from '../support/fhir-validators.js';
import { testStoreFactories } from '../support/test-stores.js';
import { subscriptionResource } from '../support/webhook-fixtures.js';
import { expectOutcome, fhirGet, matches } from './support/fhir-http.js';
import {
  createSubscription,
  fhirSend,
  useSubscriptionFacade,
  waitForStatus,
} from './support/subscription-facade.js';

const auth = { authorization: 'Bearer test' };

describe.each(testStoreFactories)('Subscription over FHIR REST ($name)', (factory) => {
  const facade = useSubscriptionFacade(factory);

  it('creates a subscription in status requested, shakes hands with the endpoint and reports it active in $status', async () => {
    const { h, receiver } = facade();
    const { subscription, secret, answer } = await createSubscription(
      h,
      subscriptionResource({
        endpoint: `${receiver.url}/handshake`,
        heartbeatSeconds: 60,
        timeoutSeconds: 5,
      }),
    );
    expect(subscription.status).toBe('requested');
    expect(subscription.meta?.profile).toContain(
      'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription',
    );
    expect(answer.headers.get('location')).toBe(`${h.base}/Subscription/${subscription.id}/_history/1`);
    expect(answer.headers.get('etag')).toBe('W/"1"');
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(subscription.channel.extension?.find((e) => e.url === WEBHOOK_SECRET_EXTENSION)?.valueString).toBe(
      secret,
    );

    await waitForStatus(h, subscription.id ?? '', 'active');
    const handshake = receiver.received.find((r) => r.path === '/hook/handshake');
    expect(handshake?.body).toContain('"handshake"');

    const status = await fhirGet<Bundle<Parameters>>(h, `Subscription/${subscription.id}/$status`, auth);
    expect(status.body.type).toBe('searchset');
    const parameters = status.body.entry?.[0]?.resource?.parameter ?? [];
    expect(parameters.find((p) => p.name === 'type')?.valueCode).toBe('query-status');
    expect(parameters.find((p) => p.name === 'subscription')?.valueReference?.reference).toBe(
      `${h.base}/Subscription/${subscription.id}`,
    );
    expect(h.audit).toContainEqual(
      expect.objectContaining({
        action: 'create',
        resourceType: 'Subscription',
        resourceIds: [subscription.id],
      }),
    );
  });

  it('returns the secret once: reads, searches and $status never show it, and a secret sent back is not stored', async () => {
    const { h, receiver } = facade();
    const { subscription, secret } = await createSubscription(
      h,
      subscriptionResource({ endpoint: `${receiver.url}/once` }),
    );
    const id = subscription.id ?? '';
    const read = await fetch(`${h.base}/Subscription/${id}`, { headers: auth });
    const readText = await read.text();
    expect(read.status).toBe(200);
    expect(read.headers.get('x-switchboard-webhook-secret')).toBeNull();
    expect(readText).not.toContain('whsec_');
    expect(readText).not.toContain(WEBHOOK_SECRET_EXTENSION);
    expectValidFhir(JSON.parse(readText));
    for (const path of [`Subscription?_id=${id}`, `Subscription/${id}/$status`, 'Subscription/$status']) {
      const answer = await fetch(`${h.base}/${path}`, { headers: auth });
      const text = await answer.text();
      expect(answer.status, path).toBe(200);
      expect(text, path).not.toContain(secret);
    }

    // A client PUTs back what it was given, secret extension included.
    const current = await fhirGet<BackportSubscription>(h, `Subscription/${id}`, auth);
    const updated = await fhirSend<BackportSubscription>(h, 'PUT', `Subscription/${id}`, {
      ...subscription,
      meta: undefined,
      status: current.body.status,
    });
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(JSON.stringify(updated.body)).not.toContain('whsec_');
  });

  it('reads with ETag and 304, searches by status, url and criteria, and 404s an unknown id', async () => {
    const { h, receiver } = facade();
    const endpoint = `${receiver.url}/search-me`;
    const { subscription } = await createSubscription(
      h,
      subscriptionResource({ endpoint, topic: 'appointment-cancelled' }),
    );
    const id = subscription.id ?? '';
    await waitForStatus(h, id, 'active');
    const read = await fhirGet<BackportSubscription>(h, `Subscription/${id}`, auth);
    expect(read.status).toBe(200);
    const etag = read.headers.get('etag') ?? '';
    expect(etag).toMatch(/^W\/"\d+"$/);
    expect(
      (await fetch(`${h.base}/Subscription/${id}`, { headers: { ...auth, 'if-none-match': etag } })).status,
    ).toBe(304);

    const search = async (query: string) => {
      const answer = await fhirGet<Bundle>(h, `Subscription?${query}`, auth);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body.type).toBe('searchset');
      return matches(answer.body).map((r) => r.id);
    };
    expect(await search(`url=${encodeURIComponent(endpoint)}`)).toEqual([id]);
    expect(await search(`url=${encodeURIComponent(endpoint)}&status=active`)).toEqual([id]);
    expect(await search(`url=${encodeURIComponent(endpoint)}&status=off,error`)).toEqual([]);
    expect(
      await search(
        `url=${encodeURIComponent(endpoint)}&criteria=${encodeURIComponent(`${TOPIC_BASE_URL}appointment-cancelled`)}`,
      ),
    ).toEqual([id]);
    expect(await search(`criteria=${encodeURIComponent(`${TOPIC_BASE_URL}patient-changed`)}`)).toEqual([]);
    expectOutcome(await fhirGet(h, 'Subscription?status=bogus', auth), 400, 'status');
    expectOutcome(await fhirGet(h, 'Subscription?foo=1', { ...auth, prefer: 'handling=strict' }), 400, 'foo');
    expectOutcome(await fhirGet(h, 'Subscription/no-such-subscription', auth), 404);
    expectOutcome(await fhirGet(h, 'Subscription/no-such-subscription/$status', auth), 404);
  });

  it('refuses invalid subscriptions with 400/422 naming the offending element', async () => {
    const { h, receiver } = facade();
    const valid = subscriptionResource({ endpoint: `${receiver.url}/invalid` });
    const cases: Array<[string, unknown, number, string | undefined]> = [
      ['unknown topic', { ...valid, criteria: 'Appointment?status=booked' }, 422, 'Subscription.criteria'],
      // Subscription.criteria and .reason are 1..1 in R4: refused by the R4 definitions first (400).
      ['missing criteria', { ...valid, criteria: undefined }, 400, 'Subscription.criteria'],
      [
        'websocket channel',
        { ...valid, channel: { ...valid.channel, type: 'websocket' } },
        422,
        'Subscription.channel.type',
      ],
      [
        'no endpoint',
        { ...valid, channel: { ...valid.channel, endpoint: undefined } },
        422,
        'Subscription.channel.endpoint',
      ],
      [
        'xml payload',
        { ...valid, channel: { ...valid.channel, payload: 'application/fhir+xml' } },
        422,
        'Subscription.channel.payload',
      ],
      [
        'unknown payload content',
        {
          ...valid,
          channel: {
            ...valid.channel,
            _payload: { extension: [{ url: PAYLOAD_CONTENT_EXTENSION, valueCode: 'everything' }] },
          },
        },
        422,
        'Subscription.channel.payload.extension',
      ],
      [
        'a filter the topic does not offer',
        subscriptionResource({
          endpoint: valid.channel.endpoint ?? '',
          topic: 'appointment-booked',
          filters: ['Appointment?status=booked'],
        }),
        422,
        'Subscription.criteria.extension',
      ],
      [
        'heartbeat of zero',
        subscriptionResource({ endpoint: valid.channel.endpoint ?? '', heartbeatSeconds: 0 }),
        422,
        'Subscription.channel.extension',
      ],
      ['no reason', { ...valid, reason: undefined }, 400, 'Subscription.reason'],
      ['a Patient', { resourceType: 'Patient' }, 400, 'resourceType'],
    ];
    for (const [label, body, status, expression] of cases) {
      const answer = await fhirSend(h, 'POST', 'Subscription', body);
      expect(answer.status, label).toBe(status);
      expectOutcome(answer, status, expression);
    }
    expectOutcome(await fhirSend(h, 'POST', 'Subscription'), 400);
    const text = await fetch(`${h.base}/Subscription`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/plain' },
      body: 'subscribe me',
    });
    expect(text.status).toBe(415);
    expectValidFhir(await text.json());
  });

  it('updates with If-Match (412 when stale), pauses with status off, and refuses an id that is not the URL id', async () => {
    const { h, receiver } = facade();
    const { subscription } = await createSubscription(
      h,
      subscriptionResource({ endpoint: `${receiver.url}/update` }),
    );
    const id = subscription.id ?? '';
    await waitForStatus(h, id, 'active');
    const current = await fhirGet<BackportSubscription>(h, `Subscription/${id}`, auth);
    const etag = current.headers.get('etag') ?? '';

    expectOutcome(
      await fhirSend(
        h,
        'PUT',
        `Subscription/${id}`,
        { ...current.body, reason: 'stale' },
        { 'if-match': 'W/"1"' },
      ),
      412,
    );
    expectOutcome(
      await fhirSend(h, 'PUT', `Subscription/${id}`, { ...current.body, id: 'other' }),
      400,
      'Subscription.id',
    );
    expectOutcome(await fhirSend(h, 'PUT', 'Subscription/nope', { ...current.body, id: 'nope' }), 404);

    const paused = await fhirSend<BackportSubscription>(
      h,
      'PUT',
      `Subscription/${id}`,
      { ...current.body, reason: 'paused for maintenance', status: 'off' },
      { 'if-match': etag },
    );
    expect(paused.status, JSON.stringify(paused.body)).toBe(200);
    expect(paused.body).toMatchObject({ status: 'off', reason: 'paused for maintenance' });
    expect(paused.headers.get('etag')).not.toBe(etag);
    await waitForStatus(h, id, 'off');
    expect(h.audit).toContainEqual(
      expect.objectContaining({
        action: 'update',
        resourceType: 'Subscription',
        resourceIds: [id],
        status: 200,
      }),
    );
  });

  it('deletes: 204, then reads answer 410 and the subscription is gone from searches and $status', async () => {
    const { h, receiver } = facade();
    const { subscription } = await createSubscription(
      h,
      subscriptionResource({ endpoint: `${receiver.url}/delete` }),
    );
    const id = subscription.id ?? '';
    expect((await fhirSend(h, 'DELETE', `Subscription/${id}`)).status).toBe(204);
    expectOutcome(await fhirGet(h, `Subscription/${id}`, auth), 410);
    expectOutcome(await fhirGet(h, `Subscription/${id}/$status`, auth), 410);
    const search = await fhirGet<Bundle>(h, `Subscription?_id=${id}`, auth);
    expect(matches(search.body)).toEqual([]);
    expect((await fhirSend(h, 'DELETE', `Subscription/${id}`)).status).toBe(204);
    expectOutcome(await fhirSend(h, 'DELETE', 'Subscription/never-was'), 404);
  });

  it('answers the type-level $status filtered by id and status, GET and POST', async () => {
    const { h, receiver } = facade();
    const a =
      (await createSubscription(h, subscriptionResource({ endpoint: `${receiver.url}/status-a` })))
        .subscription.id ?? '';
    const b =
      (await createSubscription(h, subscriptionResource({ endpoint: `${receiver.url}/status-b` })))
        .subscription.id ?? '';
    await waitForStatus(h, a, 'active');
    await waitForStatus(h, b, 'active');
    const ids = (bundle: Bundle<Parameters>) =>
      (bundle.entry ?? [])
        .map((e) => e.resource?.parameter?.find((p) => p.name === 'subscription')?.valueReference?.reference)
        .map((r) => r?.split('/').pop())
        .sort();
    const get = await fhirGet<Bundle<Parameters>>(h, `Subscription/$status?id=${a},${b}&status=active`, auth);
    expect(get.status).toBe(200);
    expect(ids(get.body)).toEqual([a, b].sort());
    const post = await fhirSend<Bundle<Parameters>>(h, 'POST', 'Subscription/$status', {
      resourceType: 'Parameters',
      parameter: [
        { name: 'id', valueId: a },
        { name: 'status', valueCode: 'active' },
      ],
    });
    expect(post.status).toBe(200);
    expect(ids(post.body)).toEqual([a]);
    const none = await fhirGet<Bundle<Parameters>>(h, `Subscription/$status?id=${a}&status=error`, auth);
    expect(none.body.entry).toBeUndefined();
    expectOutcome(await fhirGet(h, 'Subscription/$status?status=sleeping', auth), 400, 'status');
    expectOutcome(await fhirGet(h, 'Subscription/$status?color=red', auth), 400, 'color');
  });

  it('authorizes with Subscription scopes, full-resource payloads with read access to the focus type, and audits refusals', async () => {
    const { h, receiver } = facade();
    h.access.forbidden.add('Subscription');
    try {
      const answer = await fhirSend(
        h,
        'POST',
        'Subscription',
        subscriptionResource({ endpoint: `${receiver.url}/forbidden` }),
      );
      expectOutcome(answer, 403);
      expectOutcome(await fhirGet(h, 'Subscription/$status', auth), 403);
      expect(h.audit.at(-1)).toMatchObject({ resourceType: 'Subscription', status: 403 });
    } finally {
      h.access.forbidden.delete('Subscription');
    }
    h.access.forbidden.add('Patient');
    try {
      const full = subscriptionResource({
        endpoint: `${receiver.url}/full`,
        topic: 'patient-changed',
        content: 'full-resource',
      });
      expectOutcome(await fhirSend(h, 'POST', 'Subscription', full), 403);
      const thin = subscriptionResource({
        endpoint: `${receiver.url}/thin`,
        topic: 'patient-changed',
        content: 'id-only',
      });
      expect((await fhirSend(h, 'POST', 'Subscription', thin)).status).toBe(201);
    } finally {
      h.access.forbidden.delete('Patient');
    }
  });

  it('serves the topics as R4 Basic resources (backport IG) and explains that SubscriptionTopic is R5', async () => {
    const { h } = facade();
    const all = await fhirGet<Bundle<Basic>>(
      h,
      'Basic?code=http://hl7.org/fhir/fhir-types|SubscriptionTopic',
      auth,
    );
    expect(all.status).toBe(200);
    const topics = matches<Basic>(all.body);
    expect(topics.map((t) => t.id)).toEqual(TOPICS.map((t) => t.id));
    const canonicalOf = (topic: Basic) =>
      topic.extension?.find(
        (e) => e.url === 'http://hl7.org/fhir/5.0/StructureDefinition/extension-SubscriptionTopic.url',
      )?.valueUri;
    expect(topics.map(canonicalOf)).toEqual(TOPICS.map((t) => t.url));
    expect(
      matches(
        (await fhirGet<Bundle>(h, 'Basic?code=SubscriptionTopic&_id=slot-availability', auth)).body,
      ).map((r) => r.id),
    ).toEqual(['slot-availability']);
    expect(matches((await fhirGet<Bundle>(h, 'Basic?code=http://loinc.org|1234-5', auth)).body)).toEqual([]);

    const one = await fhirGet<Basic>(h, 'Basic/appointment-booked', auth);
    expect(one.status).toBe(200);
    expect(one.body.code.coding?.[0]).toEqual({
      system: 'http://hl7.org/fhir/fhir-types',
      code: 'SubscriptionTopic',
    });
    expect(canonicalOf(one.body)).toBe(`${TOPIC_BASE_URL}appointment-booked`);
    expectOutcome(await fhirGet(h, 'Basic/not-a-topic', auth), 404);
    const r5 = expectOutcome(await fhirGet<OperationOutcome>(h, 'SubscriptionTopic', auth), 404);
    expect(r5.issue[0]?.diagnostics).toContain('Basic?code=');
  });

  it('advertises Subscription, its operations and every topic in the CapabilityStatement, and accepts each advertised topic', async () => {
    const { h, receiver } = facade();
    const statement: CapabilityStatement = capabilityStatement({
      baseUrl: h.base,
      tenantName: 'Tiny',
      softwareVersion: 'test',
      date: '2026-11-20T15:00:00Z',
      resources: SUPPORTED_RESOURCES,
      extraResources: subscriptionCapabilityResources(),
      instantiates: SUBSCRIPTION_SERVER_INSTANTIATES,
    });
    expectValidFhir(statement);
    const resources = statement.rest?.[0]?.resource ?? [];
    const subscription = resources.find((r) => r.type === 'Subscription');
    const advertised = (subscription?.extension ?? [])
      .filter(
        (e) =>
          e.url ===
          'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/capabilitystatement-subscriptiontopic-canonical',
      )
      .map((e) => e.valueCanonical);
    expect(advertised).toEqual(TOPICS.map((t) => t.url));
    expect(subscription?.operation?.map((o) => o.name)).toEqual([
      'status',
      'events',
      'rotate-secret',
      'dead-letters',
      'redrive',
    ]);
    expect(resources.find((r) => r.type === 'Basic')?.interaction?.map((i) => i.code)).toEqual([
      'read',
      'search-type',
    ]);

    for (const topic of advertised) {
      const created = await fhirSend<BackportSubscription>(h, 'POST', 'Subscription', {
        ...subscriptionResource({ endpoint: `${receiver.url}/topic` }),
        criteria: topic,
      });
      expect(created.status, `${topic}: ${JSON.stringify(created.body)}`).toBe(201);
    }
  });
});

describe.each(testStoreFactories)('Subscription endpoints and the SSRF policy ($name)', (factory) => {
  // No allowlist: what production runs with. Host names resolve through a fake DNS.
  const facade = useSubscriptionFacade(factory, {
    dispatcher: false,
    policy: createEndpointPolicy(
      { allowlist: [] },
      {
        lookup: (hostname) =>
          Promise.resolve(
            hostname === 'hooks.example.com'
              ? [{ address: '93.184.216.34', family: 4 }]
              : hostname === 'rebind.example.com'
                ? [
                    { address: '93.184.216.34', family: 4 },
                    { address: '10.1.2.3', family: 4 },
                  ]
                : [],
          ),
      },
    ),
  });

  it.each([
    ['loopback without an allowlist', 'https://127.0.0.1/hook'],
    ['loopback over http', 'http://127.0.0.1:9000/hook'],
    ['a private address', 'https://10.0.0.1/hook'],
    ['the cloud metadata address', 'https://169.254.169.254/latest/meta-data/'],
    ['IPv6 loopback', 'https://[::1]/hook'],
    ['IPv4-mapped IPv6 loopback', 'https://[::ffff:127.0.0.1]/hook'],
    ['loopback as a decimal number', 'https://2130706433/hook'],
    ['plain http to a public host', 'http://hooks.example.com/hook'],
    ['a port that is not allowed', 'https://hooks.example.com:8443/hook'],
    ['a name that also resolves to a private address', 'https://rebind.example.com/hook'],
    ['credentials in the URL', 'https://user:pass@hooks.example.com/hook'],
  ])('refuses %s (%s) at registration with 422 security', async (_label, endpoint) => {
    const answer = await fhirSend(facade().h, 'POST', 'Subscription', subscriptionResource({ endpoint }));
    const outcome = expectOutcome(answer, 422, 'Subscription.channel.endpoint');
    expect(outcome.issue[0]?.code).toBe('security');
  });

  it('accepts https to a public address on port 443', async () => {
    const answer = await fhirSend(
      facade().h,
      'POST',
      'Subscription',
      subscriptionResource({ endpoint: 'https://hooks.example.com/hook' }),
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  });
});
