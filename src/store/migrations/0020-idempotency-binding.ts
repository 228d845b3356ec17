/**
 * Migration 0020, idempotency binding (issues 10 and 11): an `in-flight` Idempotency-Key record names the booking
 * saga it runs (`saga_id`, fixed when the key is claimed) and the process that claimed it (`owner`), so a replay
 * after that process died answers the saga's outcome instead of "still being processed" until the claim's lease
 * runs out. Both null on records claimed before. Frozen once released.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- frozen migrations must not depend on today's schema types */
import type { Kysely, Migration } from 'kysely';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('idempotency_records').addColumn('saga_id', 'text').execute();
  await db.schema.alterTable('idempotency_records').addColumn('owner', 'text').execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('idempotency_records').dropColumn('owner').execute();
  await db.schema.alterTable('idempotency_records').dropColumn('saga_id').execute();
}

/** Migration 0020: idempotency records bound to their saga and owner. */
export const migration0020IdempotencyBinding: Migration = { up, down };
