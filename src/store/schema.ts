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
  /** Hash of the upstream record this version was mapped from (with the mapping's inputs); null when unknown. */
  source_hash: string | null;
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
  /**
   * The source hash of the live resource under `fhir_id` (migration 0026; kept by `resource-writes.ts`): null when
   * there is none, it is deleted, or it was last written without one. What a sync pass's skip lookup reads.
   */
  source_hash: string | null;
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
  /** Migration 0003: the event's number in its subscription (`notification-event.event-number`). */
  event_number: number | null;
  /** Migration 0003: deliveries with the same key go out one at a time, in `seq` order (per-resource order). */
  order_key: string | null;
  /** Migration 0003: `Type/id` of the notification's focus, when it has one. */
  focus: string | null;
  /** Migration 0003: JSON array of `Type/id` references sent as `additional-context`. */
  context: string | null;
  /** Migration 0003: start of the retry window (enqueue or last redrive). */
  retry_started_at: string | null;
  /** Migration 0003: when the last attempt finished. */
  last_attempt_at: string | null;
}

/**
 * Migration 0003: what delivering to one webhook subscription needs at run time. The FHIR Subscription resource
 * itself is in `resources` (versioned); this row mirrors its channel and filters and adds secrets and counters.
 */
export interface SubscriptionsTable {
  tenant_id: string;
  id: string;
  /** `requested` (handshake pending) · `active` · `error` · `off`. */
  status: string;
  /** The SubscriptionTopic canonical URL. */
  topic: string;
  filter_patient: string | null;
  filter_practitioner: string | null;
  filter_location: string | null;
  /** Comma-separated status codes. */
  filter_status: string | null;
  endpoint: string;
  /** `empty` · `id-only` · `full-resource`. */
  payload_content: string;
  /** `application/fhir+json` (notification Bundles) or `application/json` (Standard Webhooks envelope). */
  content_type: string;
  /** JSON array of `Name: value` header lines. */
  headers: string | null;
  heartbeat_seconds: number | null;
  timeout_seconds: number | null;
  max_count: number | null;
  end_at: string | null;
  /** `whsec_…` signing secret. */
  secret: string;
  /** The secret before the last rotation, still signed with until `previous_secret_expires_at`. */
  previous_secret: string | null;
  previous_secret_expires_at: string | null;
  events_since_start: number;
  last_delivered_event: number;
  failing_since: string | null;
  last_error: string | null;
  /** Journal sequence through which events were matched when the subscription stopped being active. */
  paused_at_seq: number | null;
  last_notified_at: string | null;
  created_at: string;
  updated_at: string;
  /** The client that created it (issue 14): others of the tenant see it only as operators. Null before 0011. */
  owner_client_id: string | null;
  /** When a delivery last succeeded (2xx); null before 0013 or before the first success. */
  last_success_at: string | null;
}

/** A signed-in operator console session (issue 15): the SHA-256 of its random id, never the id itself. */
export interface OperatorSessionsTable {
  session_sha256: string;
  client_id: string;
  expires_at: string;
}

/** One failed webhook delivery attempt (issue 15): what the receiver answered, when, and why in a few words. */
export interface WebhookAttemptsTable {
  tenant_id: string;
  subscription_id: string;
  attempted_at: string;
  event_number: number | null;
  /** The HTTP status answered; null when there was no answer (timeout, refused connection, refused target). */
  status: number | null;
  reason: string;
}

/** One booking, cancellation or reschedule, persisted step by step (DESIGN.md section 4). */
export interface BookingSagasTable {
  tenant_id: string;
  id: string;
  kind: string;
  state: string;
  client_id: string | null;
  /** JSON of the validated request. */
  request: string;
  /** Correlation marker written upstream with the appointment. */
  marker: string;
  practitioner_id: string;
  start_at: string;
  end_at: string;
  appointment_id: string | null;
  upstream_id: string | null;
  error_code: string | null;
  error_detail: string | null;
  created_at: string;
  updated_at: string;
  /** A hold not finished by then is released by the recovery worker. */
  expires_at: string;
  /** The instance running the saga; recovery elsewhere leaves it alone while that instance is alive. */
  owner_instance: string | null;
}

/** A 5-minute bucket of a practitioner's time held by a saga. */
export interface BookingClaimsTable {
  tenant_id: string;
  practitioner_id: string;
  bucket_start: string;
  saga_id: string;
}

/**
 * How often the inputs of one owner's free time on one UTC day changed (issue 16 item 3): raised with every write
 * of an Appointment (owner `Practitioner/{id}`) or stored Slot (owner `Schedule/{id}`) touching that day. Rows are
 * never deleted, so a version never repeats.
 */
export interface AvailabilityVersionsTable {
  tenant_id: string;
  owner: string;
  /** `YYYY-MM-DD` (UTC), or `*` for every day (a change spanning more than a year). */
  day: string;
  version: number;
}

/** An appointment a cancel or reschedule saga is changing, at the version it started from. */
export interface BookingAppointmentClaimsTable {
  tenant_id: string;
  appointment_id: string;
  saga_id: string;
  version_id: number;
}

/** A request made with an `Idempotency-Key`, and the response to replay. */
export interface IdempotencyRecordsTable {
  tenant_id: string;
  client_id: string;
  idempotency_key: string;
  fingerprint: string;
  state: string;
  status: number | null;
  response: string | null;
  created_at: string;
  expires_at: string;
  /** The booking saga an `in-flight` key runs, fixed at the claim (migration 0020; null before, or none). */
  saga_id: string | null;
  /** The process that claimed the key (`BookingService.owner`; null before migration 0020). */
  owner: string | null;
}

/**
 * One attempt to create a patient upstream (issue 10 item 5), written before the write is sent: `writing` →
 * `written` (stored), `unknown` (the outcome is not known yet: reconcile by searching before any re-send),
 * `absent` (reconciled: nothing was created) or `failed` (the records system certainly did not act).
 */
export interface PatientRegistrationsTable {
  tenant_id: string;
  id: string;
  state: string;
  /** The person the attempt writes, as the connector searches for it (name, birth date, phone). */
  fingerprint: string;
  /** JSON of the FHIR Patient to write. */
  request: string;
  /** JSON array of the upstream ids matching the person before the write: never taken for the created one. */
  preexisting: string;
  client_id: string | null;
  upstream_id: string | null;
  patient_id: string | null;
  created_at: string;
  updated_at: string;
}

/** Who registers a tenant's patients right now; one row per tenant at most, taken over once expired. */
export interface PatientRegistrationLocksTable {
  tenant_id: string;
  holder: string;
  expires_at: string;
}

/** A running Switchboard instance; alive while its heartbeat is recent (issue 11). */
export interface InstancesTable {
  id: string;
  started_at: string;
  heartbeat_at_ms: number;
}

/** A work lease (one holder at a time) and its fencing epoch (issue 11). */
export interface LeasesTable {
  name: string;
  holder: string;
  epoch: number;
  expires_at_ms: number;
  acquired_at: string;
}

/** rate-limiter-flexible's counters (RateLimiterPostgres layout): requests of a key in its current window. */
export interface RateLimitsTable {
  key: string;
  points: number;
  /** End of the window, epoch milliseconds. */
  expire: number | null;
}

/** The kysely database type of the store. */
export interface SmartAccessTokensTable {
  token_sha256: string;
  tenant_id: string;
  client_id: string;
  /** Granted scopes, space-separated. */
  scopes: string;
  issued_at: string;
  expires_at: string;
}

export interface SmartAssertionJtisTable {
  client_id: string;
  jti: string;
  expires_at: string;
}

/**
 * Migration 0014: a known value sealed with the key of the store's secrets (`name = 'secret-key'`), so a start with
 * a missing or wrong key is refused.
 */
export interface SecretKeyChecksTable {
  name: string;
  /** Id of the key that sealed `sealed` (and, once the start-up pass ran, every secret in the store). */
  key_id: string;
  sealed: string;
  updated_at: string;
}

export interface Database {
  resources: ResourcesTable;
  resource_history: ResourceHistoryTable;
  search_tokens: SearchTokensTable;
  upstream_ids: UpstreamIdsTable;
  sync_state: SyncStateTable;
  journal_counters: JournalCountersTable;
  change_journal: ChangeJournalTable;
  outbox: OutboxTable;
  subscriptions: SubscriptionsTable;
  booking_sagas: BookingSagasTable;
  smart_access_tokens: SmartAccessTokensTable;
  smart_assertion_jtis: SmartAssertionJtisTable;
  booking_claims: BookingClaimsTable;
  booking_appointment_claims: BookingAppointmentClaimsTable;
  availability_versions: AvailabilityVersionsTable;
  idempotency_records: IdempotencyRecordsTable;
  patient_registrations: PatientRegistrationsTable;
  patient_registration_locks: PatientRegistrationLocksTable;
  instances: InstancesTable;
  leases: LeasesTable;
  rate_limits: RateLimitsTable;
  secret_key_checks: SecretKeyChecksTable;
  webhook_attempts: WebhookAttemptsTable;
  operator_sessions: OperatorSessionsTable;
}
