/**
 * The one transactional write path of every change subscribers can hear of (DESIGN.md section 1 "Data flow"):
 * in ONE store transaction, lock the tenant's journal → write resource versions → append journal rows → write the
 * webhook outbox rows those events cause (the transactional outbox of reliability.md 1.2: a crash can neither lose
 * nor double-emit a notification). The sync engine, the booking saga, patient registration, sync health and the
 * webhook subscriptions themselves all write through {@link recordChanges}.
 *
 * The store keeps the persistence (`src/store/resource-writes.ts`, `src/store/change-journal.ts`); this module
 * owns the order and adds the outbox, so the store never needs to know about webhooks.
 */
import type { Store, StoreTransaction } from '../store/database.js';
import {
  writeChangesInTransaction,
  type CommitOptions,
  type CommitResult,
  type ResourceChange,
  type WriteGuard,
} from '../store/resource-writes.js';
import { enqueueOutbox } from '../webhooks/delivery/outbox-matching.js';
import type { JournalEventInput } from './event-types.js';

/** What one write records: resource changes, and events (about them, or about nothing). */
export interface ChangeSet {
  resources?: readonly ResourceChange[];
  events?: readonly JournalEventInput[];
  /**
   * Compare-and-set (DESIGN.md section 5): skip changes to resources written since the writer read its source,
   * so a sync pass never reverts a newer local write. Skipped changes are listed in the result.
   */
  guard?: WriteGuard;
}

/**
 * Records `changes` inside the caller's write transaction (so it can add its own rows atomically: a saga step, a
 * sync cursor, a subscription row): the tenant's journal lock first, then resource versions, journal rows and
 * outbox rows. The rules of versions and events are `writeChangesInTransaction`'s: an unchanged upsert writes
 * nothing and its event is dropped; an event about a resource changed here gets the version just written.
 *
 * @see DESIGN.md section 1 "Data flow" and section 3
 */
export async function recordChanges(
  trx: StoreTransaction,
  tenantId: string,
  changes: ChangeSet,
  now: Date,
): Promise<CommitResult> {
  const result = await writeChangesInTransaction(
    trx,
    tenantId,
    changes.resources ?? [],
    changes.events ?? [],
    now,
    changes.guard,
  );
  await enqueueOutbox(trx, tenantId, result.journal, now);
  return result;
}

/**
 * {@link recordChanges} in a write transaction of its own.
 *
 * @see DESIGN.md section 3
 */
export function commitChanges(
  store: Store,
  tenantId: string,
  changes: readonly ResourceChange[],
  events: readonly JournalEventInput[] = [],
  options: CommitOptions = {},
): Promise<CommitResult> {
  if (changes.length === 0 && events.length === 0) return Promise.resolve({ written: [], journal: [] });
  const now = options.now ?? store.now();
  return store.write((trx) =>
    recordChanges(trx, tenantId, { resources: changes, events, guard: options.guard }, now),
  );
}

/**
 * Records events without a resource change (sync health, …) in a write transaction of their own.
 *
 * @see DESIGN.md section 3
 */
export async function appendJournal(
  store: Store,
  tenantId: string,
  events: readonly JournalEventInput[],
  options: { now?: Date } = {},
): Promise<CommitResult['journal']> {
  return (await commitChanges(store, tenantId, [], events, options)).journal;
}

/**
 * {@link recordChanges} under the name and signature the booking saga used before `src/events/` existed.
 * @deprecated call {@link recordChanges}.
 */
export function commitChangesInTransaction(
  trx: StoreTransaction,
  tenantId: string,
  changes: readonly ResourceChange[],
  events: readonly JournalEventInput[],
  now: Date,
): Promise<CommitResult> {
  return recordChanges(trx, tenantId, { resources: changes, events }, now);
}

/**
 * {@link recordChanges} of events only, under the name the booking saga used before `src/events/` existed.
 * @deprecated call {@link recordChanges}.
 */
export async function appendJournalInTransaction(
  trx: StoreTransaction,
  tenantId: string,
  events: readonly JournalEventInput[],
  now: Date,
): Promise<CommitResult['journal']> {
  return (await recordChanges(trx, tenantId, { events }, now)).journal;
}
