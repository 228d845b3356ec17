/**
 * The demo practice (simulated records system + Switchboard, as `npm start` runs it) on port 0 with a store of
 * either dialect, and MCP clients of the official SDK (`Client` + `StreamableHTTPClientTransport`) talking to
 * `/mcp/{tenant}` over real HTTP. Every tool result a test reads is validated against the tool's declared output
 * schema with ajv (the SDK's own validator dependency), independently of the SDK's check.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { JsonSchemaType } from '@modelcontextprotocol/sdk/validation';
import pg from 'pg';
import { expect } from 'vitest';
import { createApp, type App } from '../../../src/app.js';
import { type Config } from '../../../src/config.js';
import { demoConfig } from '../../../src/demo-config.js';
import { createLogger } from '../../../src/logger.js';
import { startDemoSim, type RunningSim } from '../../../src/sim/demo-sim.js';

export const DEMO_TOKEN = 'demo-token';

export interface McpDemo {
  app: App;
  sim: RunningSim;
  /** `{app}/mcp/demo`. */
  url: string;
  /** A connected MCP client with this bearer token (default the demo token: every scope). */
  client(token?: string, tenant?: string): Promise<McpTestClient>;
  stop(): Promise<void>;
}

export interface McpTestClient {
  sdk: Client;
  tools: Tool[];
  /** Calls a tool; a successful result's structuredContent is checked against the tool's outputSchema. */
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  /** Calls a tool that must succeed and answers its structuredContent. */
  ok<T = Record<string, unknown>>(name: string, args?: Record<string, unknown>): Promise<T>;
  /** Calls a tool that must fail and answers its error text. */
  error(name: string, args?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export interface DemoOptions {
  dialect: 'sqlite' | 'postgres';
  /** Extra clients: token → scopes (bound to tenant demo unless the scopes name tenants via `tenants`). */
  clients?: ReadonlyArray<{ id: string; token: string; scopes: string[]; tenants?: string[] }>;
  /** A second tenant (on the same sim firm) for isolation tests. */
  secondTenant?: boolean;
  /** The per-client rate limit (default: high enough for any agent script). */
  rateLimit?: Config['rateLimit'];
}

/** ajv 8 as the SDK ships it: JSON Schema 2020-12, the dialect of MCP tool schemas. */
const ajv = new AjvJsonSchemaValidator();

export async function startMcpDemo(options: DemoOptions): Promise<McpDemo> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-mcp-'));
  const sim = await startDemoSim({ port: 0 });
  const { databaseUrl, dropSchema } = await databaseFor(options.dialect, dir);
  const base = demoConfig(sim.url, {});
  const demo = base.tenants[0] as Config['tenants'][number];
  // A loaded test run must not meet the agent-facing response deadline (202 booking-pending) by accident, as in
  // test/support/sync-harness.ts; the deadline has its own tests.
  const demoTenant = { ...demo, booking: { ...demo.booking, responseDeadlineMs: 30_000 } };
  const config: Config = {
    ...base,
    port: 0,
    host: '127.0.0.1',
    databaseUrl,
    // An agent script calls tools back to back; the per-client limit (20/s) has its own tests.
    rateLimit: options.rateLimit ?? { ...base.rateLimit, ratePerSecond: 1000, burst: 2000 },
    tenants: options.secondTenant
      ? [demoTenant, { ...demoTenant, id: 'other', name: 'Other Practice' }]
      : [demoTenant],
    clients: [
      ...base.clients,
      ...(options.clients ?? []).map((c) => ({
        id: c.id,
        tokenSha256: createHash('sha256').update(c.token).digest('hex'),
        scopes: c.scopes,
        tenants: c.tenants ?? ['demo'],
      })),
    ],
  };
  const app = createApp(config, { logger: createLogger('silent') });
  await app.start();
  await untilReady(app);
  const clients: McpTestClient[] = [];
  return {
    app,
    sim,
    url: `${app.url}/mcp/demo`,
    async client(token = DEMO_TOKEN, tenant = 'demo') {
      const c = await connect(`${app.url}/mcp/${tenant}`, token);
      clients.push(c);
      return c;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.close()));
      await app.stop();
      await sim.stop();
      await dropSchema();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until every stream of the demo tenant has synced once (the readiness report, not a timer). */
async function untilReady(app: App): Promise<void> {
  for (;;) {
    const response = await fetch(`${app.url}/readyz`);
    if (response.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function databaseFor(
  dialect: 'sqlite' | 'postgres',
  dir: string,
): Promise<{ databaseUrl: string; dropSchema: () => Promise<void> }> {
  if (dialect === 'sqlite')
    return { databaseUrl: join(dir, 'switchboard.sqlite'), dropSchema: async () => {} };
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set');
  const schema = `test_mcp_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema "${schema}"`);
  await admin.end();
  const withSchema = new URL(url);
  withSchema.searchParams.set('options', `-c search_path=${schema}`);
  return {
    databaseUrl: withSchema.toString(),
    async dropSchema() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await c.end();
      }
    },
  };
}

export async function connect(url: string, token: string): Promise<McpTestClient> {
  const sdk = new Client({ name: 'switchboard-test-agent', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  await sdk.connect(transport);
  const { tools } = await sdk.listTools();
  const validators = new Map(
    tools
      .filter((t) => t.outputSchema)
      .map((t) => [t.name, ajv.getValidator(t.outputSchema as JsonSchemaType)]),
  );
  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const result = (await sdk.callTool({ name, arguments: args })) as CallToolResult;
    if (!result.isError) {
      const validate = validators.get(name);
      expect(validate, `tool ${name} declares an output schema`).toBeDefined();
      const verdict = validate?.(result.structuredContent);
      expect(verdict?.valid, `${name} output: ${verdict?.valid === false ? verdict.errorMessage : ''}`).toBe(
        true,
      );
      expect(result.content[0]?.type).toBe('text');
    }
    return result;
  };
  return {
    sdk,
    tools,
    call,
    async ok<T>(name: string, args: Record<string, unknown> = {}) {
      const result = await call(name, args);
      expect(result.isError, `${name}: ${textOf(result)}`).not.toBe(true);
      return result.structuredContent as T;
    },
    async error(name: string, args: Record<string, unknown> = {}) {
      const result = await call(name, args);
      expect(result.isError, `${name} should fail: ${JSON.stringify(result.structuredContent)}`).toBe(true);
      return textOf(result);
    },
    close: () => sdk.close(),
  };
}

export function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join(' ');
}

/** A front-desk call on the demo sim's own API (staff booking at the desk), with a token from its token endpoint. */
export async function frontDesk(
  simUrl: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const tokenAnswer = await fetch(`${simUrl}/firm/riverside/oauth/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', username: 'switchboard', password: 'demo-password' }),
  });
  const { access_token: token } = (await tokenAnswer.json()) as { access_token: string };
  const response = await fetch(`${simUrl}/firm/riverside/api${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

/** The dialects the store-backed MCP tests run on: SQLite always, PostgreSQL when TEST_DATABASE_URL is set. */
export const MCP_DIALECTS: ReadonlyArray<{ dialect: 'sqlite' | 'postgres' }> = [
  { dialect: 'sqlite' },
  ...(process.env.TEST_DATABASE_URL ? [{ dialect: 'postgres' as const }] : []),
];
