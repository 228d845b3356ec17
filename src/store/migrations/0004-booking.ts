/**
 * Booking's persisted state (DESIGN.md sections 3 and 4): sagas step by step, the time claims that keep two
 * concurrent holds from both winning, and idempotency records. Frozen once released.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- frozen migrations must not depend on today's schema types */
import type { Kysely, Migration } from 'kysely';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('booking_sagas')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text')
    .addColumn('request', 'text', (c) => c.notNull())
    .addColumn('marker', 'text', (c) => c.notNull())
    .addColumn('practitioner_id', 'text', (c) => c.notNull())
    .addColumn('start_at', 'text', (c) => c.notNull())
    .addColumn('end_at', 'text', (c) => c.notNull())
    .addColumn('appointment_id', 'text')
    .addColumn('upstream_id', 'text')
    .addColumn('error_code', 'text')
    .addColumn('error_detail', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('booking_sagas_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema
    .createIndex('booking_sagas_state_idx')
    .on('booking_sagas')
    .columns(['state', 'updated_at'])
    .execute();

  // One row per 5-minute bucket of a practitioner's time a saga holds. Any two overlapping ranges on the
  // 5-minute grid share a bucket, so the primary key refuses the second hold on both dialects alike.
  await db.schema
    .createTable('booking_claims')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('practitioner_id', 'text', (c) => c.notNull())
    .addColumn('bucket_start', 'text', (c) => c.notNull())
    .addColumn('saga_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('booking_claims_pk', ['tenant_id', 'practitioner_id', 'bucket_start'])
    .execute();
  await db.schema
    .createIndex('booking_claims_saga_idx')
    .on('booking_claims')
    .columns(['tenant_id', 'saga_id'])
    .execute();

  await db.schema
    .createTable('idempotency_records')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('status', 'integer')
    .addColumn('response', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_records_pk', ['tenant_id', 'client_id', 'idempotency_key'])
    .execute();
  await db.schema
    .createIndex('idempotency_records_expiry_idx')
    .on('idempotency_records')
    .columns(['expires_at'])
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('idempotency_records').execute();
  await db.schema.dropTable('booking_claims').execute();
  await db.schema.dropTable('booking_sagas').execute();
}

export const migration0004Booking: Migration = { up, down };
