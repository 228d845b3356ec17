/**
 * Retention's deletes (issue 15 item 4; DESIGN.md section 7, "storage is bounded by retention settings"): each
 * function deletes at most `limit` of one tenant's rows past their window, in the caller's (short) transaction,
 * and returns how many it deleted. What is still referred to is kept: a journal event a delivery refers to (`$events`
 * and retries read it), a resource version a kept journal event names (full-resource notifications read it), the
 * last `keepVersions` versions of every resource, and sagas not finished. The audit trail has no function here: it
 * is never pruned (it is exported, `src/audit/audit-export.ts`).
 */
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { Store, StoreTransaction } from './database.js';

/** The tables retention deletes from. */
type PrunedTable = 'outbox' | 'change_journal' | 'resource_history' | 'booking_sagas' | 'idempotency_records';

/**
 * Deletes the `victims` of one tenant from `table` — rows named by their key `columns`, as a pruning query selected
 * them (and still matching `stillTrue`, if given) — and returns how many went.
 */
async function deleteBatch(
  trx: StoreTransaction,
  table: PrunedTable,
  tenantId: string,
  columns: readonly string[],
  victims: ReadonlyArray<readonly (string | number)[]>,
  stillTrue?: RawBuilder<SqlBool>,
): Promise<number> {
  if (victims.length === 0) return 0;
  const key = sql.join(columns.map((column) => sql.ref(column)));
  const rows = sql.join(victims.map((victim) => sql`(${sql.join(victim)})`));
  let query = trx
    .deleteFrom(table)
    .where('tenant_id', '=', tenantId)
    .where(sql<SqlBool>`(${key}) in (${rows})`);
  if (stillTrue) query = query.where(stillTrue);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Delivered webhook deliveries delivered before `before`. */
export async function pruneDeliveredOutbox(
  trx: StoreTransaction,
  tenantId: string,
  before: string,
  limit: number,
): Promise<number> {
  const victims = await trx
    .selectFrom('outbox')
    .select(['subscription_id', 'seq'])
    .where('tenant_id', '=', tenantId)
    .where('delivered_at', 'is not', null)
    .where('delivered_at', '<', before)
    .limit(limit)
    .execute();
  return deleteBatch(
    trx,
    'outbox',
    tenantId,
    ['subscription_id', 'seq'],
    victims.map((v) => [v.subscription_id, v.seq]),
  );
}

/** Journal events that occurred before `before` and that no delivery (pending, failed or kept) refers to. */
export async function pruneJournal(
  trx: StoreTransaction,
  tenantId: string,
  before: string,
  limit: number,
): Promise<number> {
  const victims = await trx
    .selectFrom('change_journal as j')
    .select('j.seq')
    .where('j.tenant_id', '=', tenantId)
    .where('j.occurred_at', '<', before)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('outbox as o')
            .select(sql.lit(1).as('one'))
            .whereRef('o.tenant_id', '=', 'j.tenant_id')
            .whereRef('o.seq', '=', 'j.seq'),
        ),
      ),
    )
    .orderBy('j.seq')
    .limit(limit)
    .execute();
  return deleteBatch(
    trx,
    'change_journal',
    tenantId,
    ['seq'],
    victims.map((v) => [v.seq]),
  );
}

/**
 * Versions written before `before` that are not among their resource's last `keepVersions` and that no kept journal
 * event names.
 */
export async function pruneHistory(
  trx: StoreTransaction,
  tenantId: string,
  before: string,
  keepVersions: number,
  limit: number,
): Promise<number> {
  const victims = await trx
    .selectFrom('resource_history as h')
    .innerJoin('resources as r', (join) =>
      join
        .onRef('r.tenant_id', '=', 'h.tenant_id')
        .onRef('r.resource_type', '=', 'h.resource_type')
        .onRef('r.id', '=', 'h.id'),
    )
    .select(['h.resource_type', 'h.id', 'h.version_id'])
    .where('h.tenant_id', '=', tenantId)
    .where('h.last_updated', '<', before)
    .where((eb) => eb('h.version_id', '<=', eb('r.version_id', '-', keepVersions)))
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('change_journal as j')
            .select(sql.lit(1).as('one'))
            .whereRef('j.tenant_id', '=', 'h.tenant_id')
            .whereRef('j.resource_type', '=', 'h.resource_type')
            .whereRef('j.resource_id', '=', 'h.id')
            .whereRef('j.version_id', '=', 'h.version_id'),
        ),
      ),
    )
    .limit(limit)
    .execute();
  return deleteBatch(
    trx,
    'resource_history',
    tenantId,
    ['resource_type', 'id', 'version_id'],
    victims.map((v) => [v.resource_type, v.id, v.version_id]),
  );
}

/** Saga states that are finished and may go; `needs-attention` stays for the practice's staff. */
const FINISHED_SAGA_STATES = ['committed', 'released'];

/** Committed and released sagas last changed before `before`. */
export async function pruneFinishedSagas(
  trx: StoreTransaction,
  tenantId: string,
  before: string,
  limit: number,
): Promise<number> {
  const victims = await trx
    .selectFrom('booking_sagas')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('state', 'in', FINISHED_SAGA_STATES)
    .where('updated_at', '<', before)
    .limit(limit)
    .execute();
  return deleteBatch(
    trx,
    'booking_sagas',
    tenantId,
    ['id'],
    victims.map((v) => [v.id]),
    // A saga that moved on since it was selected stays.
    sql<SqlBool>`state in (${sql.join(FINISHED_SAGA_STATES)})`,
  );
}

/** Idempotency records created before `before`, or past their own expiry at `now`. */
export async function pruneIdempotencyRecords(
  trx: StoreTransaction,
  tenantId: string,
  before: string,
  now: string,
  limit: number,
): Promise<number> {
  const victims = await trx
    .selectFrom('idempotency_records')
    .select(['client_id', 'idempotency_key'])
    .where('tenant_id', '=', tenantId)
    .where((eb) => eb.or([eb('created_at', '<', before), eb('expires_at', '<=', now)]))
    .limit(limit)
    .execute();
  return deleteBatch(
    trx,
    'idempotency_records',
    tenantId,
    ['client_id', 'idempotency_key'],
    victims.map((v) => [v.client_id, v.idempotency_key]),
  );
}

/**
 * The tables retention bounds, the audit trail it keeps, and the current resources (history holds their current
 * versions too): row counts for one tenant (tests, benchmark).
 */
export async function retainedRowCounts(store: Store, tenantId: string): Promise<Record<string, number>> {
  const tables = [
    'change_journal',
    'outbox',
    'resource_history',
    'booking_sagas',
    'idempotency_records',
    'audit_events',
    'resources',
  ] as const;
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const row = await sql<{
      n: number | string;
    }>`select count(*) as n from ${sql.table(table)} where tenant_id = ${tenantId}`.execute(store.db);
    counts[table] = Number(row.rows[0]?.n ?? 0);
  }
  return counts;
}
