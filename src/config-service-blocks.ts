/**
 * The service-wide blocks of the configuration file (DESIGN.md section 7): `webhooks`, `scaleOut`, `rateLimit`,
 * `retention` and `metrics`, with their defaults. Part of src/config.ts, kept apart for size; src/config.ts
 * assembles the file's schema and is still the only reader of the environment.
 */
import { z } from 'zod';
import { configId } from './config-basics.js';
import { parseAllowlistEntry } from './webhooks/delivery/endpoint-guard.js';

/** One `webhooks.allowlist` entry: a host name, `*.suffix`, an IP address or a CIDR. */
const allowlistEntry = z.string().refine((entry) => {
  try {
    parseAllowlistEntry(entry);
    return true;
  } catch {
    return false;
  }
}, 'a host name, *.domain, IP address or CIDR');

const webhookRetrySchema = z.strictObject({
  /** Delay after the first failed attempt; doubles with each further failure (with jitter). */
  baseDelayMs: z.number().positive().default(5_000),
  /** Ceiling of one delay (a longer `Retry-After` still wins). */
  maxDelayMs: z
    .number()
    .positive()
    .default(6 * 3600_000),
  /** How long a delivery is retried before it is dead-lettered: at least 3 days in production. */
  maxAgeSeconds: z
    .number()
    .positive()
    .default(3 * 24 * 3600),
  /** Attempts after which a delivery is dead-lettered even within maxAgeSeconds. */
  maxAttempts: z.number().int().positive().default(100),
});

export const webhooksSchema = z.strictObject({
  /**
   * Targets exempt from the SSRF rules (https only, public unicast addresses, allowed ports): host names,
   * `*.domain`, IP addresses or CIDRs. Empty in production; the demo allowlists loopback.
   */
  allowlist: z.array(allowlistEntry).default([]),
  /** Ports a target that is not allowlisted may use. */
  allowedPorts: z.array(z.number().int().min(1).max(65535)).min(1).default([443]),
  /** Hard deadline of one delivery (connect, TLS, upload, answer); a subscription's backport-timeout may lower it. */
  timeoutMs: z.number().int().positive().default(15_000),
  /** Deliveries in flight per endpoint (scheme://host:port), so one slow subscriber never delays another. */
  perEndpointConcurrency: z.number().int().positive().default(4),
  /** A subscription failing without a single success for longer than this is switched off. */
  disableAfterSeconds: z
    .number()
    .positive()
    .default(5 * 24 * 3600),
  /**
   * A subscription failing without a single success for longer than this is a needs-attention item on the
   * operator console (issue 15), long before it is switched off.
   */
  attentionAfterSeconds: z.number().positive().default(3600),
  /** How often the dispatcher looks for due deliveries, handshakes and heartbeats. */
  pollIntervalMs: z.number().int().positive().default(1_000),
  /** Deliveries looked at per tenant and poll. */
  batchSize: z.number().int().positive().default(100),
  /** Response body bytes read (then discarded) before the connection is dropped. */
  responseBodyLimitBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024),
  /** How long the previous secret keeps signing after a rotation. */
  secretOverlapSeconds: z
    .number()
    .positive()
    .default(24 * 3600),
  retry: webhookRetrySchema.default(webhookRetrySchema.parse({})),
});

export const scaleOutSchema = z.strictObject({
  /**
   * How long a tenant's work lease (sync streams and saga recovery) lives unless renewed: a dead holder's work
   * passes to another instance within this plus one renewal interval. PostgreSQL only (issue 11).
   */
  leaseTtlMs: z.number().int().positive().default(10_000),
  /** How often each instance heartbeats, renews its leases and rebalances tenants over the live instances. */
  leaseRenewIntervalMs: z.number().int().positive().default(2_000),
  /** This instance's id in leases, logs and metrics; generated at each start when absent. */
  instanceId: configId.optional(),
  /** How often saga recovery looks for abandoned sagas (on the instance holding each tenant's lease). */
  recoveryIntervalMs: z.number().int().positive().default(15_000),
  /**
   * A saga whose last step is older than this, and whose instance is gone, is finished or undone by recovery
   * (DESIGN.md section 4).
   */
  sagaAbandonedAfterMs: z.number().int().positive().default(60_000),
});

export const rateLimitSchema = z.strictObject({
  /** Requests per second one client may sustain on one tenant, across all instances (DESIGN.md section 7). */
  ratePerSecond: z.number().positive().default(20),
  /** The most requests a rested client may send at once. */
  burst: z.number().int().positive().default(40),
});

export const retentionSchema = z.strictObject({
  /** Pruning runs in the background; false keeps everything (the audit trail is never pruned either way). */
  enabled: z.boolean().default(true),
  /**
   * Change-journal events older than this many days go, unless a delivery still refers to them. The journal is
   * what `$events` replays and re-enabled subscriptions catch up from.
   */
  journalDays: z.number().positive().default(30),
  /** Delivered webhook deliveries older than this many days go (`$events` replays what is kept). */
  deliveredOutboxDays: z.number().positive().default(30),
  /** Resource versions beyond the last `historyVersions` of a resource, and older than `historyDays`, go. */
  historyVersions: z.number().int().min(1).default(10),
  historyDays: z.number().positive().default(30),
  /** Committed and released booking sagas older than this many days go (needs-attention ones stay). */
  finishedSagaDays: z.number().positive().default(30),
  /** Idempotency records older than this many hours go (and every one past its own expiry). */
  idempotencyHours: z.number().positive().default(24),
  /** How often a pruning round runs, per tenant, on the instance holding the tenant's work lease. */
  intervalSeconds: z.number().positive().default(300),
  /** Rows deleted per transaction: small, so a sync pass or a booking never waits long behind one. */
  batchSize: z.number().int().positive().default(500),
});

export const metricsSchema = z.strictObject({
  /**
   * Serve `/metrics` without operator authentication, for a Prometheus scraper on a private network (issue 15).
   * Off by default: the figures name tenants and show how busy each practice is.
   */
  open: z.boolean().default(false),
});

/** The `webhooks` block: SSRF allowlist, retry schedule, timeouts, concurrency (DESIGN.md section 6). */
export type WebhookSettings = z.output<typeof webhooksSchema>;
/** The `scaleOut` block: work-lease timings and the instance id (issue 11). */
export type ScaleOutSettings = z.output<typeof scaleOutSchema>;
/** The `rateLimit` block: the per-client limit of the FHIR facade. */
export type RateLimitSettings = z.output<typeof rateLimitSchema>;
/** The `retention` block: how long the journal, outbox, history, sagas and idempotency records are kept. */
export type RetentionSettings = z.output<typeof retentionSchema>;
/** The `metrics` block: who may read `/metrics`. */
export type MetricsSettings = z.output<typeof metricsSchema>;
