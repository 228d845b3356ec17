/**
 * Secrets at rest (issue 15 item 5), on both dialects: signing secrets and `channel.header` values cannot be read
 * from the database (every row of every table, and on SQLite the file's raw bytes) without the key; deliveries still
 * carry the headers and verify with `standardwebhooks`; a store from before encryption is sealed by the start-up
 * pass; a rotation reseals everything with the new key; a missing or wrong key is refused at start with a message
 * that names the key id expected.
 */
import { readFile } from 'node:fs/promises';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import type { Store } from '../../../src/store/database.js';
import { parseStoreUrl } from '../../../src/store/store-url.js';
import { secretKeyId, SecretKeyError } from '../../../src/store/secret-box.js';
import type { Database } from '../../../src/store/schema.js';
import { activateSubscription } from '../../../src/webhooks/subscriptions/subscription-lifecycle.js';
import { prepareSecretsAtRest } from '../../../src/webhooks/subscriptions/secrets-at-rest.js';
import {
  createSubscription,
  readDeliveryTarget,
  readSubscription,
  rotateSubscriptionSecret,
  updateSubscription,
} from '../../../src/webhooks/subscriptions/subscription-store.js';
import { createWebhookDispatcher } from '../../../sync/webhook-dispatcher.js';
import { TEST_SECRET_KEYS } from '../../support/test-secret-key.js';
import { testStoreFactories, useTestStore } from '../../support/test-stores.js';
import {
  appointment,
  commitAppointments,
  loopbackPolicy,
  seedPractice,
  subscriptionResource,
  TENANT,
  testWebhookSettings,
} from '../../support/webhook-fixtures.js';
import { eventNotifications, verifies } from '../../support/webhook-notifications.js';
import { startWebhookReceiver, waitUntil, type WebhookReceiver } from '../../support/webhook-receiver.js';

const CREDENTIAL = 'Bearer hunter2-receiver-credential';
const NEW_KEY = Buffer.alloc(32, 9);
const OLD_KEY = TEST_SECRET_KEYS[0] as Uint8Array;
const TABLES: Array<keyof Database> = [
  'subscriptions',
  'resources',
  'resource_history',
  'change_journal',
  'outbox',
  'search_tokens',
  'secret_key_checks',
];

/** Every row of every table that could hold a subscription's data, as text. */
async function everyRow(store: Store): Promise<string> {
  const parts: string[] = [];
  for (const table of TABLES) {
    const rows = await sql`select * from ${sql.table(table)}`.execute(store.db);
    parts.push(JSON.stringify(rows.rows));
  }
  return parts.join('\n');
}

/** The SQLite database file and its write-ahead log, as raw text; '' on PostgreSQL. */
async function sqliteBytes(store: Store, url: string): Promise<string> {
  if (store.dialect !== 'sqlite') return '';
  const location = parseStoreUrl(url);
  if (location.dialect !== 'sqlite') return '';
  await sql`pragma wal_checkpoint(TRUNCATE)`.execute(store.db);
  const file = await readFile(location.filename);
  const wal = await readFile(`${location.filename}-wal`).catch(() => Buffer.alloc(0));
  return Buffer.concat([file, wal]).toString('latin1');
}

describe.each(testStoreFactories)('secrets at rest ($name)', (factory) => {
  const db = useTestStore(factory);
  const receivers: WebhookReceiver[] = [];
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });

  async function subscribeWithHeader(store: Store, endpoint = 'http://127.0.0.1:9/hook') {
    return createSubscription(
      store,
      TENANT,
      subscriptionResource({ endpoint, headers: [`Authorization: ${CREDENTIAL}`] }),
      { policy: loopbackPolicy() },
    );
  }

  it('keeps signing secrets and channel headers out of every row, and out of the SQLite file, while deliveries still carry and sign them', async () => {
    const { store } = db();
    await seedPractice(store);
    const receiver = await startWebhookReceiver();
    receivers.push(receiver);
    const created = await subscribeWithHeader(store, receiver.url);
    const rotated = await rotateSubscriptionSecret(store, TENANT, created.subscription.id, {
      overlapSeconds: 3600,
    });
    await activateSubscription(store, TENANT, created.subscription.id);
    await commitAppointments(store, [appointment({ id: 'a1' })]);

    const dispatcher = createWebhookDispatcher({
      store,
      tenants: [TENANT],
      settings: testWebhookSettings(),
      logger: createLogger('silent'),
      fhirBaseUrl: () => 'https://switchboard.test/fhir/clinic',
    });
    void dispatcher.start();
    try {
      await waitUntil(() => eventNotifications(receiver.received).length > 0, 'the event is delivered');
    } finally {
      await dispatcher.stop();
    }
    const delivered = receiver.received.find((r) => r.headers['webhook-id'] !== undefined);
    if (!delivered) throw new Error('nothing delivered');
    expect(delivered.headers.authorization).toBe(CREDENTIAL);
    // Both secrets sign during the overlap: the receiver verifies with either (standardwebhooks).
    expect(verifies(delivered, rotated.secret)).toBe(true);
    expect(verifies(delivered, created.secret)).toBe(true);

    const needles = [
      'hunter2',
      created.secret,
      created.secret.slice('whsec_'.length),
      rotated.secret.slice('whsec_'.length),
    ];
    const rows = await everyRow(store);
    const bytes = await sqliteBytes(store, db().url);
    for (const needle of needles) {
      expect(rows, needle).not.toContain(needle);
      expect(bytes, needle).not.toContain(needle);
    }
    if (store.dialect === 'sqlite') expect(bytes).toContain('Authorization: [encrypted]');
    // The owner's read shows the header's name, its value masked.
    const view = await readSubscription(store, TENANT, created.subscription.id);
    expect(view?.resource.resource.channel.header).toEqual(['Authorization: [encrypted]']);
  });

  it('keeps a masked header value on update and takes a new one', async () => {
    const { store } = db();
    const created = await subscribeWithHeader(store);
    const id = created.subscription.id;
    const resource = (await readSubscription(store, TENANT, id))?.resource.resource;
    if (!resource) throw new Error('missing');
    await updateSubscription(
      store,
      TENANT,
      id,
      { ...resource, reason: 'changed' },
      { policy: loopbackPolicy() },
    );
    expect((await readDeliveryTarget(store, TENANT, id))?.headers).toEqual([`Authorization: ${CREDENTIAL}`]);
    await updateSubscription(
      store,
      TENANT,
      id,
      {
        ...resource,
        channel: { ...resource.channel, header: ['Authorization: Bearer next', 'X-Extra: [encrypted]'] },
      },
      { policy: loopbackPolicy() },
    ).then(
      () => {
        throw new Error('a masked header without a stored value was accepted');
      },
      (error: Error) => expect(error.message).toMatch(/X-Extra has no stored value/),
    );
    await updateSubscription(
      store,
      TENANT,
      id,
      { ...resource, channel: { ...resource.channel, header: ['Authorization: Bearer next'] } },
      { policy: loopbackPolicy() },
    );
    expect((await readDeliveryTarget(store, TENANT, id))?.headers).toEqual(['Authorization: Bearer next']);
  });

  it('seals the plaintext secrets of a store from before encryption at rest, and masks its stored headers', async () => {
    const { store } = db();
    const created = await subscribeWithHeader(store);
    const id = created.subscription.id;
    // What a store written before issue 15 holds: plaintext columns and header values in the resource.
    await store.write(async (trx) => {
      await trx
        .updateTable('subscriptions')
        .set({ secret: created.secret, headers: JSON.stringify([`Authorization: ${CREDENTIAL}`]) })
        .execute();
      for (const table of ['resources', 'resource_history'] as const) {
        await trx
          .updateTable(table)
          .set({ resource: sql`replace(resource, ${'[encrypted]'}, ${CREDENTIAL})` })
          .where('resource_type', '=', 'Subscription')
          .execute();
      }
      await trx.deleteFrom('secret_key_checks').execute();
    });
    expect(await everyRow(store)).toContain('hunter2');

    expect(await prepareSecretsAtRest(store)).toEqual({ resealed: 1, masked: 2 });
    expect(await everyRow(store)).not.toContain('hunter2');
    expect(await everyRow(store)).not.toContain(created.secret);
    const target = await readDeliveryTarget(store, TENANT, id);
    expect(target?.secrets.current).toBe(created.secret);
    expect(target?.headers).toEqual([`Authorization: ${CREDENTIAL}`]);
    // A second pass finds nothing left to do.
    expect(await prepareSecretsAtRest(store)).toEqual({ resealed: 0, masked: 0 });
  });

  it('rotates the key: a start with the new key and the old one as previous reseals everything, after which the old key alone is refused', async () => {
    const { store } = db();
    const created = await subscribeWithHeader(store);
    const id = created.subscription.id;
    await prepareSecretsAtRest(store);
    const oldId = secretKeyId(OLD_KEY);
    const newId = secretKeyId(NEW_KEY);
    expect(await everyRow(store)).toContain(`sb1.${oldId}.`);

    const rotating = await db().openAnother({ secretKeys: [NEW_KEY, OLD_KEY] });
    expect(await prepareSecretsAtRest(rotating)).toEqual({ resealed: 1, masked: 0 });
    const rows = await everyRow(rotating);
    expect(rows).not.toContain(`sb1.${oldId}.`);
    expect(rows).toContain(`sb1.${newId}.`);

    const rotated = await db().openAnother({ secretKeys: [NEW_KEY] });
    expect(await prepareSecretsAtRest(rotated)).toEqual({ resealed: 0, masked: 0 });
    const target = await readDeliveryTarget(rotated, TENANT, id);
    expect(target?.secrets.current).toBe(created.secret);
    expect(target?.headers).toEqual([`Authorization: ${CREDENTIAL}`]);

    const stale = await db().openAnother({ secretKeys: [OLD_KEY] });
    await expect(prepareSecretsAtRest(stale)).rejects.toThrow(SecretKeyError);
    await expect(prepareSecretsAtRest(stale)).rejects.toThrow(
      `the store expects key ${newId}, the configuration gives ${oldId}`,
    );
  });

  it('refuses a start without a key on a store that holds secrets, and runs without one on a store that holds none', async () => {
    const { store } = db();
    const keyless = await db().openAnother({ secretKeys: [] });
    expect(await prepareSecretsAtRest(keyless)).toEqual({ resealed: 0, masked: 0 });
    await expect(subscribeWithHeader(keyless)).rejects.toThrow(/no secret key to keep their signing secrets/);

    await subscribeWithHeader(store);
    await prepareSecretsAtRest(store);
    await expect(prepareSecretsAtRest(keyless)).rejects.toThrow(
      `holds secrets encrypted with key ${secretKeyId(OLD_KEY)}, and no key is configured`,
    );
  });
});
