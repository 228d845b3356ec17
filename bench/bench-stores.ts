/**
 * Fresh databases for benchmarks: a SQLite file in a temporary directory always, and a uniquely named PostgreSQL
 * schema when `TEST_DATABASE_URL` is set (dropped afterwards), as the store tests do.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** Where one benchmark run keeps its data: open it with `openStore(url, schema ? { schema } : {})`. */
export interface BenchDatabase {
  dialect: 'sqlite' | 'postgres';
  url: string;
  schema?: string;
  /** Deletes the file or drops the schema. */
  dispose(): Promise<void>;
}

export type BenchDatabaseFactory = () => Promise<BenchDatabase>;

/** The dialects to run on: SQLite, plus PostgreSQL when `TEST_DATABASE_URL` is set. */
export function benchDatabaseFactories(prefix: string): BenchDatabaseFactory[] {
  const postgresUrl = process.env.TEST_DATABASE_URL;
  return [
    () => sqliteDatabase(prefix),
    ...(postgresUrl ? [() => postgresDatabase(postgresUrl, prefix)] : []),
  ];
}

export async function sqliteDatabase(prefix: string): Promise<BenchDatabase> {
  const directory = await mkdtemp(join(tmpdir(), `switchboard-bench-${prefix}-`));
  return {
    dialect: 'sqlite',
    url: `sqlite:${join(directory, 'store.sqlite')}`,
    dispose: () => rm(directory, { recursive: true, force: true }),
  };
}

async function postgresDatabase(url: string, prefix: string): Promise<BenchDatabase> {
  const schema = `bench_${prefix.replace(/[^a-z0-9]/g, '_')}_${randomBytes(6).toString('hex')}`;
  return {
    dialect: 'postgres',
    url,
    schema,
    async dispose() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A database a whole app opens by URL alone (`createApp` takes no schema): a file, or a fresh PostgreSQL database. */
export interface AppDatabase {
  dialect: 'sqlite' | 'postgres';
  url: string;
  /** Deletes the file or drops the database. */
  dispose(): Promise<void>;
}

/** The dialects to run an app on: SQLite, plus a fresh PostgreSQL database when `TEST_DATABASE_URL` is set. */
export function appDatabaseFactories(prefix: string): Array<() => Promise<AppDatabase>> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  return [() => sqliteDatabase(prefix), ...(adminUrl ? [() => postgresAppDatabase(adminUrl, prefix)] : [])];
}

async function postgresAppDatabase(adminUrl: string, prefix: string): Promise<AppDatabase> {
  const name = `bench_${prefix.replace(/[^a-z0-9]/g, '_')}_${randomBytes(6).toString('hex')}`;
  await adminQuery(adminUrl, `create database "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    dialect: 'postgres',
    url: url.toString(),
    dispose: () => dropDatabase(adminUrl, name),
  };
}

/**
 * Drops a database once the app's connections have gone. A `with (force)` drop at once terminates a connection
 * whose pool is still closing it, and the pool reports that as an unhandled error that ends the run (a
 * facade-search run on PostgreSQL lost its figures that way); forced only after the connections had seconds.
 */
async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      await adminQuery(adminUrl, `drop database if exists "${name}"`);
      return;
    } catch (error) {
      // 55006 object_in_use: a connection has not finished closing yet.
      if ((error as { code?: string }).code !== '55006') throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  await adminQuery(adminUrl, `drop database if exists "${name}" with (force)`);
}

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
