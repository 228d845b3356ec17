/**
 * SMART Backend Services and Subscription owners (issue 14): the access tokens the token endpoint issued (only
 * their SHA-256, so the table grants nothing when read), the assertion `jti`s seen per client (replay refusal that
 * holds across every instance on one database), and the client that created each Subscription. Frozen once released.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- frozen migrations must not depend on today's schema types */
import type { Kysely, Migration } from 'kysely';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('smart_access_tokens')
    .addColumn('token_sha256', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('issued_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('smart_access_tokens_expiry_idx')
    .on('smart_access_tokens')
    .column('expires_at')
    .execute();
  // The primary key refuses a second use of one jti by one client on both dialects alike.
  await db.schema
    .createTable('smart_assertion_jtis')
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('jti', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('smart_assertion_jtis_pk', ['client_id', 'jti'])
    .execute();
  await db.schema
    .createIndex('smart_assertion_jtis_expiry_idx')
    .on('smart_assertion_jtis')
    .column('expires_at')
    .execute();
  await db.schema.alterTable('subscriptions').addColumn('owner_client_id', 'text').execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('subscriptions').dropColumn('owner_client_id').execute();
  await db.schema.dropTable('smart_assertion_jtis').execute();
  await db.schema.dropTable('smart_access_tokens').execute();
}

export const migration0011SmartBackend: Migration = { up, down };
