/**
 * Failed webhook delivery attempts (`webhook_attempts`, issue 15 item 3) as the store writes and reads them. What
 * counts as a failure, and the words of its reason, are decided in `src/webhooks/delivery/`.
 */
import { sql } from 'kysely';
import type { StoreTransaction } from './database.js';
import type { WebhookAttemptsTable } from './schema.js';

/** How long failed attempts are kept: long enough to show a week of trouble, short enough to stay small. */
const KEEP_MS = 7 * 24 * 3600_000;

/** Keeps one failed attempt, and forgets the subscription's failed attempts older than a week. */
export async function insertFailedAttempt(trx: StoreTransaction, row: WebhookAttemptsTable): Promise<void> {
  await trx.insertInto('webhook_attempts').values(row).execute();
  await trx
    .deleteFrom('webhook_attempts')
    .where('tenant_id', '=', row.tenant_id)
    .where('subscription_id', '=', row.subscription_id)
    .where('attempted_at', '<', new Date(Date.parse(row.attempted_at) - KEEP_MS).toISOString())
    .execute();
}

/** One subscription's failed attempts: how many kept (a week), how many since its failure clock started, the last. */
export interface FailedAttemptSummary {
  subscriptionId: string;
  /** Failed attempts kept (the last week). */
  failedKept: number;
  /** Failed attempts since the subscription's last success (its `failing_since`); 0 while healthy. */
  failedSinceSuccess: number;
  last: Pick<WebhookAttemptsTable, 'attempted_at' | 'status' | 'reason'> | null;
}

/** The failed-attempt summary of each of the tenant's subscriptions in `ids` (every one named is in the map). */
export async function failedAttemptSummaries(
  db: StoreTransaction,
  tenantId: string,
  ids: readonly string[],
): Promise<Map<string, FailedAttemptSummary>> {
  const out = new Map<string, FailedAttemptSummary>();
  if (ids.length === 0) return out;
  for (const id of ids) out.set(id, { subscriptionId: id, failedKept: 0, failedSinceSuccess: 0, last: null });
  const counts = await db
    .selectFrom('webhook_attempts as a')
    .innerJoin('subscriptions as s', (join) =>
      join.onRef('s.tenant_id', '=', 'a.tenant_id').onRef('s.id', '=', 'a.subscription_id'),
    )
    .select([
      'a.subscription_id',
      sql<number>`count(*)`.as('kept'),
      sql<number>`sum(case when s.failing_since is not null and a.attempted_at >= s.failing_since then 1 else 0 end)`.as(
        'streak',
      ),
      sql<string>`max(a.attempted_at)`.as('latest'),
    ])
    .where('a.tenant_id', '=', tenantId)
    .where('a.subscription_id', 'in', [...ids])
    .groupBy('a.subscription_id')
    .execute();
  for (const row of counts) {
    const entry = out.get(row.subscription_id);
    if (!entry) continue;
    entry.failedKept = Number(row.kept);
    entry.failedSinceSuccess = Number(row.streak ?? 0);
    const last = await db
      .selectFrom('webhook_attempts')
      .select(['attempted_at', 'status', 'reason'])
      .where('tenant_id', '=', tenantId)
      .where('subscription_id', '=', row.subscription_id)
      .where('attempted_at', '=', row.latest)
      .limit(1)
      .executeTakeFirst();
    entry.last = last ?? null;
  }
  return out;
}
