/**
 * Webhook subscriptions' run-time rows (`subscriptions`) as the store reads and writes them (DESIGN.md section 6).
 * Every decision — status transitions, which fields a client may change, when a heartbeat or a failure clock
 * starts — is made in `src/webhooks/subscriptions/` and `src/webhooks/delivery/`; these functions take and return
 * plain rows. Reads outside a write transaction pass `store.db`, reads inside one pass the transaction.
 */
import type { StoreTransaction } from './database.js';
import type { SubscriptionsTable } from './schema.js';

/** Which of a tenant's rows {@link subscriptionRows} returns, and in what order. */
export interface SubscriptionRowFilter {
  /** Only rows with one of these statuses (none when empty). */
  status?: readonly string[];
  /** Only rows with one of these ids (none when empty). */
  ids?: readonly string[];
  /** `created`: oldest first (ties by id); `id`: by id; omitted: as the database returns them. */
  order?: 'created' | 'id';
}

/** Inserts a new subscription row. */
export async function insertSubscriptionRow(trx: StoreTransaction, row: SubscriptionsTable): Promise<void> {
  await trx.insertInto('subscriptions').values(row).execute();
}

/** The tenant's subscription rows matching `filter`. */
export async function subscriptionRows(
  db: StoreTransaction,
  tenantId: string,
  filter: SubscriptionRowFilter = {},
): Promise<SubscriptionsTable[]> {
  if (filter.status?.length === 0 || filter.ids?.length === 0) return [];
  let query = db.selectFrom('subscriptions').selectAll().where('tenant_id', '=', tenantId);
  if (filter.order === 'created') query = query.orderBy('created_at').orderBy('id');
  if (filter.order === 'id') query = query.orderBy('id');
  if (filter.ids !== undefined) query = query.where('id', 'in', [...filter.ids]);
  if (filter.status !== undefined) query = query.where('status', 'in', [...filter.status]);
  return query.execute();
}

/** One row, or undefined when the tenant has none with that id. */
export function subscriptionRowById(
  db: StoreTransaction,
  tenantId: string,
  id: string,
): Promise<SubscriptionsTable | undefined> {
  return db
    .selectFrom('subscriptions')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** Sets `changes` on one row. */
export async function updateSubscriptionRow(
  trx: StoreTransaction,
  tenantId: string,
  id: string,
  changes: Partial<SubscriptionsTable>,
): Promise<void> {
  await trx
    .updateTable('subscriptions')
    .set(changes)
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .execute();
}

/** Deletes one row; false when there was none. */
export async function deleteSubscriptionRow(
  trx: StoreTransaction,
  tenantId: string,
  id: string,
): Promise<boolean> {
  const deleted = await trx
    .deleteFrom('subscriptions')
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(deleted.numDeletedRows) > 0;
}

/**
 * A delivery succeeded at `nowText`: the failure clock stops, `last_notified_at` moves, and
 * `last_delivered_event` moves up to `eventNumber` (never down: deliveries may finish out of order).
 */
export async function markRowDelivered(
  trx: StoreTransaction,
  tenantId: string,
  id: string,
  eventNumber: number,
  nowText: string,
): Promise<void> {
  await updateSubscriptionRow(trx, tenantId, id, {
    failing_since: null,
    last_error: null,
    last_notified_at: nowText,
    last_success_at: nowText,
  });
  await trx
    .updateTable('subscriptions')
    .set({ last_delivered_event: eventNumber })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('last_delivered_event', '<', eventNumber)
    .execute();
}

/**
 * A delivery failed at `nowText` with `error`: the failure clock starts if it is not running. Returns since when
 * the subscription has been failing (undefined when the row is gone).
 */
export async function markRowFailed(
  trx: StoreTransaction,
  tenantId: string,
  id: string,
  error: string,
  nowText: string,
): Promise<{ failing_since: string | null } | undefined> {
  await trx
    .updateTable('subscriptions')
    .set({ failing_since: nowText })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('failing_since', 'is', null)
    .execute();
  return trx
    .updateTable('subscriptions')
    .set({ last_error: error, last_notified_at: nowText })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .returning('failing_since')
    .executeTakeFirst();
}

/**
 * Compare-and-set of an active row's `last_notified_at` from `previous` to `nowText`; false when it was not
 * `previous` any more (or the row is not active).
 */
export async function moveLastNotified(
  trx: StoreTransaction,
  tenantId: string,
  id: string,
  previous: string | null,
  nowText: string,
): Promise<boolean> {
  let query = trx
    .updateTable('subscriptions')
    .set({ last_notified_at: nowText })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('status', '=', 'active');
  query =
    previous === null
      ? query.where('last_notified_at', 'is', null)
      : query.where('last_notified_at', '=', previous);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** The current version of a Subscription resource (number and JSON text), or undefined when there is none. */
export function currentSubscriptionResource(
  trx: StoreTransaction,
  tenantId: string,
  id: string,
): Promise<{ version_id: number; resource: string } | undefined> {
  return trx
    .selectFrom('resources')
    .select(['version_id', 'resource'])
    .where('tenant_id', '=', tenantId)
    .where('resource_type', '=', 'Subscription')
    .where('id', '=', id)
    .executeTakeFirst();
}
