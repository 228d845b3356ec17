/**
 * Reads a PostgreSQL store keeps in memory (`src/store/postgres-kept-reads.ts`): kept while nothing changes, forgotten
 * at once for this process's own commits, on notification for other processes' commits, and never kept while
 * nobody listens.
 */
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Store } from '../../src/store/database.js';
import { q, statementOf } from '../../src/store/sql-text.js';
import { sql } from 'kysely';
import { testStoreFactories, useTestStore, type TestStoreHandle } from '../support/test-stores.js';

const postgres = testStoreFactories.filter((f) => f.name === 'postgres');
const TENANT = 't1';
const OWNER = 'Practitioner/p1';

/** The day versions of OWNER, as a Slot search reads them: kept between writes of the table. */
async function keptDays(store: Store): Promise<string[]> {
  const rows = await store.readKept<{ day: string }>(
    statementOf(
      q`select day from availability_versions where tenant_id = ${TENANT} and owner = ${OWNER} order by day`,
      store.dialect,
    ),
    ['availability_versions'],
  );
  return rows.map((row) => row.day);
}

/** Clients {@link otherProcess} opened, ended after each test. */
const others: pg.Client[] = [];
afterEach(async () => {
  await Promise.all(others.splice(0).map((client) => client.end()));
});

/** A client of its own on the test's schema, as another process (or psql) would be. */
async function otherProcess(handle: TestStoreHandle): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: handle.url });
  others.push(client);
  await client.connect();
  await client.query(`set search_path to "${handle.schema}"`);
  return client;
}

/** Inserts a day without firing triggers (so without a notification): shows whether a read went to the table. */
async function insertUnannounced(client: pg.Client, day: string): Promise<void> {
  await client.query('begin');
  try {
    await client.query('set local session_replication_role = replica');
    await client.query('insert into availability_versions values ($1, $2, $3, 1)', [TENANT, OWNER, day]);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}

/** Waits until `store` keeps its reads: an unannounced row stays unseen. */
let probe = 0;
async function untilKept(store: Store, client: pg.Client): Promise<void> {
  await vi.waitFor(
    async () => {
      const before = await keptDays(store);
      probe += 1;
      await insertUnannounced(client, `probe-${probe}`);
      expect(await keptDays(store)).toEqual(before);
    },
    { timeout: 10_000, interval: 50 },
  );
}

describe.each(postgres)('kept reads ($name)', (factory) => {
  const testStore = useTestStore(factory);

  it('answers a kept read from memory while its table is unchanged', async () => {
    const handle = testStore();
    const client = await otherProcess(handle);
    await untilKept(handle.store, client);
    const kept = await keptDays(handle.store);
    await insertUnannounced(client, '2026-12-14');
    expect(await keptDays(handle.store)).toEqual(kept);
  });

  it("sees this process's own commits at once, whether in a transaction or on their own", async () => {
    const handle = testStore();
    const client = await otherProcess(handle);
    await untilKept(handle.store, client);
    await handle.store.write((trx) =>
      trx
        .insertInto('availability_versions')
        .values({ tenant_id: TENANT, owner: OWNER, day: '2026-12-15', version: 1 })
        .execute(),
    );
    expect(await keptDays(handle.store)).toContain('2026-12-15');
    await sql`insert into availability_versions values (${TENANT}, ${OWNER}, '2026-12-16', 1)`.execute(
      handle.store.db,
    );
    expect(await keptDays(handle.store)).toContain('2026-12-16');
    // Through the pool itself, as the rate limiter writes: the pool's every connection tells its statements.
    const pool = handle.store.postgres?.pool;
    await new Promise<void>((resolve, reject) =>
      pool?.query(
        "insert into availability_versions values ($1, $2, '2026-12-20', 1)",
        [TENANT, OWNER],
        (error) => (error ? reject(error) : resolve()),
      ),
    );
    expect(await keptDays(handle.store)).toContain('2026-12-20');
    // A rolled-back write changes nothing and is not seen.
    await expect(
      handle.store.write(async (trx) => {
        await trx
          .insertInto('availability_versions')
          .values({ tenant_id: TENANT, owner: OWNER, day: '2026-12-17', version: 1 })
          .execute();
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await keptDays(handle.store)).not.toContain('2026-12-17');
  });

  it('raises at the commit of a transaction that rolled back to a savepoint on the way', async () => {
    const handle = testStore();
    const client = await otherProcess(handle);
    await untilKept(handle.store, client);
    await handle.store.write(async (trx) => {
      const day = (d: string) =>
        trx
          .insertInto('availability_versions')
          .values({ tenant_id: TENANT, owner: OWNER, day: d, version: 1 });
      await day('2026-12-21').execute();
      await sql`savepoint s1`.execute(trx);
      await day('2026-12-22').execute();
      await sql`rollback to savepoint s1`.execute(trx);
      await day('2026-12-23').execute();
      // Read (and kept) while the transaction is still open: none of its rows yet.
      expect(await keptDays(handle.store)).not.toContain('2026-12-23');
    });
    const days = await keptDays(handle.store);
    expect(days).toContain('2026-12-21');
    expect(days).toContain('2026-12-23');
    expect(days).not.toContain('2026-12-22');
  });

  it("sees another process's commit once PostgreSQL announces it, and another instance's too", async () => {
    const handle = testStore();
    const client = await otherProcess(handle);
    const other = await handle.openAnother();
    await untilKept(handle.store, client);
    await client.query("insert into availability_versions values ($1, $2, '2026-12-18', 1)", [TENANT, OWNER]);
    await vi.waitFor(async () => expect(await keptDays(handle.store)).toContain('2026-12-18'));
    await sql`insert into availability_versions values (${TENANT}, ${OWNER}, '2026-12-19', 1)`.execute(
      other.db,
    );
    await vi.waitFor(async () => expect(await keptDays(handle.store)).toContain('2026-12-19'));
  });

  it('keeps nothing while its listening connection is gone, and keeps again once it is back', async () => {
    const handle = testStore();
    const client = await otherProcess(handle);
    await untilKept(handle.store, client);
    const listeners = await client.query(
      'select pg_terminate_backend(pid) as ended from pg_stat_activity where application_name = $1',
      [`switchboard-kept:${handle.schema}`],
    );
    expect(listeners.rows.length).toBeGreaterThan(0);
    // Dropped: until it listens again, every read goes to the table.
    await vi.waitFor(async () => {
      probe += 1;
      await insertUnannounced(client, `gone-${probe}`);
      expect((await keptDays(handle.store)).some((day) => day.startsWith('gone-'))).toBe(true);
    });
    await untilKept(handle.store, client);
  });

  it('keeps nothing on a database whose kept tables lack the change triggers', async () => {
    const handle = testStore();
    const client = await otherProcess(handle);
    await client.query('drop trigger switchboard_kept_changed on availability_versions');
    const fresh = await handle.openAnother();
    for (let i = 0; i < 20; i++) {
      await insertUnannounced(client, `unannounced-${String(i).padStart(2, '0')}`);
      expect(await keptDays(fresh)).toContain(`unannounced-${String(i).padStart(2, '0')}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
});
