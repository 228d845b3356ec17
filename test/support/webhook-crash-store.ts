/**
 * A migrated store another process can open too (the crash test forks a dispatcher onto it): its URL and, on
 * PostgreSQL, its schema. SQLite always; PostgreSQL when `TEST_DATABASE_URL` is set.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { TEST_SECRET_KEYS } from './test-secret-key.js';

export interface SharedStore {
  store: Store;
  url: string;
  /** PostgreSQL schema, or `-` for SQLite. */
  schema: string;
  dispose(): Promise<void>;
}

export interface SharedStoreFactory {
  name: 'sqlite' | 'postgres';
  create(): Promise<SharedStore>;
}

const sqlite: SharedStoreFactory = {
  name: 'sqlite',
  async create() {
    const directory = await mkdtemp(join(tmpdir(), 'switchboard-webhook-crash-'));
    const url = `sqlite:${join(directory, 'store.sqlite')}`;
    const store = await openStore(url, { secretKeys: TEST_SECRET_KEYS });
    await migrateToLatest(store);
    return {
      store,
      url,
      schema: '-',
      async dispose() {
        await store.close();
        await rm(directory, { recursive: true, force: true });
      },
    };
  },
};

function postgres(url: string): SharedStoreFactory {
  return {
    name: 'postgres',
    async create() {
      const schema = `test_crash_${randomBytes(8).toString('hex')}`;
      const store = await openStore(url, { schema, secretKeys: TEST_SECRET_KEYS });
      await migrateToLatest(store);
      return {
        store,
        url,
        schema,
        async dispose() {
          await store.close();
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          try {
            await client.query(`drop schema if exists "${schema}" cascade`);
          } finally {
            await client.end();
          }
        },
      };
    },
  };
}

export const sharedStoreFactories: readonly SharedStoreFactory[] = [
  sqlite,
  ...(process.env.TEST_DATABASE_URL ? [postgres(process.env.TEST_DATABASE_URL)] : []),
];
