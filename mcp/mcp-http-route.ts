/**
 * The agent interface's HTTP edge (issue 13): what `src/app.ts` mounts at `/mcp/{tenant}` in front of the
 * {@link McpEndpoint} — DNS-rebinding protection, an unknown tenant refused, the FHIR API's own authentication
 * and rate limit (same clients, scopes, tenant binding), the JSON body — and the JSON-RPC rendering of whatever
 * fails before the MCP transport. The FHIR API's parts (its authentication, the client it found, its answer to an
 * error) are handed in by the app: of fhir/, mcp/ imports the handler entry only (DESIGN.md section 1).
 *
 * @see https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#security-warning
 */
import { hostHeaderValidation } from '@modelcontextprotocol/sdk/server/middleware/hostHeaderValidation.js';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import type { FhirResponse } from '../fhir/fhir-request.js';
import type { ClientConfig, Config } from '../src/config.js';
import { outcomeText } from './fhir-caller.js';
import type { McpEndpoint } from './mcp-endpoint.js';

export interface McpHttpRouteOptions {
  mcp: McpEndpoint;
  /** The FHIR API's authentication followed by its rate limit; a refusal is passed on as an error. */
  authenticate: RequestHandler;
  /** The client `authenticate` found for the request. */
  authenticatedClient: (req: Request) => ClientConfig | undefined;
  /**
   * The FHIR API's answer to an error (its status, headers such as `WWW-Authenticate` and `Retry-After`, and
   * OperationOutcome), from the facade's one error renderer, which logs what is not the client's fault.
   */
  errorAnswer: (err: unknown, req: Request) => FhirResponse;
  /** The bound host and the public base URL: the Host names the endpoint answers to. */
  config: Pick<Config, 'host' | 'publicBaseUrl'>;
}

type TenantHandler = RequestHandler<{ tenant: string }>;

/** The handlers of `/mcp/:tenant`, in order, the error renderer last. */
export function mcpHttpRoute(
  options: McpHttpRouteOptions,
): Array<TenantHandler | ErrorRequestHandler<{ tenant: string }>> {
  const { mcp, authenticate, authenticatedClient, errorAnswer, config } = options;
  return [
    // DNS-rebinding protection (MCP transports, "Security Warning"): only Host names this server is known by.
    hostHeaderValidation(mcpAllowedHosts(config)) as TenantHandler,
    ((req, res, next) => {
      const tenant = req.params.tenant ?? '';
      if (mcp.hasTenant(tenant)) next();
      else sendJsonRpcError(res, 404, `tenant ${tenant} is not known`);
    }) as TenantHandler,
    authenticate,
    express.json({ limit: '1mb', type: ['application/json'] }),
    (async (req, res, next) => {
      try {
        const client = authenticatedClient(req);
        if (!client) throw new Error('MCP request without an authenticated client');
        await mcp.handle(req, res, { tenantId: req.params.tenant ?? '', client, body: req.body as unknown });
      } catch (err) {
        next(err);
      }
    }) as TenantHandler,
    mcpErrorRenderer(errorAnswer),
  ];
}

/** Host names (without port) the MCP endpoint answers to: loopback, the bound host and the public base URL's. */
function mcpAllowedHosts(config: Pick<Config, 'host' | 'publicBaseUrl'>): string[] {
  const hosts = new Set(['localhost', '127.0.0.1', '[::1]']);
  if (!['0.0.0.0', '::', ''].includes(config.host)) {
    hosts.add(config.host.includes(':') ? `[${config.host}]` : config.host);
  }
  if (config.publicBaseUrl) hosts.add(new URL(config.publicBaseUrl).hostname);
  return [...hosts];
}

/**
 * Errors before the MCP transport (authentication, rate limit, a body that is not JSON) as JSON-RPC errors with the
 * HTTP status, headers (`WWW-Authenticate`, `Retry-After`) and words the FHIR API answers for the same cause.
 */
function mcpErrorRenderer(
  errorAnswer: McpHttpRouteOptions['errorAnswer'],
): ErrorRequestHandler<{ tenant: string }> {
  return (err: unknown, req, res, _next) => {
    void _next;
    if (res.headersSent) return;
    const answer = errorAnswer(err, req);
    if (answer.headers) res.set(answer.headers);
    sendJsonRpcError(res, answer.status, outcomeText(answer));
  };
}

/** A JSON-RPC error answered over HTTP: parse error for a 400, internal error for a 5xx, else a server error. */
function sendJsonRpcError(res: Response, status: number, message: string): void {
  const code = status === 400 ? -32700 : status >= 500 ? -32603 : -32001;
  res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });
}
