/**
 * A fresh database of each dialect the suites that start a whole Switchboard run on (the booking fault campaign,
 * the facade and webhook suites over both connectors): a SQLite file in a temporary folder, and, when
 * `TEST_DATABASE_URL` is set, a PostgreSQL database of its own on that server, opened by URL as in production.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface CampaignDatabase {
  name: 'sqlite' | 'postgres';
  create(): Promise<{ url: string; drop(): Promise<void> }>;
}

export const sqliteDatabase: CampaignDatabase = {
  name: 'sqlite',
  async create() {
    const dir = await mkdtemp(join(tmpdir(), 'switchboard-campaign-'));
    return { url: join(dir, 'store.sqlite'), drop: () => rm(dir, { recursive: true, force: true }) };
  },
};

/** A database of its own on the test server: the app under test opens it by URL, as in production. */
export function postgresDatabase(serverUrl: string): CampaignDatabase {
  const admin = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  return {
    name: 'postgres',
    async create() {
      const database = `campaign_${randomBytes(6).toString('hex')}`;
      await admin((c) => c.query(`create database ${database}`));
      const url = new URL(serverUrl);
      url.pathname = `/${database}`;
      return {
        url: url.toString(),
        drop: () => dropDatabase(admin, database),
      };
    },
  };
}

/**
 * Drops a database once the app's connections have gone: a `with (force)` drop terminates a connection that is
 * still closing, and its client reports the termination as an unhandled error in the test run. Forced only as a
 * last resort, after the closing connections had a few seconds.
 */
async function dropDatabase(
  admin: <T>(work: (client: pg.Client) => Promise<T>) => Promise<T>,
  database: string,
): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      await admin((c) => c.query(`drop database if exists ${database}`));
      return;
    } catch (error) {
      // 55006 object_in_use: some connection has not finished closing yet.
      if ((error as { code?: string }).code !== '55006') throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  await admin((c) => c.query(`drop database if exists ${database} with (force)`));
}

/** SQLite always; PostgreSQL too when `TEST_DATABASE_URL` is set (CI sets it). */
export const campaignDatabases: CampaignDatabase[] = [
  sqliteDatabase,
  ...(process.env.TEST_DATABASE_URL ? [postgresDatabase(process.env.TEST_DATABASE_URL)] : []),
];
