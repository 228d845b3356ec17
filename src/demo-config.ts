/**
 * The demo's configuration (DESIGN.md section 2): what `npm start` runs — the tenants on the simulators, the demo
 * token, the simulator ports and URLs from the environment. The configuration schema itself is `config.ts`.
 */
import { existsSync, linkSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { demoFhirTenant } from './config-fhir-connector.js';
import { ConfigError, envOverrides, parseConfig, type Config, type Env } from './config.js';
import { demoPracticeSchedule } from './sim/demo-practice.js';
import { generateSecretKeyText } from './store/secret-box.js';
import { parseStoreUrl } from './store/store-url.js';

const DEMO_DATABASE = './data/switchboard.sqlite';

/**
 * The demo's key of secrets at rest (issue 15 item 5) when the environment gives none: `secret.key` in the data
 * folder (beside the SQLite file, else `./data`), written with a new random key on first use; demos starting
 * together on one folder end up with the same key.
 */
export function demoSecretKeyFile(databaseUrl: string): string {
  let folder = './data';
  try {
    const location = parseStoreUrl(databaseUrl);
    if (location.dialect === 'sqlite' && location.filename !== ':memory:')
      folder = dirname(location.filename);
  } catch {
    // An invalid DATABASE_URL is reported by the configuration's validation.
  }
  const file = join(folder, 'secret.key');
  mkdirSync(folder, { recursive: true });
  if (existsSync(file)) return file;
  // Written aside, then linked into place: a demo starting at the same moment sees no file or a whole one.
  const draft = `${file}.${process.pid}.${Date.now()}`;
  writeFileSync(draft, `${generateSecretKeyText()}\n`, { mode: 0o600 });
  try {
    linkSync(draft, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(draft);
  }
  return file;
}

/**
 * The demo configuration: tenant `demo` on the simulated firm `riverside`, polled every 2 s, and with a FHIR
 * simulator's URL also tenant `demo-fhir` on its firm `riverside` (issue 12); the demo token covers both.
 */
export function demoConfig(simBaseUrl: string, env: Env, fhirSimBaseUrl?: string): Config {
  const demoToken = env.SWITCHBOARD_DEMO_TOKEN || 'demo-token';
  const fhirTenants =
    fhirSimBaseUrl === undefined ? [] : [demoFhirTenant(fhirSimBaseUrl, { hours: demoPracticeSchedule() })];
  return parseConfig(
    {
      port: 8080,
      tenants: [
        {
          id: 'demo',
          name: 'Riverside Family Medicine',
          connector: {
            kind: 'sim',
            baseUrl: simBaseUrl,
            firm: 'riverside',
            username: 'switchboard',
            password: 'demo-password',
          },
          sync: { hotIntervalSeconds: 2, warmIntervalSeconds: 60, patientsIntervalSeconds: 10 },
        },
        ...fhirTenants,
      ],
      clients: [
        {
          id: 'demo-client',
          token: demoToken,
          scopes: ['system/*.cruds'],
          tenants: ['demo', ...fhirTenants.map((t) => t.id)],
        },
        // The operator console's sign-in (issue 15); it may also read the FHIR API of every demo tenant.
        {
          id: 'demo-operator',
          token: demoOperatorToken(env),
          scopes: ['system/*.rs'],
          tenants: ['*'],
          operator: true,
        },
      ],
      // Demo receivers run on this machine; retries are short so a demo shows dead letters in minutes.
      webhooks: {
        allowlist: ['127.0.0.0/8', '::1/128', 'localhost'],
        retry: { baseDelayMs: 1_000, maxDelayMs: 30_000, maxAgeSeconds: 600, maxAttempts: 20 },
        disableAfterSeconds: 1_800,
      },
      ...envOverrides(env),
      ...(env.SWITCHBOARD_SECRET_KEY || env.SWITCHBOARD_SECRET_KEY_FILE
        ? {}
        : { secretKeyFile: demoSecretKeyFile(env.DATABASE_URL || DEMO_DATABASE) }),
    },
    env,
  );
}

/** The demo's operator token: `SWITCHBOARD_DEMO_OPERATOR_TOKEN`, else `demo-operator-token`. */
export const demoOperatorToken = (env: Env): string =>
  env.SWITCHBOARD_DEMO_OPERATOR_TOKEN || 'demo-operator-token';

function portFromEnv(env: Env, name: string, fallback: number): number {
  const port = env[name] === undefined ? fallback : Number(env[name]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`invalid configuration:\n  ${name}: not a port number: ${env[name]}`);
  }
  return port;
}

function httpUrlFromEnv(env: Env, name: string): string | undefined {
  const value = env[name];
  if (!value) return undefined;
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol))
    throw new ConfigError(`invalid configuration:\n  ${name}: not an http(s) URL: ${value}`);
  return value.replace(/\/+$/, '');
}

/**
 * What `npm start` runs: the sim ports (`SIM_PORT`, default 4010; `FHIR_SIM_PORT`, default 4011), the demo token;
 * `simUrl` (`SIM_URL`, issue 11) when the demo joins a simulator that is already running instead of starting its
 * own (several instances share one); and the FHIR simulator to use (issue 12) — `FHIR_SIM_URL` joins a running
 * one; without it, an instance that joins a shared proprietary simulator runs no FHIR simulator and no `demo-fhir`
 * tenant, and any other starts its own.
 */
export function demoSettings(env: Env): {
  simPort: number;
  fhirSimPort: number;
  demoToken: string;
  operatorToken: string;
  simUrl?: string;
  fhirSim: { mode: 'start' } | { mode: 'join'; url: string } | { mode: 'off' };
} {
  const simUrl = httpUrlFromEnv(env, 'SIM_URL');
  const fhirSimUrl = httpUrlFromEnv(env, 'FHIR_SIM_URL');
  return {
    simPort: portFromEnv(env, 'SIM_PORT', 4010),
    fhirSimPort: portFromEnv(env, 'FHIR_SIM_PORT', 4011),
    demoToken: env.SWITCHBOARD_DEMO_TOKEN || 'demo-token',
    operatorToken: demoOperatorToken(env),
    ...(simUrl ? { simUrl } : {}),
    fhirSim: fhirSimUrl ? { mode: 'join', url: fhirSimUrl } : simUrl ? { mode: 'off' } : { mode: 'start' },
  };
}
