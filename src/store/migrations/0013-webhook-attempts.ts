/**
 * Failed webhook attempts kept (issue 15 item 3): each failed delivery attempt of a subscription with its time,
 * HTTP status (null when there was no answer) and a short reason, so `$status`, the operator console and the
 * needs-attention list can say what the receiver answered and for how long. And the time of each subscription's
 * last successful delivery. And the operator console's sign-in sessions (only the SHA-256 of each session id), kept
 * in the store so every instance behind a load balancer knows them. Frozen once released.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- frozen migrations must not depend on today's schema types */
import type { Kysely, Migration } from 'kysely';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('webhook_attempts')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('subscription_id', 'text', (c) => c.notNull())
    .addColumn('attempted_at', 'text', (c) => c.notNull())
    .addColumn('event_number', 'bigint')
    .addColumn('status', 'integer')
    .addColumn('reason', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('webhook_attempts_subscription_idx')
    .on('webhook_attempts')
    .columns(['tenant_id', 'subscription_id', 'attempted_at'])
    .execute();
  await db.schema.alterTable('subscriptions').addColumn('last_success_at', 'text').execute();
  await db.schema
    .createTable('operator_sessions')
    .addColumn('session_sha256', 'text', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('operator_sessions_expiry_idx')
    .on('operator_sessions')
    .column('expires_at')
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('operator_sessions').execute();
  await db.schema.alterTable('subscriptions').dropColumn('last_success_at').execute();
  await db.schema.dropTable('webhook_attempts').execute();
}

/** Migration 0013: failed webhook attempts, each subscription's last success, operator sessions. */
export const migration0013WebhookAttempts: Migration = { up, down };
