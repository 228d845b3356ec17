/**
 * Read-only queries of the operator console (issue 15): booking outcomes from the saga rows, open
 * manual-intervention Tasks, new patients awaiting review, and each subscription's pending and dead-lettered
 * deliveries. What the figures mean is decided in `src/operator/`.
 */
import { sql } from 'kysely';
import type { StoreTransaction } from './database.js';
import { TAG_TOKENS } from './search-parameters/patient.js';
import { codeTokens } from './search-parameters/token-values.js';

/** Booking sagas of one kind started since a time, counted per time bucket, state and error code. */
export interface SagaBucketRow {
  /** `YYYY-MM-DDTHH` (hour buckets) or `YYYY-MM-DD` (day buckets), UTC. */
  bucket: string;
  state: string;
  errorCode: string | null;
  /** Something was written to the records system (the saga has an upstream id). */
  wroteUpstream: boolean;
  count: number;
}

/** New-booking sagas (`book`, holds confirmed included) created at or after `sinceIso`, by bucket and outcome. */
export async function bookingSagaBuckets(
  db: StoreTransaction,
  tenantId: string,
  sinceIso: string,
  bucket: 'hour' | 'day',
): Promise<SagaBucketRow[]> {
  // ISO-8601 text timestamps: the hour is the first 13 characters, the day the first 10, on both dialects.
  const length = bucket === 'hour' ? 13 : 10;
  const rows = await db
    .selectFrom('booking_sagas')
    .select([
      sql<string>`substr(created_at, 1, ${sql.lit(length)})`.as('bucket'),
      'state',
      'error_code',
      sql<number>`case when upstream_id is null then 0 else 1 end`.as('wrote'),
      sql<number>`count(*)`.as('n'),
    ])
    .where('tenant_id', '=', tenantId)
    .where('kind', '=', 'book')
    .where('created_at', '>=', sinceIso)
    .groupBy([
      sql`substr(created_at, 1, ${sql.lit(length)})`,
      'state',
      'error_code',
      sql`case when upstream_id is null then 0 else 1 end`,
    ])
    .execute();
  return rows.map((r) => ({
    bucket: r.bucket,
    state: r.state,
    errorCode: r.error_code,
    wroteUpstream: Number(r.wrote) === 1,
    count: Number(r.n),
  }));
}

/** An open manual-intervention Task, as the console lists it (no patient data: what to do and since when). */
export interface OpenTaskRow {
  id: string;
  description: string;
  reason: string | null;
  authoredOn: string | null;
  focus: string | null;
}

/** Task statuses of work not yet done. */
const OPEN_TASK_STATUSES = ['requested', 'received', 'accepted', 'ready', 'in-progress'];

/** The tenant's manual-intervention Tasks still open (the latest 200). */
export async function openAttentionTasks(db: StoreTransaction, tenantId: string): Promise<OpenTaskRow[]> {
  const rows = await db
    .selectFrom('resources')
    .select(['id', 'resource'])
    .where('tenant_id', '=', tenantId)
    .where('resource_type', '=', 'Task')
    .where('deleted', '=', 0)
    .where('status', 'in', OPEN_TASK_STATUSES)
    .orderBy('last_updated', 'desc')
    .limit(200)
    .execute();
  return rows.map((row) => {
    const task = JSON.parse(row.resource) as {
      description?: string;
      reasonCode?: { text?: string };
      authoredOn?: string;
      focus?: { reference?: string };
    };
    return {
      id: row.id,
      description: task.description ?? 'see the Task',
      reason: task.reasonCode?.text ?? null,
      authoredOn: task.authoredOn ?? null,
      focus: task.focus?.reference ?? null,
    };
  });
}

/**
 * Patients of the tenant whose `meta.tag` holds `tag` (the needs-review tag of patients bookings created): an
 * index-only count of their tag tokens, which follow each patient's current version (none once deleted).
 */
export async function taggedPatientCount(
  db: StoreTransaction,
  tenantId: string,
  tag: { system?: string; code?: string },
): Promise<number> {
  const [value] = codeTokens({ coding: [tag] });
  if (value === undefined) return 0;
  const row = await db
    .selectFrom('search_tokens')
    .select(sql<number>`count(*)`.as('n'))
    .where('tenant_id', '=', tenantId)
    .where('resource_type', '=', 'Patient')
    .where('param', '=', TAG_TOKENS)
    .where('value', '=', value)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Pending and dead-lettered deliveries per subscription of the tenant. */
export async function deliveryCountsBySubscription(
  db: StoreTransaction,
  tenantId: string,
): Promise<Map<string, { pending: number; deadLettered: number }>> {
  const rows = await db
    .selectFrom('outbox')
    .select([
      'subscription_id',
      sql<number>`sum(case when dead_lettered_at is null then 1 else 0 end)`.as('pending'),
      sql<number>`sum(case when dead_lettered_at is not null then 1 else 0 end)`.as('dead'),
    ])
    .where('tenant_id', '=', tenantId)
    .where('event_number', 'is not', null)
    .where('delivered_at', 'is', null)
    .groupBy('subscription_id')
    .execute();
  return new Map(
    rows.map((r) => [r.subscription_id, { pending: Number(r.pending), deadLettered: Number(r.dead) }]),
  );
}

/** How many manual-intervention Tasks of the tenant are open. */
export async function openAttentionTaskCount(db: StoreTransaction, tenantId: string): Promise<number> {
  const row = await db
    .selectFrom('resources')
    .select(sql<number>`count(*)`.as('n'))
    .where('tenant_id', '=', tenantId)
    .where('resource_type', '=', 'Task')
    .where('deleted', '=', 0)
    .where('status', 'in', OPEN_TASK_STATUSES)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
