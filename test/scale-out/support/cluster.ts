/**
 * Several Switchboard instances as real child processes (`tsx src/main.ts demo` with `SIM_URL`, `DATABASE_URL`,
 * `PORT=0`, or `serve --config F` with a configuration of the test's own) on one simulated records system and one
 * fresh PostgreSQL database (issue 11). Short lease timings
 * (`SWITCHBOARD_LEASE_TTL_MS`, `SWITCHBOARD_LEASE_RENEW_MS`) keep failover fast; an instance can be killed with
 * SIGKILL (no cleanup of any kind) and new ones started at any time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface ClusterInstance {
  /** `http://127.0.0.1:{port}`. */
  readonly url: string;
  /** The id it logged at start (and reports on /readyz). */
  readonly id: string;
  readonly process: ChildProcess;
  /** Whether it is still running (not killed, not exited). */
  alive(): boolean;
  /** SIGKILL: no signal handler, no lease release, no cleanup. */
  kill9(): Promise<void>;
  /** SIGTERM: a clean stop (leases released). */
  stop(): Promise<void>;
  /** What it wrote to stderr (for a failing test's message). */
  stderr(): string;
}

export interface Cluster {
  readonly databaseUrl: string;
  readonly instances: ClusterInstance[];
  start(): Promise<ClusterInstance>;
  /** Kills every instance still running and drops the database. */
  dispose(): Promise<void>;
}

export interface ClusterOptions {
  /**
   * The admin connection (`TEST_DATABASE_URL`): a fresh database is created beside it. Or a SQLite file of the
   * test's own (`sqlite:{path}`), for a single instance.
   */
  adminUrl: string | { sqlite: string };
  simUrl: string;
  leaseTtlMs?: number;
  leaseRenewMs?: number;
  env?: Record<string, string>;
  /** A configuration file to `serve` instead of the demo (its database and port come from the environment). */
  configFile?: string;
}

export async function createCluster(options: ClusterOptions): Promise<Cluster> {
  const name = `switchboard_scale_${randomBytes(6).toString('hex')}`;
  const { adminUrl } = options;
  if (typeof adminUrl === 'string') await adminQuery(adminUrl, `create database "${name}"`);
  const databaseUrl = typeof adminUrl === 'string' ? withDatabase(adminUrl, name) : adminUrl.sqlite;
  const instances: ClusterInstance[] = [];

  async function start(): Promise<ClusterInstance> {
    const command = options.configFile ? ['serve', '--config', options.configFile] : ['demo'];
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...command], {
      cwd: ROOT,
      env: {
        ...process.env,
        SIM_URL: options.simUrl,
        DATABASE_URL: databaseUrl,
        PORT: '0',
        LOG_LEVEL: 'info',
        SWITCHBOARD_LEASE_TTL_MS: String(options.leaseTtlMs ?? 2_000),
        SWITCHBOARD_LEASE_RENEW_MS: String(options.leaseRenewMs ?? 500),
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let exited = false;
    const exit = new Promise<void>((resolve) =>
      child.once('exit', () => {
        exited = true;
        resolve();
      }),
    );
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-20_000);
    });
    const ready = new Promise<{ url: string; id: string }>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        stdout += chunk.toString();
        // The demo prints its URL and instance id; `serve` logs them (pino JSON) when it listens.
        const listening = /^\{.*"msg":"switchboard listening".*\}$/m.exec(stdout)?.[0];
        const logged = listening ? (JSON.parse(listening) as { url?: string; instance?: string }) : {};
        const url = logged.url ?? /FHIR base URL\s+(http:\/\/\S+)\/fhir\/demo/.exec(stdout)?.[1];
        const id = logged.instance ?? /^\s+instance\s+(\S+)$/m.exec(stdout)?.[1];
        if (url && id) {
          child.stdout?.off('data', onData);
          // Keep draining the pipe so a chatty log never blocks the child.
          child.stdout?.on('data', () => undefined);
          resolve({ url, id });
        }
      };
      child.stdout?.on('data', onData);
      void exit.then(() => reject(new Error(`instance exited before it was up:\n${stderr}\n${stdout}`)));
    });
    const { url, id } = await ready;
    const instance: ClusterInstance = {
      url,
      id,
      process: child,
      alive: () => !exited,
      async kill9() {
        if (!exited) child.kill('SIGKILL');
        await exit;
      },
      async stop() {
        if (!exited) child.kill('SIGTERM');
        await exit;
      },
      stderr: () => stderr,
    };
    instances.push(instance);
    return instance;
  }

  return {
    databaseUrl,
    instances,
    start,
    async dispose() {
      await Promise.all(instances.map((i) => i.kill9()));
      if (typeof adminUrl === 'string') {
        await adminQuery(adminUrl, `drop database if exists "${name}" with (force)`);
      }
    },
  };
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Polls `probe` every `intervalMs` until it returns a value (not undefined), at most `attempts` times. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  { attempts = 240, intervalMs = 250 }: { attempts?: number; intervalMs?: number } = {},
): Promise<T> {
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`never happened: ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
}
