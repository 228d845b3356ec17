/**
 * A missing or wrong key of secrets at rest stops a real `switchboard` process at start with a message for the
 * operator, not a stack trace (issue 15 item 5); `switchboard migrate` with the new key first and the old one as
 * previous completes a rotation, after which the old key alone is refused. SQLite in a temp folder; the
 * dialect-neutral rules are proven on both dialects in test/webhooks/subscriptions/secrets-at-rest.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { secretKeyId } from '../../src/store/secret-box.js';
import { prepareSecretsAtRest } from '../../src/webhooks/subscriptions/secrets-at-rest.js';
import { createSubscription } from '../../src/webhooks/subscriptions/subscription-store.js';
import { loopbackPolicy, subscriptionResource, TENANT } from '../support/webhook-fixtures.js';

const root = resolve(import.meta.dirname, '../..');
const OLD_KEY = Buffer.alloc(32, 1);
const NEW_KEY = Buffer.alloc(32, 2);

function migrate(configFile: string, env: Record<string, string>): { status: number | null; stderr: string } {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'src/main.ts', 'migrate', '--config', configFile],
    {
      cwd: root,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: 60_000,
    },
  );
  return { status: result.status, stderr: result.stderr };
}

describe('switchboard start-up with secrets at rest', () => {
  it('refuses a missing or wrong key with the key id it expects, and completes a rotation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-secret-key-'));
    const databaseUrl = join(dir, 'switchboard.sqlite');
    const configFile = join(dir, 'switchboard.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        databaseUrl,
        tenants: [
          {
            id: TENANT,
            connector: {
              kind: 'sim',
              baseUrl: 'http://127.0.0.1:9',
              firm: 'riverside',
              username: 'u',
              password: 'p',
            },
          },
        ],
      }),
    );
    const store = await openStore(databaseUrl, { secretKeys: [OLD_KEY] });
    try {
      await migrateToLatest(store);
      await createSubscription(
        store,
        TENANT,
        subscriptionResource({ endpoint: 'http://127.0.0.1:9/hook', headers: ['Authorization: Bearer x'] }),
        { policy: loopbackPolicy() },
      );
      await prepareSecretsAtRest(store);
    } finally {
      await store.close();
    }
    const oldText = OLD_KEY.toString('base64');
    const newText = NEW_KEY.toString('base64');

    const missing = migrate(configFile, {});
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(
      `switchboard: this store holds secrets encrypted with key ${secretKeyId(OLD_KEY)}, and no key is configured`,
    );
    expect(missing.stderr).not.toMatch(/\n\s+at /);

    const wrong = migrate(configFile, { SWITCHBOARD_SECRET_KEY: newText });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain(
      `the store expects key ${secretKeyId(OLD_KEY)}, the configuration gives ${secretKeyId(NEW_KEY)}`,
    );
    expect(wrong.stderr).not.toMatch(/\n\s+at /);

    const keyFile = join(dir, 'secret.key');
    writeFileSync(keyFile, `${newText}\n${oldText}\n`);
    expect(migrate(configFile, { SWITCHBOARD_SECRET_KEY_FILE: keyFile }).status).toBe(0);
    expect(migrate(configFile, { SWITCHBOARD_SECRET_KEY: newText }).status).toBe(0);
    const stale = migrate(configFile, { SWITCHBOARD_SECRET_KEY: oldText });
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain(`the store expects key ${secretKeyId(NEW_KEY)}`);
  }, 120_000);
});
