/**
 * Migration 0017, availability versions (issue 16 item 3): a counter per (tenant, owner, UTC day) that every write
 * of an Appointment (owner: its practitioner) or a stored Slot (owner: its schedule) raises in the same
 * transaction, so free time derived for a practitioner-day can be kept until one of its inputs changes, on
 * whichever instance wrote it. Frozen once released.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- frozen migrations must not depend on today's schema types */
import type { Kysely, Migration } from 'kysely';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('availability_versions')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    // `Practitioner/{id}` or `Schedule/{id}`.
    .addColumn('owner', 'text', (c) => c.notNull())
    // `YYYY-MM-DD` (UTC), or `*` for a change too long to list day by day.
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('availability_versions_pk', ['tenant_id', 'owner', 'day'])
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('availability_versions').ifExists().execute();
}

/** Migration 0017: availability versions. */
export const migration0017AvailabilityVersions: Migration = { up, down };
