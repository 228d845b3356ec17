/**
 * One change at a time per appointment (issue 10 item 3): a cancel or reschedule saga claims the appointment it
 * changes while it is in flight, so of two concurrent changes of one appointment only one reaches the records
 * system. And an index for an agent's keyless retry (item 7): the same client's booking at the same practitioner
 * and start. Frozen once released.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- frozen migrations must not depend on today's schema types */
import type { Kysely, Migration } from 'kysely';

async function up(db: Kysely<any>): Promise<void> {
  // The primary key refuses a second claim on the same appointment on both dialects alike.
  await db.schema
    .createTable('booking_appointment_claims')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('appointment_id', 'text', (c) => c.notNull())
    .addColumn('saga_id', 'text', (c) => c.notNull())
    .addColumn('version_id', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('booking_appointment_claims_pk', ['tenant_id', 'appointment_id'])
    .execute();
  await db.schema
    .createIndex('booking_appointment_claims_saga_idx')
    .on('booking_appointment_claims')
    .columns(['tenant_id', 'saga_id'])
    .execute();
  await db.schema
    .createIndex('booking_sagas_time_idx')
    .on('booking_sagas')
    .columns(['tenant_id', 'practitioner_id', 'start_at'])
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('booking_sagas_time_idx').execute();
  await db.schema.dropTable('booking_appointment_claims').execute();
}

export const migration0007AppointmentClaims: Migration = { up, down };
