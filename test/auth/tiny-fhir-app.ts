/**
 * A tiny FHIR-shaped express app for testing the access-control and request-limit modules over real HTTP, wired the
 * way the facade's router is meant to wire them: unknown tenant → 404 first, then authentication, rate limiting
 * and body parsing on the tenant segment, handlers that call `AccessControl`, and the one error renderer.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import type { AuditSink, FhirRequestContext, Interaction } from '../../fhir/access.js';
import { createAccessControl, createAuthMiddleware, requestClient } from '../../fhir/auth-middleware.js';
import type { SmartAccessControl } from '../../fhir/auth-middleware.js';
import { renderFhirError } from '../../fhir/fhir-router.js';
import { notFound } from '../../fhir/operation-outcome.js';
import { parameterNames } from '../../src/audit/audit-trail.js';
import { createClientRegistry } from '../../src/auth/client-registry.js';
import { operationPermissions } from '../../src/auth/smart-scopes.js';
import { parseConfig, sha256Hex, type ClientConfig, type TenantConfig } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/logger.js';
import type { Store } from '../../src/store/database.js';

export const FHIR_JSON = 'application/fhir+json';

/** A client whose token is `token-<id>`. */
export function testClient(id: string, scopes: string[], tenants: string[] = ['demo']): ClientConfig {
  return { id, tokenSha256: sha256Hex(tokenOf(id)), scopes, tenants };
}

export const tokenOf = (clientId: string): string => `token-${clientId}`;

export function testTenants(ids: string[]): TenantConfig[] {
  return parseConfig({
    tenants: ids.map((id) => ({
      id,
      connector: { kind: 'sim', baseUrl: 'http://127.0.0.1:1', firm: id, username: 'u', password: 'p' },
    })),
  }).tenants;
}

export interface TinyFhirAppOptions {
  clients: ClientConfig[];
  tenants?: string[];
  /** Only needed by tests of the audit trail; the handlers here never touch it otherwise. */
  store?: Store;
  audit?: AuditSink;
  /** Extra middleware on the tenant segment after authentication (rate limiter, body parser). */
  limits?: RequestHandler[];
  logger?: Logger;
}

export interface TinyFhirApp {
  url: string;
  access: SmartAccessControl;
  close(): Promise<void>;
}

/** Starts the app on 127.0.0.1, port 0. */
export async function startTinyFhirApp(options: TinyFhirAppOptions): Promise<TinyFhirApp> {
  const tenants = new Map(testTenants(options.tenants ?? ['demo', 'other']).map((t) => [t.id, t]));
  const access = createAccessControl({ audit: options.audit });
  const app = express();
  const router = express.Router();

  router.param('tenant', (_req, _res, next, tenantId: string) => {
    if (!tenants.has(tenantId)) throw notFound(`tenant ${tenantId}`);
    next();
  });
  router.use(
    '/:tenant',
    createAuthMiddleware({ clients: createClientRegistry(options.clients) }),
    ...(options.limits ?? []),
  );
  router.get('/:tenant/metadata', (_req, res) => {
    res.type(FHIR_JSON).send(JSON.stringify({ resourceType: 'CapabilityStatement' }));
  });

  const context = (req: express.Request): FhirRequestContext => ({
    tenant: tenants.get(req.params.tenant as string) as TenantConfig,
    // The handlers below never use the store; audit tests pass a real one.
    store: options.store ?? (undefined as unknown as Store),
    client: requestClient(req),
    requestId: randomUUID(),
  });
  const handle =
    (interaction: Interaction): RequestHandler =>
    async (req, res) => {
      const ctx = context(req);
      const type = req.params.type as string;
      access.authorize(ctx, type, interaction);
      await options.audit?.record(ctx, {
        action: interaction,
        resourceType: type,
        resourceIds: typeof req.params.id === 'string' ? [req.params.id] : [],
        status: 200,
        parameters: parameterNames(req.query as Record<string, unknown>),
      });
      res
        .type(FHIR_JSON)
        .send(JSON.stringify({ interaction, client: ctx.client?.id, body: req.body as unknown }));
    };

  router.get('/:tenant/:type/_history', handle('history-type'));
  router.get('/:tenant/:type', handle('search'));
  router.post('/:tenant/:type', handle('create'));
  router.post('/:tenant/:type/:operation', (req, res) => {
    if (req.params.operation !== '$book') throw notFound(`operation ${req.params.operation}`);
    const ctx = context(req);
    access.authorizeOperation(ctx, req.params.type as string, '$book', operationPermissions('cu'));
    res.type(FHIR_JSON).send(JSON.stringify({ interaction: '$book', client: ctx.client?.id }));
  });
  router.get('/:tenant/:type/:id', handle('read'));
  router.put('/:tenant/:type/:id', handle('update'));
  router.patch('/:tenant/:type/:id', handle('patch'));
  router.delete('/:tenant/:type/:id', handle('delete'));
  router.get('/:tenant/:type/:id/_history', handle('history-instance'));
  router.get('/:tenant/:type/:id/_history/:vid', handle('vread'));
  router.use(renderFhirError(options.logger ?? createLogger('silent')));
  app.use('/fhir', router);

  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    access,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
