/**
 * Migration 0003: webhook subscriptions and per-subscription event numbers in the outbox (DESIGN.md sections 3
 * and 6). Frozen once released, like 0001: never edit, add a new migration instead. Same type rules as 0001 (text
 * timestamps and JSON, integer booleans, bigint sequence and event numbers).
 *
 * The FHIR Subscription resource itself lives in `resources` like any other resource (versioned); the
 * `subscriptions` table holds what delivery needs at run time: topic, parsed filters, channel, signing secrets,
 * counters and failure state.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- frozen migrations must not depend on today's schema types */
import type { Kysely, Migration } from 'kysely';
import { sql } from 'kysely';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('subscriptions')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('topic', 'text', (c) => c.notNull())
    .addColumn('filter_patient', 'text')
    .addColumn('filter_practitioner', 'text')
    .addColumn('filter_location', 'text')
    // Comma-separated status codes, any of which matches.
    .addColumn('filter_status', 'text')
    .addColumn('endpoint', 'text', (c) => c.notNull())
    .addColumn('payload_content', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    // JSON array of `Name: value` strings from Subscription.channel.header.
    .addColumn('headers', 'text')
    .addColumn('heartbeat_seconds', 'integer')
    .addColumn('timeout_seconds', 'integer')
    .addColumn('max_count', 'integer')
    .addColumn('end_at', 'text')
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('previous_secret', 'text')
    .addColumn('previous_secret_expires_at', 'text')
    .addColumn('events_since_start', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('last_delivered_event', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('failing_since', 'text')
    .addColumn('last_error', 'text')
    // The journal sequence number through which events were matched when the subscription stopped being active.
    .addColumn('paused_at_seq', 'bigint')
    .addColumn('last_notified_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('subscriptions_pk', ['tenant_id', 'id'])
    .addCheckConstraint('subscriptions_status_check', sql`status in ('requested', 'active', 'error', 'off')`)
    .addCheckConstraint(
      'subscriptions_payload_content_check',
      sql`payload_content in ('empty', 'id-only', 'full-resource')`,
    )
    .execute();
  // Fan-out runs on every journal append: one lookup of a tenant's active subscriptions.
  await db.schema
    .createIndex('subscriptions_status_idx')
    .on('subscriptions')
    .columns(['tenant_id', 'status'])
    .execute();

  // One ALTER per column: SQLite accepts only one ADD COLUMN per statement.
  await db.schema.alterTable('outbox').addColumn('event_number', 'bigint').execute();
  // The resource (or event stream) deliveries are ordered by: one pending delivery per key at a time.
  await db.schema.alterTable('outbox').addColumn('order_key', 'text').execute();
  await db.schema.alterTable('outbox').addColumn('focus', 'text').execute();
  // JSON array of `Type/id` references.
  await db.schema.alterTable('outbox').addColumn('context', 'text').execute();
  // Start of the retry window (enqueue, or the last redrive): retries stop `maxAge` after it.
  await db.schema.alterTable('outbox').addColumn('retry_started_at', 'text').execute();
  await db.schema.alterTable('outbox').addColumn('last_attempt_at', 'text').execute();

  await db.schema
    .createIndex('outbox_event_number_idx')
    .on('outbox')
    .columns(['tenant_id', 'subscription_id', 'event_number'])
    .unique()
    .execute();
  // Partial: "is an earlier delivery of this resource still pending?" looks only at pending rows.
  await db.schema
    .createIndex('outbox_order_idx')
    .on('outbox')
    .columns(['tenant_id', 'subscription_id', 'order_key', 'seq'])
    .where(sql.ref('delivered_at'), 'is', null)
    .where(sql.ref('dead_lettered_at'), 'is', null)
    .execute();
  await db.schema
    .createIndex('outbox_dead_letter_idx')
    .on('outbox')
    .columns(['tenant_id', 'subscription_id', 'dead_lettered_at'])
    .where(sql.ref('dead_lettered_at'), 'is not', null)
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('outbox_dead_letter_idx').ifExists().execute();
  await db.schema.dropIndex('outbox_order_idx').ifExists().execute();
  await db.schema.dropIndex('outbox_event_number_idx').ifExists().execute();
  for (const column of [
    'last_attempt_at',
    'retry_started_at',
    'context',
    'focus',
    'order_key',
    'event_number',
  ]) {
    await db.schema.alterTable('outbox').dropColumn(column).execute();
  }
  await db.schema.dropTable('subscriptions').ifExists().execute();
}

/** Migration 0003: webhook subscriptions; event numbers, ordering keys and retry windows in the outbox. */
export const migration0003Webhooks: Migration = { up, down };
