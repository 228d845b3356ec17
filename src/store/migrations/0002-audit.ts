/**
 * Migration 0002: the audit trail (DESIGN.md sections 3 and 7). Frozen once released, like 0001: never edit,
 * add a new migration instead. Same type rules as 0001 (text timestamps and JSON, bigint sequence numbers).
 *
 * `audit_events` is append-only by contract (only `src/audit/audit-trail.ts` writes it, and only inserts) and
 * tamper-evident: each row carries the SHA-256 of its content chained to the previous row's hash, and the
 * counter row keeps the tenant's last hash, so an edited, removed or truncated row breaks the chain.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- frozen migrations must not depend on today's schema types */
import type { Kysely, Migration } from 'kysely';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('audit_counters')
    .addColumn('tenant_id', 'text', (c) => c.notNull().primaryKey())
    .addColumn('last_seq', 'bigint', (c) => c.notNull())
    .addColumn('last_hash', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('recorded_at', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text')
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('resource_type', 'text')
    .addColumn('resource_ids', 'text', (c) => c.notNull())
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('parameters', 'text', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_events_pk', ['tenant_id', 'seq'])
    .execute();
  await db.schema
    .createIndex('audit_events_recorded_at_idx')
    .on('audit_events')
    .columns(['tenant_id', 'recorded_at'])
    .execute();
  await db.schema
    .createIndex('audit_events_client_idx')
    .on('audit_events')
    .columns(['tenant_id', 'client_id', 'seq'])
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('audit_events').ifExists().execute();
  await db.schema.dropTable('audit_counters').ifExists().execute();
}

/** Migration 0002: the append-only, hash-chained audit trail. */
export const migration0002Audit: Migration = { up, down };
