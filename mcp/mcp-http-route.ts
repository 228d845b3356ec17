/**
 * The agent interface's HTTP edge (issue 13): what `src/app.ts` mounts at `/mcp/{tenant}` in front of the
 * {@link McpEndpoint} — an unknown tenant refused first, DNS-rebinding protection, the FHIR API's own authentication
 * and rate limit (same clients, scopes, tenant binding), the JSON body — and the JSON-RPC rendering of whatever
 * fails before the MCP transport.
 *
 * @see https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#security-warning
 */
import { hostHeaderValidation } from '@modelcontextprotocol/sdk/server/middleware/hostHeaderValidation.js';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { requestClient } from '../fhir/auth-middleware.js';
import { FhirError } from '../fhir/operation-outcome.js';
import type { Config } from '../src/config.js';
import type { Logger } from '../src/logger.js';
import type { McpEndpoint } from './mcp-endpoint.js';

export interface McpHttpRouteOptions {
  mcp: McpEndpoint;
  /** The FHIR API's authentication followed by its rate limit. */
  authenticate: RequestHandler;
  /** The bound host and the public base URL: the Host names the endpoint answers to. */
  config: Pick<Config, 'host' | 'publicBaseUrl'>;
  logger: Logger;
}

type TenantHandler = RequestHandler<{ tenant: string }>;

/** The handlers of `/mcp/:tenant`, in order, the error renderer last. */
export function mcpHttpRoute(
  options: McpHttpRouteOptions,
): Array<TenantHandler | ErrorRequestHandler<{ tenant: string }>> {
  const { mcp, authenticate, config, logger } = options;
  return [
    // DNS-rebinding protection (MCP transports, "Security Warning"): only Host names this server is known by.
    hostHeaderValidation(mcpAllowedHosts(config)) as TenantHandler,
    ((req, _res, next) => {
      if (!mcp.hasTenant(req.params.tenant ?? ''))
        throw new FhirError(404, notFoundOutcome(req.params.tenant ?? ''));
      next();
    }) as TenantHandler,
    authenticate,
    express.json({ limit: '1mb', type: ['application/json'] }),
    (async (req, res, next) => {
      try {
        const client = requestClient(req);
        if (!client) throw new Error('MCP request without an authenticated client');
        await mcp.handle(req, res, { tenantId: req.params.tenant ?? '', client, body: req.body as unknown });
      } catch (err) {
        next(err);
      }
    }) as TenantHandler,
    mcpErrorRenderer(logger),
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

function notFoundOutcome(tenant: string) {
  return {
    resourceType: 'OperationOutcome' as const,
    issue: [
      {
        severity: 'error' as const,
        code: 'not-found' as const,
        diagnostics: `tenant ${tenant} is not known`,
      },
    ],
  };
}

/**
 * Errors before the MCP transport (authentication, rate limit, unknown tenant, a body that is not JSON) as JSON-RPC
 * errors with the HTTP status and headers (`WWW-Authenticate`, `Retry-After`) the FHIR API gives for the same cause.
 */
function mcpErrorRenderer(logger: Logger): ErrorRequestHandler<{ tenant: string }> {
  return (err: unknown, _req, res, _next) => {
    void _next;
    if (res.headersSent) return;
    let status = 500;
    let message = 'internal error';
    if (err instanceof FhirError) {
      status = err.status;
      message = err.outcome.issue?.[0]?.diagnostics ?? err.outcome.issue?.[0]?.details?.text ?? err.message;
      res.set(err.headers);
    } else if (
      typeof err === 'object' &&
      err !== null &&
      'status' in err &&
      typeof err.status === 'number' &&
      err.status < 500
    ) {
      status = err.status;
      message = status === 413 ? 'request body too large' : 'the request body is not valid JSON';
    } else {
      logger.error({ err }, 'MCP request failed');
    }
    const code = status === 400 ? -32700 : status >= 500 ? -32603 : -32001;
    res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });
  };
}
