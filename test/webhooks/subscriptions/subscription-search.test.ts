import { describe, expect, it } from 'vitest';
import {
  isSubscriptionSearchParameter,
  searchSubscriptions,
  type SubscriptionSearchParameter,
} from '../../../src/webhooks/subscriptions/subscription-search.js';
import { TOPIC_BASE_URL } from '../../../src/webhooks/subscriptions/topics.js';
import { pauseSubscription } from '../../../src/webhooks/subscriptions/subscription-lifecycle.js';
import {
  createSubscription,
  deleteSubscription,
} from '../../../src/webhooks/subscriptions/subscription-store.js';
import { loopbackPolicy, subscriptionResource, TENANT } from '../../support/webhook-fixtures.js';
import { testStoreFactories, useTestStore } from '../../support/test-stores.js';

const TOPIC_BASE = TOPIC_BASE_URL;

describe('Subscription search parameters', () => {
  it('understands _id, status, url and criteria, nothing else', () => {
    expect(['_id', 'status', 'url', 'criteria'].every(isSubscriptionSearchParameter)).toBe(true);
    expect(isSubscriptionSearchParameter('endpoint')).toBe(false);
    expect(isSubscriptionSearchParameter('_count')).toBe(false);
  });
});

describe.each(testStoreFactories)('searching subscriptions ($name)', (factory) => {
  const db = useTestStore(factory);
  const policy = loopbackPolicy();

  async function seed() {
    const { store } = db();
    const create = (endpoint: string, topic: 'appointment-booked' | 'appointment-cancelled') =>
      createSubscription(store, TENANT, subscriptionResource({ endpoint, topic }), { policy });
    const a = await create('http://127.0.0.1:9/a', 'appointment-booked');
    const b = await create('http://127.0.0.1:9/b', 'appointment-cancelled');
    const c = await create('http://127.0.0.1:9/c', 'appointment-booked');
    await pauseSubscription(store, TENANT, b.subscription.id);
    await deleteSubscription(store, TENANT, c.subscription.id);
    return { store, a: a.subscription.id, b: b.subscription.id, c: c.subscription.id };
  }

  it('ORs the values of one list, ANDs lists and parameters, and leaves deleted subscriptions out', async () => {
    const { store, a, b } = await seed();
    const ids = async (criteria: Array<[SubscriptionSearchParameter, string[][]]>) =>
      (await searchSubscriptions(store, TENANT, new Map(criteria))).map((s) => s.id);

    expect(await ids([])).toEqual([a, b]);
    expect(await ids([['_id', [[a, b]]]])).toEqual([a, b]);
    expect(await ids([['_id', [[a, b], [b]]]])).toEqual([b]);
    expect(await ids([['status', [['off']]]])).toEqual([b]);
    expect(await ids([['url', [['http://127.0.0.1:9/a']]]])).toEqual([a]);
    expect(await ids([['criteria', [[`${TOPIC_BASE}appointment-booked`]]]])).toEqual([a]);
    expect(
      await ids([
        ['criteria', [[`${TOPIC_BASE}appointment-booked`]]],
        ['status', [['off']]],
      ]),
    ).toEqual([]);
  });

  it('returns the stored resources, each with its version', async () => {
    const { store, b } = await seed();
    const [found] = await searchSubscriptions(store, TENANT, new Map([['_id', [[b]]]]));
    expect(found?.resource).toMatchObject({ resourceType: 'Subscription', id: b, status: 'off' });
    expect(found?.versionId).toBe(2);
  });
});
