/**
 * Migration 0016, retention (issue 15 item 4): indexes that let the pruning rounds find what is past its window
 * without scanning the tables — journal events by time, delivered deliveries by delivery time (partial: only
 * delivered rows), and deliveries by journal event (a journal event a delivery still refers to is kept). Frozen once released.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- frozen migrations must not depend on today's schema types */
import type { Kysely, Migration } from 'kysely';
import { sql } from 'kysely';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('change_journal_occurred_idx')
    .on('change_journal')
    .columns(['tenant_id', 'occurred_at'])
    .execute();
  await db.schema
    .createIndex('outbox_delivered_idx')
    .on('outbox')
    .columns(['tenant_id', 'delivered_at'])
    .where(sql.ref('delivered_at'), 'is not', null)
    .execute();
  // "Does a delivery still refer to this journal event?" without knowing the subscription.
  await db.schema.createIndex('outbox_seq_idx').on('outbox').columns(['tenant_id', 'seq']).execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('outbox_seq_idx').ifExists().execute();
  await db.schema.dropIndex('outbox_delivered_idx').ifExists().execute();
  await db.schema.dropIndex('change_journal_occurred_idx').ifExists().execute();
}

/** Migration 0016: retention indexes. */
export const migration0016Retention: Migration = { up, down };
