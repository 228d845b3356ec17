/**
 * Row types of the store's tables, as kysely sees them (DESIGN.md section 3).
 *
 * Both dialects hold the same shapes so one set of queries serves both: timestamps are ISO-8601 UTC text
 * (`2026-11-24T19:00:00.000Z`, which sorts lexicographically), JSON is text, booleans are integers 0/1.
 * Every table carries `tenant_id` in its primary key.
 */

/** 0 or 1: booleans are integers so SQLite and PostgreSQL compare them with the same SQL. */
export type IntBoolean = 0 | 1;

/** The current version of every resource, with the columns searches filter and sort on. */
export interface ResourcesTable {
  tenant_id: string;
  resource_type: string;
  id: string;
  version_id: number;
  last_updated: string;
  /** `contentHash` of the resource without `meta`: what the differ compares. */
  content_hash: string;
  /** A deleted resource keeps its row so reads can answer 410 Gone instead of 404. */
  deleted: IntBoolean;
  /** The resource as JSON text, `meta.versionId`/`meta.lastUpdated` included. */
  resource: string;
  period_start: string | null;
  period_end: string | null;
  status: string | null;
  ref_patient: string | null;
  ref_practitioner: string | null;
  ref_location: string | null;
  ref_schedule: string | null;
}

/** Every version ever written, for `_history`, `vread`, ETags and webhooks that carry versions. */
export interface ResourceHistoryTable {
  tenant_id: string;
  resource_type: string;
  id: string;
  version_id: number;
  last_updated: string;
  deleted: IntBoolean;
  resource: string;
}

/** Normalised search values (folded names, identifiers, phone digits, codes, references) of current versions. */
export interface SearchTokensTable {
  tenant_id: string;
  resource_type: string;
  resource_id: string;
  param: string;
  value: string;
}

/** Upstream (records system) id ↔ FHIR id, both unique per tenant and resource type. */
export interface UpstreamIdsTable {
  tenant_id: string;
  resource_type: string;
  upstream_id: string;
  fhir_id: string;
  created_at: string;
}

/** Progress and health of one sync stream of one tenant. */
export interface SyncStateTable {
  tenant_id: string;
  stream: string;
  cursor: string | null;
  last_attempt_at: string | null;
  last_success_at: string | null;
  last_error: string | null;
  consecutive_failures: number;
  health: string;
  updated_at: string;
}

/**
 * The last journal sequence number handed out per tenant. Incremented inside the writing transaction, so a
 * rolled-back write gives its numbers back (no gaps) and concurrent writers queue on the row (no duplicates).
 */
export interface JournalCountersTable {
  tenant_id: string;
  last_seq: number;
}

/** The change journal: one row per event, sequence monotonic and gap-free per tenant. */
export interface ChangeJournalTable {
  tenant_id: string;
  seq: number;
  event_type: string;
  resource_type: string | null;
  resource_id: string | null;
  version_id: number | null;
  occurred_at: string;
  payload: string | null;
}

/** One pending or finished delivery of one journal event to one subscription. */
export interface OutboxTable {
  tenant_id: string;
  subscription_id: string;
  seq: number;
  attempts: number;
  next_attempt_at: string;
  last_status: number | null;
  last_error: string | null;
  delivered_at: string | null;
  dead_lettered_at: string | null;
  created_at: string;
}

/** The kysely database type of the store. */
export interface Database {
  resources: ResourcesTable;
  resource_history: ResourceHistoryTable;
  search_tokens: SearchTokensTable;
  upstream_ids: UpstreamIdsTable;
  sync_state: SyncStateTable;
  journal_counters: JournalCountersTable;
  change_journal: ChangeJournalTable;
  outbox: OutboxTable;
}
