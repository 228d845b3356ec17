import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/database.js';
import { isUniqueViolation } from '../../src/store/dialect-capabilities.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

describe.each(testStoreFactories)('store ($name)', (factory) => {
  const testStore = useTestStore(factory);

  it('answers ping while open', async () => {
    await expect(testStore().store.ping()).resolves.toBeUndefined();
  });

  it('commits a write transaction when its callback resolves', async () => {
    const { store } = testStore();
    const result = await store.write(async (trx) => {
      await trx.insertInto('journal_counters').values({ tenant_id: 'a', last_seq: 1 }).execute();
      return 'done';
    });
    expect(result).toBe('done');
    expect(await store.db.selectFrom('journal_counters').selectAll().execute()).toEqual([
      { tenant_id: 'a', last_seq: 1 },
    ]);
  });

  it('rolls a write transaction back when its callback throws', async () => {
    const { store } = testStore();
    await expect(
      store.write(async (trx) => {
        await trx.insertInto('journal_counters').values({ tenant_id: 'a', last_seq: 1 }).execute();
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await store.db.selectFrom('journal_counters').selectAll().execute()).toEqual([]);
    // The connection is usable again afterwards.
    await store.write((trx) =>
      trx.insertInto('journal_counters').values({ tenant_id: 'b', last_seq: 2 }).execute(),
    );
    expect(await store.db.selectFrom('journal_counters').select('tenant_id').execute()).toEqual([
      { tenant_id: 'b' },
    ]);
  });

  it('reads nothing a write transaction still holds open (its rows may yet roll back)', async () => {
    const { store } = testStore();
    let inside!: () => void;
    const entered = new Promise<void>((resolve) => (inside = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const write = store.write(async (trx) => {
      await trx.insertInto('journal_counters').values({ tenant_id: 'a', last_seq: 1 }).execute();
      inside();
      await released;
      throw new Error('rolled back');
    });
    await entered;
    // Asked while the transaction is open: on SQLite it shares the transaction's connection.
    const read = store.read(sql<{ tenant_id: string }>`select tenant_id from journal_counters`);
    const builderRead = store.read(store.db.selectFrom('journal_counters').select('tenant_id'));
    release();
    await expect(write).rejects.toThrow('rolled back');
    expect(await read).toEqual([]);
    expect(await builderRead).toEqual([]);
    // And with no transaction open, it reads what is committed.
    await store.write((trx) =>
      trx.insertInto('journal_counters').values({ tenant_id: 'b', last_seq: 2 }).execute(),
    );
    expect(await store.read(sql<{ tenant_id: string }>`select tenant_id from journal_counters`)).toEqual([
      { tenant_id: 'b' },
    ]);
  });

  it('answers a kept read afresh after every write of its table, by this store or another on the database', async () => {
    const handle = testStore();
    const { store } = handle;
    const other = await handle.openAnother();
    const count = async () => {
      const [row] = await store.readKept(
        sql<{ n: number | string }>`select count(*) as n from journal_counters`,
        ['journal_counters'],
      );
      return Number(row?.n);
    };
    const insert = (target: typeof store, tenant: string) =>
      target.write((trx) =>
        trx.insertInto('journal_counters').values({ tenant_id: tenant, last_seq: 1 }).execute(),
      );
    expect(await count()).toBe(0);
    expect(await count()).toBe(0);
    await insert(store, 'a');
    expect(await count()).toBe(1);
    await insert(other, 'b');
    expect(await count()).toBe(2);
    await store.db.insertInto('journal_counters').values({ tenant_id: 'c', last_seq: 1 }).execute();
    expect(await count()).toBe(3);
    await store.write((trx) => trx.deleteFrom('journal_counters').where('tenant_id', '=', 'a').execute());
    expect(await count()).toBe(2);
  });

  it('refuses a write started inside another write', async () => {
    const { store } = testStore();
    await expect(store.write(() => store.write(() => Promise.resolve(1)))).rejects.toThrow(/inside a write/);
    await expect(store.write(() => Promise.resolve(2))).resolves.toBe(2);
  });

  it('reports duplicate primary keys as unique violations', async () => {
    const { store } = testStore();
    await store.write((trx) =>
      trx.insertInto('journal_counters').values({ tenant_id: 'a', last_seq: 1 }).execute(),
    );
    const error: unknown = await store
      .write((trx) => trx.insertInto('journal_counters').values({ tenant_id: 'a', last_seq: 2 }).execute())
      .catch((e: unknown) => e);
    expect(isUniqueViolation(store.capabilities, error)).toBe(true);
    expect(isUniqueViolation(store.capabilities, new Error('other'))).toBe(false);
  });

  it('uses the injected clock', async () => {
    const fixed = new Date('2026-11-24T19:00:00.000Z');
    const store = await testStore().openAnother({ clock: () => fixed });
    expect(store.now().toISOString()).toBe('2026-11-24T19:00:00.000Z');
  });
});

describe('SQLite store', () => {
  it('creates the parent directory and sets WAL, busy timeout, synchronous NORMAL and foreign keys', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'switchboard-db-'));
    const store = await openStore(`sqlite:${join(directory, 'nested', 'deeper', 'x.sqlite')}`);
    try {
      expect((await stat(join(directory, 'nested', 'deeper'))).isDirectory()).toBe(true);
      const pragma = async (name: string): Promise<unknown> =>
        Object.values((await sql.raw(`pragma ${name}`).execute(store.db)).rows[0] as object)[0];
      expect(await pragma('journal_mode')).toBe('wal');
      expect(await pragma('busy_timeout')).toBe(5000);
      expect(await pragma('synchronous')).toBe(1);
      expect(await pragma('foreign_keys')).toBe(1);
      // The write path lowers the busy timeout while it polls for the lock; it must restore it.
      await store.write(() => Promise.resolve());
      expect(await pragma('busy_timeout')).toBe(5000);
    } finally {
      await store.close();
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('opens an in-memory database from sqlite::memory:', async () => {
    const store = await openStore('sqlite::memory:');
    try {
      await expect(store.ping()).resolves.toBeUndefined();
      expect(store.dialect).toBe('sqlite');
    } finally {
      await store.close();
    }
  });

  it('refuses the PostgreSQL schema option', async () => {
    await expect(openStore('sqlite::memory:', { schema: 'x' })).rejects.toThrow(/PostgreSQL only/);
  });
});

describe.runIf(process.env.TEST_DATABASE_URL)('PostgreSQL store', () => {
  it('keeps its tables in the schema it was given', async () => {
    const factory = testStoreFactories.find((f) => f.name === 'postgres');
    const handle = await factory!.create();
    try {
      const result = await sql<{ schema: string }>`select current_schema() as schema`.execute(
        handle.store.db,
      );
      const schema = result.rows[0]?.schema;
      expect(schema).toMatch(/^test_store_/);
      const owner = await sql<{ schema: string }>`
        select n.nspname as schema from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.oid = 'resources'::regclass`.execute(handle.store.db);
      expect(owner.rows[0]?.schema).toBe(schema);
    } finally {
      await handle.dispose();
    }
  });

  it('refuses schema names that would need quoting', async () => {
    await expect(openStore(process.env.TEST_DATABASE_URL!, { schema: 'Bad"Name' })).rejects.toThrow(
      /schema name/,
    );
  });
});
