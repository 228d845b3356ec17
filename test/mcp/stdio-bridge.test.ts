import { resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOOL_NAMES } from '../../mcp/tool-server.js';
import { DEMO_TOKEN, startMcpDemo, type McpDemo } from './support/mcp-demo.js';

// `switchboard mcp --url … --token …` as a desktop agent starts it: a child process speaking MCP on stdio,
// bridged to the running demo's /mcp/demo.
const root = resolve(import.meta.dirname, '../..');

async function stdioClient(url: string, token: string): Promise<Client> {
  const client = new Client({ name: 'desktop-agent', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: resolve(root, 'node_modules/.bin/tsx'),
      args: [resolve(root, 'src/main.ts'), 'mcp', '--url', url, '--token', token],
      stderr: 'pipe',
    }),
  );
  return client;
}

describe('switchboard mcp (stdio bridge)', () => {
  let demo: McpDemo;
  beforeAll(async () => {
    demo = await startMcpDemo({ dialect: 'sqlite' });
  });
  afterAll(async () => {
    await demo?.stop();
  });

  it('lists and calls the tools of the running instance over stdio', async () => {
    const client = await stdioClient(demo.url, DEMO_TOKEN);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual([...TOOL_NAMES]);
      const result = (await client.callTool({
        name: 'find_slots',
        arguments: { appointment_type: 'follow-up', practitioner: 'Chen', limit: 1 },
      })) as CallToolResult;
      expect(result.isError).not.toBe(true);
      expect(
        (result.structuredContent as { slots: Array<{ practitioner: string }> }).slots[0]?.practitioner,
      ).toBe('Dr. Grace Chen');
    } finally {
      await client.close();
    }
  });

  it('cannot connect with a token the instance refuses', async () => {
    const error = await stdioClient(demo.url, 'not-a-token').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/the access token is not valid/);
  });
});
