/**
 * The change journal: every event a tenant's subscribers can see, numbered by a sequence that is monotonic and
 * gap-free per tenant (DESIGN.md sections 1 "Data flow", 3 and 6).
 *
 * Numbers come from a per-tenant counter row updated inside the writing transaction. The row lock makes a later
 * writer wait until the earlier one commits, so sequence numbers become visible in order: a reader that has seen
 * `seq` N can never later find a row below N appear.
 *
 * These are the journal's rows only. Recording an event (journal rows plus the webhook outbox rows it causes, in
 * one transaction) is `src/events/change-writer.ts`, the one write path every writer uses.
 */
import { chunk, rowsPerInsert } from './batching.js';
import type { Store, StoreTransaction } from './database.js';
import type { ChangeJournalTable } from './schema.js';

/** A journal row to insert; the journal gives it a sequence number and a time. */
export interface JournalRowInput {
  /** What happened, e.g. `appointment.booked`, `sync.health-changed` (typed in `src/events/event-types.ts`). */
  eventType: string;
  /** The resource the event is about, when there is one. */
  resourceType?: string;
  resourceId?: string;
  /** The resource version the event reports, when known. */
  versionId?: number;
  /** Extra JSON-serialisable detail. */
  payload?: unknown;
}

/** One journal row. */
export interface JournalEntry {
  tenantId: string;
  seq: number;
  eventType: string;
  resourceType: string | null;
  resourceId: string | null;
  versionId: number | null;
  /** ISO-8601 UTC. */
  occurredAt: string;
  payload: unknown;
}

/** Options of {@link readJournal}. */
export interface ReadJournalOptions {
  /** Return entries with a sequence number above this; default 0 (from the start). */
  afterSeq?: number;
  /** At most this many entries; default 100. */
  limit?: number;
}

/**
 * Takes the tenant's journal counter row lock (creating the row if needed) without allocating a number.
 * Every multi-row write of a tenant's resources calls it first, which serialises them per tenant on PostgreSQL
 * (on SQLite `BEGIN IMMEDIATE` already has) and keeps lock order fixed, so such writers cannot deadlock.
 */
export async function lockTenantJournal(trx: StoreTransaction, tenantId: string): Promise<void> {
  await allocateSeqs(trx, tenantId, 0);
}

/**
 * Inserts `events` as journal rows, in order, numbered after the tenant's counter, inside an open write
 * transaction, and returns the rows written. Nothing else: writers go through `src/events/change-writer.ts`.
 *
 * @see DESIGN.md section 3
 */
export async function insertJournalEntries(
  trx: StoreTransaction,
  tenantId: string,
  events: readonly JournalRowInput[],
  now: Date,
): Promise<JournalEntry[]> {
  if (events.length === 0) return [];
  const lastSeq = await allocateSeqs(trx, tenantId, events.length);
  const occurredAt = now.toISOString();
  const rows: ChangeJournalTable[] = events.map((event, index) => ({
    tenant_id: tenantId,
    seq: lastSeq - events.length + 1 + index,
    event_type: event.eventType,
    resource_type: event.resourceType ?? null,
    resource_id: event.resourceId ?? null,
    version_id: event.versionId ?? null,
    occurred_at: occurredAt,
    payload: event.payload === undefined ? null : JSON.stringify(event.payload),
  }));
  for (const part of chunk(rows, rowsPerInsert(8)))
    await trx.insertInto('change_journal').values(part).execute();
  return rows.map(toJournalEntry);
}

/**
 * The tenant's journal entries after `afterSeq`, oldest first.
 *
 * @see DESIGN.md section 3
 */
export function readJournal(
  store: Store,
  tenantId: string,
  options: ReadJournalOptions = {},
): Promise<JournalEntry[]> {
  return readJournalInTransaction(store.db, tenantId, options);
}

/** {@link readJournal} inside a transaction the caller holds. */
export async function readJournalInTransaction(
  trx: StoreTransaction,
  tenantId: string,
  options: ReadJournalOptions = {},
): Promise<JournalEntry[]> {
  const rows = await trx
    .selectFrom('change_journal')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('seq', '>', options.afterSeq ?? 0)
    .orderBy('seq')
    .limit(options.limit ?? 100)
    .execute();
  return rows.map(toJournalEntry);
}

/**
 * The tenant's journal entries with these sequence numbers (any order; numbers with no entry are left out).
 *
 * @see DESIGN.md section 3
 */
export async function readJournalEntries(
  store: Store,
  tenantId: string,
  seqs: readonly number[],
): Promise<JournalEntry[]> {
  if (seqs.length === 0) return [];
  const rows = await store.db
    .selectFrom('change_journal')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('seq', 'in', [...seqs])
    .execute();
  return rows.map(toJournalEntry);
}

/**
 * The tenant's highest journal sequence number, 0 before the first event.
 *
 * @see DESIGN.md section 3
 */
export async function lastJournalSeq(store: Store, tenantId: string): Promise<number> {
  const row = await store.db
    .selectFrom('journal_counters')
    .select('last_seq')
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  return row?.last_seq ?? 0;
}

/**
 * Takes the tenant's journal lock ({@link lockTenantJournal}) and returns its highest sequence number, which
 * cannot move until the transaction ends.
 */
export async function lockedLastJournalSeq(trx: StoreTransaction, tenantId: string): Promise<number> {
  return allocateSeqs(trx, tenantId, 0);
}

/** Adds `count` to the tenant's counter (creating it at 0) and returns the new last sequence number. */
async function allocateSeqs(trx: StoreTransaction, tenantId: string, count: number): Promise<number> {
  const row = await trx
    .insertInto('journal_counters')
    .values({ tenant_id: tenantId, last_seq: count })
    .onConflict((oc) =>
      oc.column('tenant_id').doUpdateSet((eb) => ({ last_seq: eb('journal_counters.last_seq', '+', count) })),
    )
    .returning('last_seq')
    .executeTakeFirstOrThrow();
  return row.last_seq;
}

function toJournalEntry(row: ChangeJournalTable): JournalEntry {
  return {
    tenantId: row.tenant_id,
    seq: row.seq,
    eventType: row.event_type,
    resourceType: row.resource_type,
    resourceId: row.resource_id,
    versionId: row.version_id,
    occurredAt: row.occurred_at,
    payload: row.payload === null ? null : (JSON.parse(row.payload) as unknown),
  };
}

/**
 * Which of `keys` (`ResourceType/id`) have a journal entry after `seq`: written since a reader noted that sequence
 * number (a sync pass, before it asked the records system). Call inside the writer's transaction, after
 * {@link lockTenantJournal}, so no commit can slip in between the check and the write.
 */
export async function journalledSince(
  trx: StoreTransaction,
  tenantId: string,
  seq: number,
  keys: ReadonlyArray<{ resourceType: string; id: string }>,
): Promise<Set<string>> {
  const found = new Set<string>();
  if (keys.length === 0) return found;
  const wanted = new Set(keys.map((k) => `${k.resourceType}/${k.id}`));
  const rows = await trx
    .selectFrom('change_journal')
    .select(['resource_type', 'resource_id'])
    .where('tenant_id', '=', tenantId)
    .where('seq', '>', seq)
    .where('resource_id', 'is not', null)
    .execute();
  for (const row of rows) {
    const key = `${row.resource_type}/${row.resource_id}`;
    if (wanted.has(key)) found.add(key);
  }
  return found;
}
