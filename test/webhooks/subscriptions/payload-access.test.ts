import { describe, expect, it } from 'vitest';
import { readAccessNeeded } from '../../../src/webhooks/subscriptions/payload-access.js';
import { subscriptionResource } from '../../support/webhook-fixtures.js';

const endpoint = 'http://127.0.0.1:9/hook';

describe('who may receive full-resource payloads', () => {
  it('asks for read access to the topic focus type for full-resource subscriptions only', () => {
    expect(readAccessNeeded(subscriptionResource({ endpoint, content: 'full-resource' }))).toBe(
      'Appointment',
    );
    expect(
      readAccessNeeded(
        subscriptionResource({ endpoint, content: 'full-resource', topic: 'patient-created' }),
      ),
    ).toBe('Patient');
    expect(readAccessNeeded(subscriptionResource({ endpoint, content: 'id-only' }))).toBeUndefined();
    expect(readAccessNeeded(subscriptionResource({ endpoint, content: 'empty' }))).toBeUndefined();
  });

  it('asks for nothing when the topic has no focus type', () => {
    expect(
      readAccessNeeded(subscriptionResource({ endpoint, content: 'full-resource', topic: 'sync-health' })),
    ).toBeUndefined();
  });

  it('leaves a resource that does not parse to the store to refuse', () => {
    const unknownTopic = {
      ...subscriptionResource({ endpoint, content: 'full-resource' }),
      criteria: 'https://switchboard.health/fhir/SubscriptionTopic/no-such-topic',
    };
    expect(readAccessNeeded(unknownTopic)).toBeUndefined();
  });
});
