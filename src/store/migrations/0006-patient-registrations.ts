/**
 * Patients exactly once (DESIGN.md section 4, "patient creation is reconciled by marker like appointments"; issue
 * 10 item 5): every attempt to create a patient upstream is persisted before the write is sent, and registrations
 * of a tenant are serialised through a lock row, so two instances on one database cannot both create the same
 * person. And an index for sync's look-up of sagas by marker (item 6). Frozen once released.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- frozen migrations must not depend on today's schema types */
import type { Kysely, Migration } from 'kysely';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('patient_registrations')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('request', 'text', (c) => c.notNull())
    .addColumn('preexisting', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text')
    .addColumn('upstream_id', 'text')
    .addColumn('patient_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('patient_registrations_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema
    .createIndex('patient_registrations_fingerprint_idx')
    .on('patient_registrations')
    .columns(['tenant_id', 'fingerprint', 'state'])
    .execute();

  await db.schema
    .createTable('patient_registration_locks')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('patient_registration_locks_pk', ['tenant_id'])
    .execute();

  // Sync looks sagas up by the marker of the appointments it imports (uncommitted ones are not published).
  await db.schema
    .createIndex('booking_sagas_marker_idx')
    .on('booking_sagas')
    .columns(['tenant_id', 'marker'])
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('booking_sagas_marker_idx').execute();
  await db.schema.dropTable('patient_registration_locks').execute();
  await db.schema.dropTable('patient_registrations').execute();
}

export const migration0006PatientRegistrations: Migration = { up, down };
