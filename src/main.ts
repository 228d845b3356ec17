#!/usr/bin/env node
/**
 * The `switchboard` command line: `demo` (what `npm start` runs), `serve`, `sim`, `migrate`.
 * DESIGN.md section 2 fixes what the demo starts and prints.
 */
import { parseArgs } from 'node:util';
import { createApp, type App } from './app.js';
import {
  ConfigError,
  loadConfigFile,
  mcpTokenFromEnvironment,
  webhookSecretsFromEnvironment,
  type Config,
} from './config.js';
import { isPortInUse, portInUseMessage } from './port-in-use.js';
import { demoConfig, demoSettings } from './demo-config.js';
import { createLogger, type Logger } from './logger.js';
import { startDemoFhirSim } from './fhir-sim/demo-fhir-sim.js';
import { startDemoSim, type RunningSim } from './sim/demo-sim.js';
import { startExampleReceiver } from './webhooks/example-receiver.js';
import { startStdioBridge } from '../mcp/stdio-bridge.js';
import { openStore } from './store/database.js';
import { migrateToLatest } from './store/migrate.js';
import { exportAuditTrail } from './audit/audit-export.js';
import { sealSecretsAtRest } from './webhooks/subscriptions/secrets-at-rest.js';

const USAGE = `usage: switchboard <command> [options]

commands:
  demo                 the simulated records systems (proprietary and FHIR, firm riverside) and Switchboard
                       (tenants demo and demo-fhir) in one process; with $SIM_URL set, joins that simulator
                       instead of starting one (and runs no FHIR simulator unless $FHIR_SIM_URL names one)
  serve  [--config F]  Switchboard with the configuration file F (or $SWITCHBOARD_CONFIG)
  sim    [--port N] [--host H]
                       the simulated records system alone (default port $SIM_PORT or 4010, host 127.0.0.1)
  fhir-sim [--port N]  the FHIR records-system simulator alone (default port $FHIR_SIM_PORT or 4011)
  migrate [--config F] bring the store's schema up to date, encrypt its secrets with the current key
                       (SWITCHBOARD_SECRET_KEY or _FILE; completes a key rotation) and exit
  sync --once [--config F] [--tenant T]
                       one pass of every sync stream (reference data, hot and warm windows, patients), then exit
  mcp --url U --token T
                       MCP over stdio for desktop agents, bridged to the running Switchboard at U
                       (http://host:port/mcp/{tenant}) with bearer token T (or $SWITCHBOARD_TOKEN)
  audit-export --since T [--until T] [--tenant ID] [--config F]
                       the audit trail (never pruned) recorded from T (ISO date or date-time, UTC) as NDJSON on
                       standard output, oldest first, with its hash chain: for archiving
  receive-webhooks --port N --secret whsec_… [--secret whsec_…]
                       an example webhook receiver: verifies signatures, prints each event, answers 204;
                       the secrets may come from $SWITCHBOARD_WEBHOOK_SECRETS (comma-separated) instead

options:
  -h, --help           this text

environment: PORT (8080), SIM_PORT (4010), FHIR_SIM_PORT (4011), DATABASE_URL, SWITCHBOARD_DEMO_TOKEN,
  SWITCHBOARD_DEMO_OPERATOR_TOKEN, SWITCHBOARD_CONFIG, LOG_LEVEL (see the README)
`;

/** A bad command line (unknown option, missing value) from `parseArgs`. */
function isArgumentError(err: unknown): err is Error {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

type Stoppable = { stop(): Promise<void> };

/** Stops everything on Ctrl-C / SIGTERM, in reverse order of start, then exits. */
function stopOnSignal(logger: Logger, parts: Stoppable[]): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    void (async () => {
      for (const part of [...parts].reverse()) await part.stop();
      process.exit(0);
    })();
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

/** The FHIR records-system simulator the demo starts, or none when it joins one or runs without it. */
async function startFhirSimFor(
  fhirSim: ReturnType<typeof demoSettings>['fhirSim'],
  port: number,
): Promise<(Stoppable & { url: string }) | undefined> {
  return fhirSim.mode === 'start' ? startDemoFhirSim({ port }) : undefined;
}

async function serve(config: Config): Promise<App> {
  const app = createApp(config);
  await app.start();
  return app;
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      tenant: { type: 'string' },
      once: { type: 'boolean' },
      secret: { type: 'string', multiple: true },
      url: { type: 'string' },
      token: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (!command || values.help || command === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  switch (command) {
    case 'demo': {
      const settings = demoSettings(process.env);
      portSettings.set(settings.simPort, 'SIM_PORT');
      portSettings.set(settings.fhirSimPort, 'FHIR_SIM_PORT');
      portSettings.set(Number(process.env.PORT ?? 8080), 'PORT');
      // SIM_URL: join a simulator already running (several instances, one records system); else start one.
      const sim: Pick<RunningSim, 'url' | 'stop'> = settings.simUrl
        ? { url: settings.simUrl, stop: () => Promise.resolve() }
        : await startDemoSim({ port: settings.simPort });
      const fhirSim = await startFhirSimFor(settings.fhirSim, settings.fhirSimPort);
      const fhirSimUrl = settings.fhirSim.mode === 'join' ? settings.fhirSim.url : fhirSim?.url;
      const config = demoConfig(sim.url, process.env, fhirSimUrl);
      const app = createApp(config);
      const sims = fhirSim ? [sim, fhirSim] : [sim];
      try {
        await app.start();
      } catch (err) {
        for (const s of sims) await s.stop();
        throw err;
      }
      stopOnSignal(app.logger, [...sims, app]);
      process.stdout.write(
        [
          '',
          'Switchboard demo is running.',
          `  FHIR base URL   ${app.url}/fhir/demo`,
          `  operator console ${app.url}/status (operator token below)`,
          `  demo token      ${settings.demoToken}`,
          `  operator token  ${settings.operatorToken}`,
          `  records system  ${sim.url}/firm/riverside (simulated${settings.simUrl ? ', joined via SIM_URL' : ''})`,
          ...(fhirSimUrl
            ? [
                `  FHIR tenant     ${app.url}/fhir/demo-fhir`,
                `  FHIR records    ${fhirSimUrl}/firm/riverside/fhir (simulated FHIR R4 server)`,
              ]
            : []),
          `  instance        ${app.instanceId}`,
          '',
          `  try: curl -H 'Authorization: Bearer ${settings.demoToken}' ${app.url}/fhir/demo/metadata`,
          '  Ctrl-C stops everything.',
          '',
        ].join('\n'),
      );
      return;
    }
    case 'serve': {
      const config = loadConfigFile(values.config);
      portSettings.set(config.port, 'PORT (or "port" in the configuration file)');
      const app = await serve(config);
      stopOnSignal(app.logger, [app]);
      return;
    }
    case 'sim': {
      const port = values.port !== undefined ? Number(values.port) : demoSettings(process.env).simPort;
      portSettings.set(port, values.port !== undefined ? '--port' : 'SIM_PORT');
      const sim = await startDemoSim({ port, host: values.host });
      stopOnSignal(createLogger('info'), [sim]);
      process.stdout.write(
        `simulated records system: ${sim.url}/firm/riverside (switchboard / demo-password)\n`,
      );
      return;
    }
    case 'fhir-sim': {
      const port = values.port !== undefined ? Number(values.port) : demoSettings(process.env).fhirSimPort;
      portSettings.set(port, values.port !== undefined ? '--port' : 'FHIR_SIM_PORT');
      const sim = await startDemoFhirSim({ port });
      stopOnSignal(createLogger('info'), [sim]);
      process.stdout.write(
        `FHIR records-system simulator: ${sim.url}/firm/riverside/fhir ` +
          `(token ${sim.url}/firm/riverside/oauth/token, switchboard / demo-password)\n`,
      );
      return;
    }
    case 'migrate': {
      const config = loadConfigFile(values.config);
      const store = await openStore(config.databaseUrl, { secretKeys: config.secretKeys });
      try {
        await migrateToLatest(store);
        // Also what completes a key rotation without starting the server: everything sealed with the new key.
        await sealSecretsAtRest(store, createLogger(config.logLevel));
      } finally {
        await store.close();
      }
      process.stdout.write('store schema is up to date\n');
      return;
    }
    case 'sync': {
      if (!values.once)
        throw new ConfigError('sync runs one pass and exits: pass --once (the server syncs continuously)');
      const app = createApp(loadConfigFile(values.config), { schedule: false, listen: false });
      await app.start();
      try {
        const reports = await app.sync.runOnce(values.tenant);
        for (const r of reports) {
          const figures = r.result
            ? `written ${r.result.written}, unchanged ${r.result.unchanged}, deleted ${r.result.deleted}`
            : '';
          process.stdout.write(
            `${r.tenantId.padEnd(16)} ${r.stream.padEnd(12)} ${r.outcome.padEnd(7)} ${figures}${r.error ?? ''}\n`,
          );
        }
        if (reports.some((r) => r.outcome === 'failed')) process.exitCode = 1;
      } finally {
        await app.stop();
      }
      return;
    }
    case 'audit-export': {
      const config = loadConfigFile(values.config);
      const since = isoInstant('--since', values.since);
      const until = values.until === undefined ? undefined : isoInstant('--until', values.until);
      const tenants = values.tenant === undefined ? config.tenants.map((t) => t.id) : [values.tenant];
      const unknown = tenants.filter((t) => !config.tenants.some((c) => c.id === t));
      if (unknown.length > 0)
        throw new ConfigError(
          `--tenant ${unknown.join(', ')} is not configured (tenants: ${config.tenants.map((t) => t.id).join(', ')})`,
        );
      const store = await openStore(config.databaseUrl);
      try {
        let count = 0;
        for (const tenant of tenants) {
          count += await exportAuditTrail(store, tenant, { since, until }, writeStdout);
        }
        process.stderr.write(`exported ${count} audit event(s)\n`);
      } finally {
        await store.close();
      }
      return;
    }
    case 'mcp': {
      const token = values.token ?? mcpTokenFromEnvironment();
      if (!values.url || !token)
        throw new ConfigError(
          'mcp needs --url http://host:port/mcp/{tenant} and --token (or $SWITCHBOARD_TOKEN)',
        );
      const bridge = await startStdioBridge({ url: values.url, token });
      await bridge.closed;
      return;
    }
    case 'receive-webhooks': {
      // From the environment, the secrets stay out of the process list and the shell history.
      const secrets = values.secret ?? webhookSecretsFromEnvironment();
      if (secrets.length === 0)
        throw new ConfigError(
          'receive-webhooks needs --secret whsec_… (give it twice during a rotation) or $SWITCHBOARD_WEBHOOK_SECRETS (comma-separated)',
        );
      const port = values.port !== undefined ? Number(values.port) : 9000;
      portSettings.set(port, '--port');
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new ConfigError(`--port ${values.port ?? ''} is not a port number`);
      const receiver = await startExampleReceiver({ port, secrets });
      stopOnSignal(createLogger('info'), [{ stop: () => receiver.close() }]);
      process.stdout.write(`example webhook receiver listening on ${receiver.url}; Ctrl-C stops it\n`);
      return;
    }
    default:
      process.stderr.write(`unknown command: ${command}\n\n${USAGE}`);
      process.exitCode = 2;
  }
}

/** An ISO-8601 UTC instant from a date (`2026-01-01`) or a date-time given on the command line. */
function isoInstant(option: string, value: string | undefined): string {
  if (value === undefined)
    throw new ConfigError(`audit-export needs ${option} (an ISO date or date-time, UTC)`);
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(ms)) throw new ConfigError(`${option} ${value} is not an ISO date or date-time`);
  return new Date(ms).toISOString();
}

/** Writes to standard output, waiting when the pipe is full (a large export into `gzip` or a slow disk). */
async function writeStdout(line: string): Promise<void> {
  if (!process.stdout.write(line)) await new Promise((resolve) => process.stdout.once('drain', resolve));
}

/** Which setting chose each port this command listens on, for a port-in-use message. */
const portSettings = new Map<number, string>();

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`switchboard: ${err.message}\n`);
  } else if (isPortInUse(err)) {
    process.stderr.write(`switchboard: ${portInUseMessage(err, portSettings)}\n`);
  } else if (isArgumentError(err)) {
    process.stderr.write(`switchboard: ${err.message}\n\n${USAGE}`);
    process.exit(2);
  } else {
    process.stderr.write(`switchboard: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
