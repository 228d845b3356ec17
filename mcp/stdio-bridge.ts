/**
 * `switchboard mcp --url … --token …`: MCP over stdio for desktop agents that start their servers as a process,
 * bridged message by message to a running Switchboard's Streamable HTTP endpoint (issue 13 item 1). Nothing runs
 * here but the two official SDK transports: every tool call is answered, authorized and audited by the instance at
 * `url` under the token's client. stdout carries only MCP messages.
 */
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export interface StdioBridge {
  /** Resolves when either side closes. */
  closed: Promise<void>;
  close(): Promise<void>;
}

export async function startStdioBridge(options: { url: string; token: string }): Promise<StdioBridge> {
  const remote = new StreamableHTTPClientTransport(new URL(options.url), {
    requestInit: { headers: { Authorization: `Bearer ${options.token}` } },
  });
  const local = new StdioServerTransport();
  let done: () => void = () => {};
  const closed = new Promise<void>((resolve) => (done = resolve));
  const failWith = (id: JSONRPCMessage, error: unknown) => {
    // A request the remote could not answer (down, 401) still gets an answer, so the agent does not hang.
    if ('id' in id && id.id !== undefined && 'method' in id) {
      void local.send({
        jsonrpc: '2.0',
        id: id.id,
        error: {
          code: -32603,
          message: `Switchboard at ${options.url}: ${error instanceof Error ? error.message : String(error)}`,
        },
      });
    }
  };
  local.onmessage = (message) => {
    remote.send(message).catch((error: unknown) => failWith(message, error));
  };
  remote.onmessage = (message) => {
    void local.send(message);
  };
  local.onclose = () => {
    void remote.close();
    done();
  };
  remote.onclose = () => done();
  await remote.start();
  await local.start();
  return {
    closed,
    async close() {
      await local.close();
      await remote.close();
    },
  };
}
