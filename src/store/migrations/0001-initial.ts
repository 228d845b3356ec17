/**
 * The first schema of the store (DESIGN.md section 3). Frozen: once released, never edit this file; add a new
 * migration instead. Typed with `Kysely<any>` on purpose, so later changes to `schema.ts` cannot alter it.
 *
 * Only types both dialects spell the same way: text for timestamps (ISO-8601 UTC) and JSON, integer for
 * booleans (0/1), bigint for sequence numbers.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- frozen migrations must not depend on today's schema types */
import type { Kysely, Migration } from 'kysely';
import { sql } from 'kysely';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('resources')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('version_id', 'integer', (c) => c.notNull())
    .addColumn('last_updated', 'text', (c) => c.notNull())
    .addColumn('content_hash', 'text', (c) => c.notNull())
    .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('period_start', 'text')
    .addColumn('period_end', 'text')
    .addColumn('status', 'text')
    .addColumn('ref_patient', 'text')
    .addColumn('ref_practitioner', 'text')
    .addColumn('ref_location', 'text')
    .addColumn('ref_schedule', 'text')
    .addPrimaryKeyConstraint('resources_pk', ['tenant_id', 'resource_type', 'id'])
    .execute();
  await db.schema
    .createIndex('resources_period_idx')
    .on('resources')
    .columns(['tenant_id', 'resource_type', 'period_start'])
    .execute();
  await db.schema
    .createIndex('resources_practitioner_period_idx')
    .on('resources')
    .columns(['tenant_id', 'resource_type', 'ref_practitioner', 'period_start'])
    .execute();
  await db.schema
    .createIndex('resources_schedule_period_idx')
    .on('resources')
    .columns(['tenant_id', 'resource_type', 'ref_schedule', 'period_start'])
    .execute();
  await db.schema
    .createIndex('resources_patient_period_idx')
    .on('resources')
    .columns(['tenant_id', 'resource_type', 'ref_patient', 'period_start'])
    .execute();
  await db.schema
    .createIndex('resources_last_updated_idx')
    .on('resources')
    .columns(['tenant_id', 'resource_type', 'last_updated'])
    .execute();

  await db.schema
    .createTable('resource_history')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('version_id', 'integer', (c) => c.notNull())
    .addColumn('last_updated', 'text', (c) => c.notNull())
    .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('resource', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('resource_history_pk', ['tenant_id', 'resource_type', 'id', 'version_id'])
    .execute();
  await db.schema
    .createIndex('resource_history_last_updated_idx')
    .on('resource_history')
    .columns(['tenant_id', 'resource_type', 'last_updated'])
    .execute();

  await db.schema
    .createTable('search_tokens')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('resource_id', 'text', (c) => c.notNull())
    .addColumn('param', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('search_tokens_pk', [
      'tenant_id',
      'resource_type',
      'resource_id',
      'param',
      'value',
    ])
    .execute();
  await db.schema
    .createIndex('search_tokens_lookup_idx')
    .on('search_tokens')
    .columns(['tenant_id', 'resource_type', 'param', 'value'])
    .execute();

  await db.schema
    .createTable('upstream_ids')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('upstream_id', 'text', (c) => c.notNull())
    .addColumn('fhir_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('upstream_ids_pk', ['tenant_id', 'resource_type', 'upstream_id'])
    .addUniqueConstraint('upstream_ids_fhir_id_unique', ['tenant_id', 'resource_type', 'fhir_id'])
    .execute();

  await db.schema
    .createTable('sync_state')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('stream', 'text', (c) => c.notNull())
    .addColumn('cursor', 'text')
    .addColumn('last_attempt_at', 'text')
    .addColumn('last_success_at', 'text')
    .addColumn('last_error', 'text')
    .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('health', 'text', (c) => c.notNull().defaultTo('lagging'))
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('sync_state_pk', ['tenant_id', 'stream'])
    .addCheckConstraint('sync_state_health_check', sql`health in ('fresh', 'lagging', 'failing')`)
    .execute();

  await db.schema
    .createTable('journal_counters')
    .addColumn('tenant_id', 'text', (c) => c.notNull().primaryKey())
    .addColumn('last_seq', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('change_journal')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('resource_type', 'text')
    .addColumn('resource_id', 'text')
    .addColumn('version_id', 'integer')
    .addColumn('occurred_at', 'text', (c) => c.notNull())
    .addColumn('payload', 'text')
    .addPrimaryKeyConstraint('change_journal_pk', ['tenant_id', 'seq'])
    .execute();
  await db.schema
    .createIndex('change_journal_resource_idx')
    .on('change_journal')
    .columns(['tenant_id', 'resource_type', 'resource_id', 'seq'])
    .execute();

  await db.schema
    .createTable('outbox')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('subscription_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('last_status', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('delivered_at', 'text')
    .addColumn('dead_lettered_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('outbox_pk', ['tenant_id', 'subscription_id', 'seq'])
    .execute();
  // Partial: the dispatcher only ever scans deliveries still pending.
  await db.schema
    .createIndex('outbox_due_idx')
    .on('outbox')
    .columns(['tenant_id', 'next_attempt_at'])
    .where(sql.ref('delivered_at'), 'is', null)
    .where(sql.ref('dead_lettered_at'), 'is', null)
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'outbox',
    'change_journal',
    'journal_counters',
    'sync_state',
    'upstream_ids',
    'search_tokens',
    'resource_history',
    'resources',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}

/** Migration 0001: resources, history, search tokens, id mapping, sync state, change journal, outbox. */
export const migration0001Initial: Migration = { up, down };
