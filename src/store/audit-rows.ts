/**
 * The audit trail's rows as the store reads and writes them (DESIGN.md section 7; reliability.md section 4). What
 * goes into a row, its hash chain and its verification are decided in `src/audit/audit-trail.ts`; this module only
 * numbers, inserts and reads. The tables are declared here rather than in `schema.ts` so the audit trail's storage
 * stays one self-contained concept (`withTables` adds them to the store's database type).
 */
import { sql } from 'kysely';
import type { Store, StoreTransaction } from './database.js';

/** One row of `audit_events`. Type aliases, not interfaces: kysely's `withTables` needs an implicit index signature. */
export type AuditEventsTable = {
  tenant_id: string;
  seq: number;
  recorded_at: string;
  client_id: string | null;
  request_id: string;
  action: string;
  resource_type: string | null;
  /** JSON array of strings. */
  resource_ids: string;
  status: number;
  /** JSON array of parameter names. */
  parameters: string;
  prev_hash: string;
  hash: string;
};

/** One row of `audit_counters`: a tenant's last sequence number and hash. */
export type AuditCountersTable = {
  tenant_id: string;
  last_seq: number;
  last_hash: string;
};

/** The audit trail's tables. */
export type AuditTables = {
  audit_events: AuditEventsTable;
  audit_counters: AuditCountersTable;
};

/**
 * Takes the tenant's next `count` audit sequence numbers (creating its counter with `genesisHash` on the first
 * rows) and returns the last of them with the hash of the row before the first. The upsert takes the tenant's
 * counter row lock until the transaction ends, so concurrent writers of one tenant queue here (PostgreSQL; SQLite's
 * BEGIN IMMEDIATE already serialises them) and see each other's hash. The audit trail commits its rows in groups,
 * so one process takes the lock once per group, not once per request.
 */
export async function takeAuditSeqs(
  trx: StoreTransaction,
  tenantId: string,
  genesisHash: string,
  count: number,
): Promise<{ last_seq: number; last_hash: string }> {
  // Raw SQL, like the insert below: once per audit group, and kysely's builder cost more than the statement.
  const result = await sql<{ last_seq: number; last_hash: string }>`insert into audit_counters
    (tenant_id, last_seq, last_hash) values (${tenantId}, ${count}, ${genesisHash})
    on conflict (tenant_id) do update set last_seq = audit_counters.last_seq + ${count}
    returning last_seq, last_hash`.execute(trx);
  const counter = result.rows[0];
  if (!counter) throw new Error('the audit counter upsert returned no row');
  return counter;
}

/** Every column of `audit_events`, in insert order (the check below fails to compile when one is left out). */
const AUDIT_COLUMNS = [
  'tenant_id',
  'seq',
  'recorded_at',
  'client_id',
  'request_id',
  'action',
  'resource_type',
  'resource_ids',
  'status',
  'parameters',
  'prev_hash',
  'hash',
] as const satisfies ReadonlyArray<keyof AuditEventsTable>;
const _everyColumnListed: Exclude<keyof AuditEventsTable, (typeof AUDIT_COLUMNS)[number]> extends never
  ? true
  : never = true;
const COLUMN_LIST = sql.raw(AUDIT_COLUMNS.join(', '));

/**
 * Inserts rows of one tenant numbered by {@link takeAuditSeqs}, in sequence order, in one statement, and moves the
 * tenant's counter to the last row's hash.
 */
export async function insertAuditRows(
  trx: StoreTransaction,
  rows: readonly AuditEventsTable[],
): Promise<void> {
  const last = rows[rows.length - 1];
  if (last === undefined) return;
  const values = rows.map((row) => sql`(${sql.join(AUDIT_COLUMNS.map((column) => row[column]))})`);
  await sql`insert into audit_events (${COLUMN_LIST}) values ${sql.join(values)}`.execute(trx);
  await sql`update audit_counters set last_hash = ${last.hash} where tenant_id = ${last.tenant_id}`.execute(
    trx,
  );
}

/** Each column's PostgreSQL type, for reading rows out of one JSON parameter ({@link appendAuditRowsAtTip}). */
const POSTGRES_TYPES: Record<keyof AuditEventsTable, string> = {
  tenant_id: 'text',
  seq: 'bigint',
  recorded_at: 'text',
  client_id: 'text',
  request_id: 'text',
  action: 'text',
  resource_type: 'text',
  resource_ids: 'text',
  status: 'integer',
  parameters: 'text',
  prev_hash: 'text',
  hash: 'text',
};
const RECORD_DEFINITION = sql.raw(
  AUDIT_COLUMNS.map((column) => `${column} ${POSTGRES_TYPES[column]}`).join(', '),
);

/**
 * PostgreSQL only: appends rows of one tenant, chained on from `tip` (the tenant's counter as this process last
 * left it), in ONE statement, committed on its own: the counter moves to the last row only if it still stands at
 * `tip`, and the rows are inserted only if it moved, atomically. A writer that moved the counter meanwhile (another
 * instance, or a write that appended its row in its own transaction) makes it write nothing and answer false; a
 * writer holding the counter's row lock makes it wait, then re-check against the committed counter.
 *
 * The rows travel as one JSON parameter, so the statement's text (a named prepared statement) is the same for
 * every group size.
 */
export async function appendAuditRowsAtTip(
  store: Store,
  tip: { seq: number; hash: string },
  rows: readonly AuditEventsTable[],
): Promise<boolean> {
  const last = rows[rows.length - 1];
  if (last === undefined) return true;
  const result = await sql`with moved as (
      update audit_counters set last_seq = ${last.seq}, last_hash = ${last.hash}
      where tenant_id = ${last.tenant_id} and last_seq = ${tip.seq} and last_hash = ${tip.hash}
      returning 1
    )
    insert into audit_events (${COLUMN_LIST})
    select ${COLUMN_LIST} from moved, jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(${RECORD_DEFINITION})`.execute(
    store.db,
  );
  const inserted = Number(result.numAffectedRows ?? 0);
  if (inserted !== 0 && inserted !== rows.length) {
    throw new Error(`the audit append inserted ${inserted} of ${rows.length} rows`);
  }
  return inserted === rows.length;
}

/**
 * The tenant's rows from a sequence number on, oldest first, at most `limit`: those above `from.seq`, or from it
 * on when `from.inclusive`.
 */
export function auditRows(
  store: Store,
  tenantId: string,
  from: { seq: number; inclusive: boolean },
  limit: number,
): Promise<AuditEventsTable[]> {
  return store.db
    .withTables<AuditTables>()
    .selectFrom('audit_events')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('seq', from.inclusive ? '>=' : '>', from.seq)
    .orderBy('seq')
    .limit(limit)
    .execute();
}

/** The tenant's counter, or undefined before its first row. */
export function auditCounter(
  store: Store,
  tenantId: string,
): Promise<{ last_seq: number; last_hash: string } | undefined> {
  return store.db
    .withTables<AuditTables>()
    .selectFrom('audit_counters')
    .select(['last_seq', 'last_hash'])
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
}

/** The sequence number of the tenant's first audit row recorded at or after `at` (ISO), or undefined. */
export async function firstAuditSeqAt(
  store: Store,
  tenantId: string,
  at: string,
): Promise<number | undefined> {
  const row = await store.db
    .withTables<AuditTables>()
    .selectFrom('audit_events')
    .select('seq')
    .where('tenant_id', '=', tenantId)
    .where('recorded_at', '>=', at)
    .orderBy('recorded_at')
    .orderBy('seq')
    .limit(1)
    .executeTakeFirst();
  return row?.seq;
}
