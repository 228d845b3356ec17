/**
 * The one place configuration comes from (DESIGN.md section 7): a JSON file and the environment, validated with
 * zod. Secrets come from the environment or files, never from code. This is the only module that reads
 * `process.env`; everything else receives a {@link Config}.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  fhirAuthSecretProblems,
  fhirConnectorSchema,
  fhirWorkingHoursProblems,
  resolveFhirConnector,
  type FhirConnectorSettings,
} from './config-fhir-connector.js';
import { clientSchema, oneSecret } from './config-clients.js';
import { ConfigError, configId, type Env } from './config-basics.js';
import { readSecretKeys } from './config-secret-keys.js';
import {
  metricsSchema,
  rateLimitSchema,
  retentionSchema,
  scaleOutSchema,
  webhooksSchema,
  type MetricsSettings,
  type RateLimitSettings,
  type RetentionSettings,
  type ScaleOutSettings,
  type WebhookSettings,
} from './config-service-blocks.js';
import { isKnownZone } from './wall-time.js';

const id = configId;

const syncSchema = z.strictObject({
  /** Today … +hotWindowDays of appointments and blocks, polled often. */
  hotIntervalSeconds: z.number().positive().default(5),
  hotWindowDays: z.number().int().positive().default(14),
  /** The rest of the booking horizon, polled less often. */
  warmIntervalSeconds: z.number().positive().default(300),
  horizonDays: z.number().int().positive().default(90),
  patientsIntervalSeconds: z.number().positive().default(60),
  referenceIntervalSeconds: z.number().positive().default(3600),
  /** A stream whose last success is older than this many poll intervals is lagging; failing after `failingAfter` errors. */
  laggingAfterIntervals: z.number().positive().default(3),
  failingAfterErrors: z.number().int().positive().default(3),
});

const bookingSchema = z.strictObject({
  /** No slot is offered, and no booking accepted, closer to now than this. */
  minimumNoticeMinutes: z.number().int().min(0).default(60),
  /** How far ahead slots are offered and bookings accepted; at most the synced horizon. */
  horizonDays: z.number().int().positive().default(90),
  /**
   * A booking identical to one the same client made in the last this many minutes (same patient, practitioner,
   * start and type) is answered with that appointment (200, `duplicate-request`) instead of `409`: agent platforms
   * retry a slow tool call with the same arguments and no idempotency key. 0 turns it off.
   */
  identicalRetryWindowMinutes: z.number().int().min(0).default(10),
  /**
   * How long a booking may take before it is answered `202 booking-pending` (its saga goes on; the same
   * Idempotency-Key gives the final answer). Default {@link DEFAULT_RESPONSE_DEADLINE_MS}.
   */
  responseDeadlineMs: z.number().int().positive().optional(),
});

/**
 * Default of `booking.responseDeadlineMs`: voice-agent platforms give a tool call about 2.5 s (one popular
 * platform's default), then retry without a key; 2 s leaves half a second for the network and the agent's own
 * overhead, so the agent hears "being confirmed" instead of timing out and double-booking.
 */
export const DEFAULT_RESPONSE_DEADLINE_MS = 2_000;

const simConnectorSchema = z
  .strictObject({
    kind: z.literal('sim'),
    baseUrl: z.url({ protocol: /^https?$/ }),
    firm: id,
    username: z.string().min(1),
    password: z.string().min(1).optional(),
    passwordEnv: z.string().min(1).optional(),
    passwordFile: z.string().min(1).optional(),
    /** Per-call timeout towards the records system. */
    timeoutMs: z.number().int().positive().default(10_000),
    /** Calls in flight per tenant (cockatiel bulkhead). */
    maxConcurrency: z.number().int().positive().default(4),
  })
  .refine(oneSecret('password'), {
    message: 'give exactly one of password, passwordEnv, passwordFile',
    path: ['password'],
  });

const checkedFhirConnectorSchema = fhirConnectorSchema.superRefine((c, ctx) => {
  for (const problem of fhirAuthSecretProblems(c.auth as Record<string, unknown>)) {
    ctx.addIssue({ code: 'custom', message: problem.message, path: ['auth', problem.path] });
  }
  for (const problem of fhirWorkingHoursProblems(c)) ctx.addIssue({ code: 'custom', ...problem });
});

const tenantSchema = z.strictObject({
  id,
  name: z.string().min(1).optional(),
  connector: z.discriminatedUnion('kind', [simConnectorSchema, checkedFhirConnectorSchema]),
  /** Overrides the zone the records system reports; IANA name. */
  timezone: z
    .string()
    .refine((zone) => isKnownZone(zone), 'an IANA time zone such as America/New_York')
    .optional(),
  sync: syncSchema.default(syncSchema.parse({})),
  booking: bookingSchema.default(bookingSchema.parse({})),
  /**
   * The records system's published call limit per minute (default ModMed's 1,250): the operator console and
   * `/metrics` show the share of it in use. Switchboard does not enforce it; it honours the system's 429s.
   */
  upstreamRateLimitPerMinute: z.number().int().positive().default(1250),
});

const fileSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  /** A file path, `sqlite:` URL or `postgres://` URL. */
  databaseUrl: z.string().min(1).default('./data/switchboard.sqlite'),
  /** The URL clients reach this server at, for links in Bundles; defaults to http://host:port. */
  publicBaseUrl: z.url().optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  tenants: z.array(tenantSchema).min(1),
  clients: z.array(clientSchema).default([]),
  webhooks: webhooksSchema.default(webhooksSchema.parse({})),
  scaleOut: scaleOutSchema.default(scaleOutSchema.parse({})),
  rateLimit: rateLimitSchema.default(rateLimitSchema.parse({})),
  retention: retentionSchema.default(retentionSchema.parse({})),
  /**
   * A file holding the key that encrypts the secrets kept in the store (issue 15 item 5): first line the current
   * key, further lines previous keys (still decrypt, during a rotation). `SWITCHBOARD_SECRET_KEY` or
   * `SWITCHBOARD_SECRET_KEY_FILE` in the environment take precedence.
   */
  secretKeyFile: z.string().min(1).optional(),
  metrics: metricsSchema.default(metricsSchema.parse({})),
});

export type SyncSettings = z.output<typeof syncSchema>;
export type BookingSettings = z.output<typeof bookingSchema>;
export type {
  MetricsSettings,
  RateLimitSettings,
  RetentionSettings,
  ScaleOutSettings,
  WebhookSettings,
} from './config-service-blocks.js';

export interface SimConnectorSettings {
  kind: 'sim';
  baseUrl: string;
  firm: string;
  username: string;
  /** Resolved from the inline value, the environment or the file. */
  password: string;
  timeoutMs: number;
  maxConcurrency: number;
}

export type { FhirConnectorSettings };

/** The records system a tenant is connected to, by kind (src/connectors/create-connector.ts builds it). */
export type ConnectorSettings = SimConnectorSettings | FhirConnectorSettings;

export interface TenantConfig {
  id: string;
  name: string;
  connector: ConnectorSettings;
  timezone?: string;
  sync: SyncSettings;
  booking: BookingSettings;
  /** The records system's call limit per minute, for the console's and metrics' budget figure. */
  upstreamRateLimitPerMinute: number;
}

/** The tenant's proprietary-simulator settings; throws for a tenant of another kind (tests and benchmarks). */
export function simSettingsOf(tenant: TenantConfig): SimConnectorSettings {
  if (tenant.connector.kind !== 'sim') throw new TypeError(`tenant ${tenant.id} is not a sim tenant`);
  return tenant.connector;
}

export interface ClientConfig {
  id: string;
  /** SHA-256 of the static bearer token; absent for a SMART Backend Services client (`jwks`). */
  tokenSha256?: string;
  scopes: string[];
  tenants: string[];
  /** Public keys of a SMART Backend Services client (inline JWKS). */
  jwks?: { keys: Array<Record<string, unknown>> };
  /** Sees and manages every client's Subscriptions of its tenants. */
  operator?: boolean;
}

export interface Config {
  host: string;
  port: number;
  databaseUrl: string;
  publicBaseUrl?: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  tenants: TenantConfig[];
  clients: ClientConfig[];
  webhooks: WebhookSettings;
  scaleOut: ScaleOutSettings;
  rateLimit: RateLimitSettings;
  retention: RetentionSettings;
  /**
   * Keys of the secrets at rest: the first encrypts, every one decrypts (previous keys during a rotation). Empty
   * when none is configured: the server then refuses to create webhook subscriptions, and refuses to start on a
   * store that holds secrets.
   */
  secretKeys: Buffer[];
  metrics: MetricsSettings;
}

/** The input shape of a configuration file (defaults not yet applied). */
export type ConfigInput = z.input<typeof fileSchema>;

export { ConfigError, type Env } from './config-basics.js';

function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
    '',
  );
}

function readSecret(
  where: string,
  inline: string | undefined,
  envName: string | undefined,
  file: string | undefined,
  env: Env,
): string {
  if (inline !== undefined) return inline;
  if (envName !== undefined) {
    const value = env[envName];
    if (!value) throw new ConfigError(`${where}Env: environment variable ${envName} is not set`);
    return value;
  }
  try {
    return readFileSync(file ?? '', 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`${where}File: cannot read ${file}: ${(err as Error).message}`);
  }
}

export const sha256Hex = (value: string): string => createHash('sha256').update(value).digest('hex');

/**
 * Validates a configuration object (from a file or built in code) and resolves its secrets.
 * @throws ConfigError whose message names each invalid field (`tenants[0].connector.baseUrl: Invalid URL`).
 */
export function parseConfig(input: unknown, env: Env = {}): Config {
  const result = fileSchema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map(
      (issue) => `${fieldPath(issue.path) || '(root)'}: ${issue.message}`,
    );
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const raw = result.data;
  const seen = new Set<string>();
  raw.tenants.forEach((t, i) => {
    if (seen.has(t.id))
      throw new ConfigError(`invalid configuration:\n  tenants[${i}].id: duplicate tenant ${t.id}`);
    seen.add(t.id);
  });
  const tenants = raw.tenants.map((t, i): TenantConfig => {
    const c = t.connector;
    const base = {
      id: t.id,
      name: t.name ?? t.id,
      timezone: t.timezone,
      sync: t.sync,
      booking: t.booking,
      upstreamRateLimitPerMinute: t.upstreamRateLimitPerMinute,
    };
    if (c.kind === 'fhir') {
      return {
        ...base,
        connector: resolveFhirConnector(c, `tenants[${i}].connector`, (where, inline, envName, file) =>
          readSecret(where, inline, envName, file, env),
        ),
      };
    }
    return {
      ...base,
      connector: {
        kind: c.kind,
        baseUrl: c.baseUrl.replace(/\/+$/, ''),
        firm: c.firm,
        username: c.username,
        timeoutMs: c.timeoutMs,
        maxConcurrency: c.maxConcurrency,
        password: readSecret(
          `tenants[${i}].connector.password`,
          c.password,
          c.passwordEnv,
          c.passwordFile,
          env,
        ),
      },
    };
  });
  const clients = raw.clients.map((c, i): ClientConfig => {
    for (const tenant of c.tenants) {
      if (tenant !== '*' && !seen.has(tenant)) {
        throw new ConfigError(`invalid configuration:\n  clients[${i}].tenants: unknown tenant ${tenant}`);
      }
    }
    const common = { id: c.id, scopes: c.scopes, tenants: c.tenants, operator: c.operator };
    if (c.jwks) return { ...common, jwks: c.jwks };
    const tokenSha256 =
      c.tokenSha256 ?? sha256Hex(readSecret(`clients[${i}].token`, c.token, c.tokenEnv, c.tokenFile, env));
    return { ...common, tokenSha256 };
  });
  return {
    host: raw.host,
    port: raw.port,
    databaseUrl: raw.databaseUrl,
    publicBaseUrl: raw.publicBaseUrl?.replace(/\/+$/, ''),
    logLevel: raw.logLevel,
    tenants,
    clients,
    webhooks: raw.webhooks,
    scaleOut: raw.scaleOut,
    rateLimit: raw.rateLimit,
    retention: raw.retention,
    secretKeys: readSecretKeys(raw.secretKeyFile, env),
    metrics: raw.metrics,
  };
}

/** Environment overrides that apply to any configuration (DESIGN.md section 2). */
export function envOverrides(env: Env): Partial<ConfigInput> {
  const out: Partial<ConfigInput> = {};
  if (env.PORT !== undefined) out.port = Number(env.PORT);
  if (env.HOST) out.host = env.HOST;
  if (env.DATABASE_URL) out.databaseUrl = env.DATABASE_URL;
  if (env.PUBLIC_BASE_URL) out.publicBaseUrl = env.PUBLIC_BASE_URL;
  if (env.LOG_LEVEL) out.logLevel = env.LOG_LEVEL as ConfigInput['logLevel'];
  const scaleOut = {
    ...(env.SWITCHBOARD_LEASE_TTL_MS ? { leaseTtlMs: Number(env.SWITCHBOARD_LEASE_TTL_MS) } : {}),
    ...(env.SWITCHBOARD_LEASE_RENEW_MS
      ? { leaseRenewIntervalMs: Number(env.SWITCHBOARD_LEASE_RENEW_MS) }
      : {}),
    ...(env.SWITCHBOARD_INSTANCE_ID ? { instanceId: env.SWITCHBOARD_INSTANCE_ID } : {}),
    ...(env.SWITCHBOARD_RECOVERY_INTERVAL_MS
      ? { recoveryIntervalMs: Number(env.SWITCHBOARD_RECOVERY_INTERVAL_MS) }
      : {}),
    ...(env.SWITCHBOARD_SAGA_ABANDONED_MS
      ? { sagaAbandonedAfterMs: Number(env.SWITCHBOARD_SAGA_ABANDONED_MS) }
      : {}),
  };
  if (Object.keys(scaleOut).length > 0) out.scaleOut = scaleOut;
  if (env.SWITCHBOARD_METRICS_OPEN !== undefined)
    out.metrics = { open: ['1', 'true', 'yes'].includes(env.SWITCHBOARD_METRICS_OPEN.toLowerCase()) };
  if (env.SWITCHBOARD_RATE_PER_SECOND) {
    const ratePerSecond = Number(env.SWITCHBOARD_RATE_PER_SECOND);
    // The burst follows: two seconds' worth, as the defaults (20/s, 40).
    out.rateLimit = { ratePerSecond, burst: Math.max(1, Math.round(ratePerSecond * 2)) };
  }
  return out;
}

/**
 * Loads the configuration for `switchboard serve`: the JSON file named by `path` (or `SWITCHBOARD_CONFIG`),
 * with `PORT`, `HOST`, `DATABASE_URL`, `PUBLIC_BASE_URL` and `LOG_LEVEL` from the environment taking precedence.
 */
export function loadConfigFile(path: string | undefined, env: Env = process.env): Config {
  const file = path ?? env.SWITCHBOARD_CONFIG;
  if (!file) throw new ConfigError('no configuration: pass --config FILE or set SWITCHBOARD_CONFIG');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read configuration ${file}: ${(err as Error).message}`);
  }
  const base = typeof json === 'object' && json !== null ? json : {};
  const overrides = envOverrides(env);
  const fileScaleOut = (base as { scaleOut?: unknown }).scaleOut;
  if (overrides.scaleOut && typeof fileScaleOut === 'object' && fileScaleOut !== null)
    overrides.scaleOut = { ...fileScaleOut, ...overrides.scaleOut };
  return parseConfig({ ...base, ...overrides }, env);
}

/** `receive-webhooks`' signing secrets when no `--secret` is given: `SWITCHBOARD_WEBHOOK_SECRETS`, comma-separated. */
export function webhookSecretsFromEnvironment(env: Env = process.env): string[] {
  return (env.SWITCHBOARD_WEBHOOK_SECRETS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** The bearer token of `switchboard mcp` when `--token` is not given (kept out of the process list). */
export function mcpTokenFromEnvironment(env: Env = process.env): string | undefined {
  return env.SWITCHBOARD_TOKEN || undefined;
}
