/**
 * The MCP endpoint `POST/GET/DELETE /mcp/{tenant}` (MCP 2025-06-18 Streamable HTTP), without express: `src/app.ts`
 * authenticates the request with the FHIR API's own bearer-token middleware (the same clients, scopes and tenant
 * binding), checks the Host header (DNS-rebinding protection), parses the JSON body and hands over here. Stateless:
 * a server and transport per request, JSON answers rather than SSE streams (every tool answers once).
 *
 * @see https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#streamable-http
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { ClientConfig, TenantConfig } from '../src/config.js';
import type { Logger } from '../src/logger.js';
import { createFhirCaller, type HandleFhirRequest } from './fhir-caller.js';
import { createToolServer } from './tool-server.js';

export interface McpEndpointOptions {
  tenants: readonly TenantConfig[];
  handleFhirRequest: HandleFhirRequest;
  logger: Logger;
  version: string;
  now?: () => Date;
}

export interface McpEndpoint {
  /** Whether `tenantId` is one of the configured tenants (an unknown one is a 404 before authentication). */
  hasTenant(tenantId: string): boolean;
  /** Answers one MCP HTTP request for an authenticated `client` of `tenantId`. */
  handle(
    req: IncomingMessage,
    res: ServerResponse,
    request: { tenantId: string; client: ClientConfig; body: unknown },
  ): Promise<void>;
}

export function createMcpEndpoint(options: McpEndpointOptions): McpEndpoint {
  const tenants = new Map(options.tenants.map((t) => [t.id, t]));
  const now = options.now ?? (() => new Date());
  return {
    hasTenant: (tenantId) => tenants.has(tenantId),
    async handle(req, res, { tenantId, client, body }) {
      const tenant = tenants.get(tenantId);
      if (!tenant) throw new Error(`unknown tenant ${tenantId}: check hasTenant first`);
      if (req.method !== 'POST') {
        // Stateless: no session to delete and no server-initiated messages, so no GET stream to hold open
        // (the transport spec lets such a server answer 405).
        res.writeHead(405, { Allow: 'POST', 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({
            jsonrpc: '2.0',
            error: {
              code: -32000,
              message: 'this endpoint takes POST only (stateless: no sessions, no GET stream)',
            },
            id: null,
          }),
        );
        return;
      }
      // A caller that hangs up gives up a booking not yet sent upstream (fhir-request.ts `signal`).
      const gone = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) gone.abort();
      });
      const fhir = createFhirCaller(options.handleFhirRequest, tenantId, client, gone.signal);
      const server = createToolServer({ tenant, client, fhir, now }, options.version);
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      transport.onerror = (error) =>
        options.logger.warn({ err: error, tenant: tenantId }, 'MCP transport error');
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, body);
    },
  };
}
