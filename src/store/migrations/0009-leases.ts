/**
 * Scale-out (issue 11): live instances (a heartbeat row each), work leases with a fencing epoch (one holder of a
 * tenant's sync streams and saga recovery at a time), and the instance that runs each saga, so another instance's
 * recovery never touches a saga whose process is alive; and the per-client rate-limit counters all instances share.
 * Times are epoch milliseconds (bigint) so expiry compares
 * as numbers on both dialects. Frozen once released.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- frozen migrations must not depend on today's schema types */
import type { Kysely, Migration } from 'kysely';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('instances')
    .addColumn('id', 'text', (c) => c.notNull().primaryKey())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('heartbeat_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('leases')
    .addColumn('name', 'text', (c) => c.notNull().primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    // The fencing token: raised by every change of holder (and every re-acquisition after expiry).
    .addColumn('epoch', 'bigint', (c) => c.notNull())
    .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('acquired_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.alterTable('booking_sagas').addColumn('owner_instance', 'text').execute();
  // Per-client request counts shared by every instance (rate-limiter-flexible's RateLimiterPostgres layout:
  // created here, once under the migration lock, instead of by each instance racing at start-up).
  await db.schema
    .createTable('rate_limits')
    .addColumn('key', 'varchar(255)', (c) => c.notNull().primaryKey())
    .addColumn('points', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('expire', 'bigint')
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rate_limits').execute();
  await db.schema.alterTable('booking_sagas').dropColumn('owner_instance').execute();
  await db.schema.dropTable('leases').execute();
  await db.schema.dropTable('instances').execute();
}

export const migration0009Leases: Migration = { up, down };
