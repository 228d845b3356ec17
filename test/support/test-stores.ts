/**
 * Store factories for tests that must hold on both dialects (DESIGN.md section 3): SQLite always (a fresh temp
 * file per test), PostgreSQL when `TEST_DATABASE_URL` is set (a fresh uniquely named schema per test, dropped
 * afterwards). Use with `describe.each(testStoreFactories)`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach } from 'vitest';
import { openStore } from '../../src/store/database.js';
import type { OpenStoreOptions, Store } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { TEST_SECRET_KEYS } from './test-secret-key.js';

export { TEST_SECRET_KEYS };

/** One test's database: its first store, a way to open more on the same data, and the clean-up. */
export interface TestStoreHandle {
  /** The first store, migrated unless the handle was created with `migrate: false`. */
  readonly store: Store;
  /** The database's URL (on PostgreSQL the schema is apart). */
  readonly url: string;
  /** The PostgreSQL schema; undefined on SQLite. With {@link url}, what another process opens the database by. */
  readonly schema: string | undefined;
  /** Opens another store on the same database (another "process" sharing the file or schema). */
  openAnother(options?: Pick<OpenStoreOptions, 'clock' | 'secretKeys'>): Promise<Store>;
  /** Closes every store opened through this handle and deletes the database. */
  dispose(): Promise<void>;
}

/** Options of {@link TestStoreFactory.create}. */
export interface CreateTestStoreOptions {
  /** Run the migrations on the first store; default true. */
  migrate?: boolean;
  /** The clock of the first store. */
  clock?: () => Date;
  /** Keys of secrets at rest of the first store; default {@link TEST_SECRET_KEYS}. */
  secretKeys?: readonly Uint8Array[];
}

/** Makes fresh databases of one dialect. */
export interface TestStoreFactory {
  readonly name: 'sqlite' | 'postgres';
  create(options?: CreateTestStoreOptions): Promise<TestStoreHandle>;
}

const sqliteFactory: TestStoreFactory = {
  name: 'sqlite',
  async create(options = {}) {
    const directory = await mkdtemp(join(tmpdir(), 'switchboard-store-'));
    const url = `sqlite:${join(directory, 'store.sqlite')}`;
    return createHandle(
      { url, schema: undefined },
      (storeOptions) => openStore(url, storeOptions),
      options,
      () => rm(directory, { recursive: true, force: true }),
    );
  },
};

function postgresFactory(databaseUrl: string): TestStoreFactory {
  return {
    name: 'postgres',
    async create(options = {}) {
      const schema = `test_store_${randomBytes(8).toString('hex')}`;
      return createHandle(
        { url: databaseUrl, schema },
        (storeOptions) => openStore(databaseUrl, { ...storeOptions, schema }),
        options,
        async () => {
          const client = new pg.Client({ connectionString: databaseUrl });
          await client.connect();
          try {
            await client.query(`drop schema if exists "${schema}" cascade`);
          } finally {
            await client.end();
          }
        },
      );
    },
  };
}

async function createHandle(
  database: { url: string; schema: string | undefined },
  open: (options: Pick<OpenStoreOptions, 'clock' | 'secretKeys'>) => Promise<Store>,
  options: CreateTestStoreOptions,
  destroy: () => Promise<void>,
): Promise<TestStoreHandle> {
  const opened: Store[] = [];
  const openTracked = async (
    storeOptions: Pick<OpenStoreOptions, 'clock' | 'secretKeys'>,
  ): Promise<Store> => {
    const store = await open({ secretKeys: TEST_SECRET_KEYS, ...storeOptions });
    opened.push(store);
    return store;
  };
  const store = await openTracked({
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.secretKeys ? { secretKeys: options.secretKeys } : {}),
  });
  if (options.migrate ?? true) await migrateToLatest(store);
  return {
    store,
    ...database,
    openAnother: (storeOptions = {}) => openTracked(storeOptions),
    async dispose() {
      await Promise.all(opened.map((s) => s.close()));
      await destroy();
    },
  };
}

/** SQLite always; PostgreSQL too when `TEST_DATABASE_URL` is set. */
export const testStoreFactories: readonly TestStoreFactory[] = [
  sqliteFactory,
  ...(process.env.TEST_DATABASE_URL ? [postgresFactory(process.env.TEST_DATABASE_URL)] : []),
];

/**
 * Registers `beforeEach`/`afterEach` hooks giving every test of the enclosing `describe` a fresh, migrated
 * database of `factory`'s dialect; call the returned function inside a test to get it.
 */
export function useTestStore(
  factory: TestStoreFactory,
  options: CreateTestStoreOptions = {},
): () => TestStoreHandle {
  let handle: TestStoreHandle | undefined;
  beforeEach(async () => {
    handle = await factory.create(options);
  });
  afterEach(async () => {
    const current = handle;
    handle = undefined;
    await current?.dispose();
  });
  return () => {
    if (!handle) throw new Error('useTestStore: no store outside a running test');
    return handle;
  };
}
