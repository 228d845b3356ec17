/**
 * The rows the start-up pass of secrets at rest reads and rewrites (issue 15 item 5): the key check value, the
 * sealed columns of `subscriptions`, and the Subscription resources (current and history) whose channel headers
 * must not show their values. The pass itself is `src/webhooks/subscriptions/secrets-at-rest.ts`.
 */
import type { Store, StoreTransaction } from './database.js';
import type { SecretKeyChecksTable } from './schema.js';

/** The name of the one check row. */
export const SECRET_KEY_CHECK = 'secret-key';

/** The check row, or undefined before the store held any secret. */
export function secretKeyCheck(db: StoreTransaction): Promise<SecretKeyChecksTable | undefined> {
  return db
    .selectFrom('secret_key_checks')
    .selectAll()
    .where('name', '=', SECRET_KEY_CHECK)
    .executeTakeFirst();
}

/** Writes the check row. */
export async function putSecretKeyCheck(
  trx: StoreTransaction,
  row: Omit<SecretKeyChecksTable, 'name'>,
): Promise<void> {
  await trx
    .insertInto('secret_key_checks')
    .values({ name: SECRET_KEY_CHECK, ...row })
    .onConflict((oc) => oc.column('name').doUpdateSet(row))
    .execute();
}

/** The sealed (or, in a store from before encryption, plaintext) columns of one subscription. */
export interface SubscriptionSecretColumns {
  tenant_id: string;
  id: string;
  secret: string;
  previous_secret: string | null;
  headers: string | null;
}

/** A page of subscriptions' secret columns after (`tenant`, `id`), in that order. */
export function subscriptionSecretColumns(
  store: Store,
  after: { tenantId: string; id: string } | undefined,
  limit: number,
): Promise<SubscriptionSecretColumns[]> {
  let query = store.db
    .selectFrom('subscriptions')
    .select(['tenant_id', 'id', 'secret', 'previous_secret', 'headers'])
    .orderBy('tenant_id')
    .orderBy('id')
    .limit(limit);
  if (after) {
    query = query.where((eb) =>
      eb.or([
        eb('tenant_id', '>', after.tenantId),
        eb.and([eb('tenant_id', '=', after.tenantId), eb('id', '>', after.id)]),
      ]),
    );
  }
  return query.execute();
}

/** Replaces one subscription's secret columns if they are still `expected` (another instance may have done it). */
export async function replaceSubscriptionSecrets(
  trx: StoreTransaction,
  expected: SubscriptionSecretColumns,
  next: Pick<SubscriptionSecretColumns, 'secret' | 'previous_secret' | 'headers'>,
): Promise<boolean> {
  let query = trx
    .updateTable('subscriptions')
    .set(next)
    .where('tenant_id', '=', expected.tenant_id)
    .where('id', '=', expected.id)
    .where('secret', '=', expected.secret);
  query =
    expected.headers === null
      ? query.where('headers', 'is', null)
      : query.where('headers', '=', expected.headers);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** How many subscriptions the store holds (each has a signing secret). */
export async function subscriptionCount(store: Store): Promise<number> {
  const row = await store.db
    .selectFrom('subscriptions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** One stored version of a Subscription resource whose JSON has channel headers. */
export interface SubscriptionResourceText {
  table: 'resources' | 'resource_history';
  tenant_id: string;
  id: string;
  version_id: number;
  resource: string;
}

/** Every stored version (current and history) of a Subscription that has a `header` element. */
export async function subscriptionResourcesWithHeaders(store: Store): Promise<SubscriptionResourceText[]> {
  const pick = ['tenant_id', 'id', 'version_id', 'resource'] as const;
  const current = await store.db
    .selectFrom('resources')
    .select(pick)
    .where('resource_type', '=', 'Subscription')
    .where('resource', 'like', '%"header"%')
    .execute();
  const history = await store.db
    .selectFrom('resource_history')
    .select(pick)
    .where('resource_type', '=', 'Subscription')
    .where('resource', 'like', '%"header"%')
    .execute();
  return [
    ...current.map((row) => ({ table: 'resources' as const, ...row })),
    ...history.map((row) => ({ table: 'resource_history' as const, ...row })),
  ];
}

/** Rewrites the JSON of one stored Subscription version (same version: only header values are masked). */
export async function replaceSubscriptionResourceText(
  trx: StoreTransaction,
  row: SubscriptionResourceText,
  resource: string,
): Promise<void> {
  await trx
    .updateTable(row.table)
    .set({ resource })
    .where('tenant_id', '=', row.tenant_id)
    .where('resource_type', '=', 'Subscription')
    .where('id', '=', row.id)
    .where('version_id', '=', row.version_id)
    .execute();
}
