/**
 * The composition root (DESIGN.md section 1): builds every part from a {@link Config} and wires them.
 * No module-level state: tests run many apps in one process, each on port 0.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { createAccessControl, createAuthMiddleware, requestClient } from '../fhir/auth-middleware.js';
import { createFhirHandler, type FhirHandler } from '../fhir/fhir-handler.js';
import { createFhirRouter } from '../fhir/fhir-router.js';
import { errorResponse } from '../fhir/operation-outcome.js';
import { createJsonBodyParser, createRateLimiter } from '../fhir/request-limits.js';
import {
  BOOKING_OPERATION_DEFINITIONS,
  bookingCapabilities,
  bookingRoutes,
} from '../fhir/routes/booking-routes.js';
import {
  operationDefinitionCapability,
  operationDefinitionRoutes,
} from '../fhir/routes/operation-definition-routes.js';
import {
  SUBSCRIPTION_OPERATION_DEFINITIONS,
  SUBSCRIPTION_SERVER_INSTANTIATES,
  subscriptionCapabilityResources,
  subscriptionRoutes,
} from '../fhir/routes/subscription-routes.js';
import { bookingsInFlightSource } from '../fhir/search/bookings-in-flight-source.js';
import { createComputedSlotSource } from '../fhir/search/computed-slot-source.js';
import { createMcpEndpoint } from '../mcp/mcp-endpoint.js';
import { mcpHttpRoute } from '../mcp/mcp-http-route.js';
import { createSyncEngine, type SyncEngine } from '../sync/sync-engine.js';
import { STREAMS } from '../sync/sync-streams.js';
import { createWebhookDispatcher, type WebhookDispatcher } from '../sync/webhook-dispatcher.js';
import { createAuditTrail, type AuditTrail } from './audit/audit-trail.js';
import { createClientRegistry } from './auth/client-registry.js';
import { createTokenIssuer } from './auth/smart-token-issuer.js';
import { smartRoutes } from '../fhir/smart/smart-routes.js';
import { loadWriteDefinitions } from '../fhir/write-validation.js';
import { BookingService } from './booking/booking-service.js';
import { createStoreBookingRules } from './booking/store-booking-rules.js';
import type { Config } from './config.js';
import { createConnector } from './connectors/create-connector.js';
import type { Connector } from './connectors/connector.js';
import { alwaysHeldLeases, createStoreLeases, newInstanceId, type WorkLeases } from './leases/work-leases.js';
import { createLogger, type Logger } from './logger.js';
import { httpMetrics } from './operator/http-metrics.js';
import { createOperatorAuth } from './operator/operator-auth.js';
import { registerStoreGauges } from './operator/operator-metrics.js';
import { operatorRoutes } from './operator/operator-routes.js';
import { createUpstreamStats } from './operator/upstream-stats.js';
import { openStore, type Store } from './store/database.js';
import { migrateToLatest } from './store/migrate.js';
import { createRateLimitBackend } from './store/shared-rate-limits.js';
import { SOFTWARE_VERSION } from './version.js';
import { createRetentionWorker, type RetentionWorker } from './retention/retention-worker.js';
import { createEndpointPolicy } from './webhooks/delivery/endpoint-guard.js';
import { sealSecretsAtRest } from './webhooks/subscriptions/secrets-at-rest.js';

export interface AppOptions {
  logger?: Logger;
  /** Run the sync engine's schedule (default true); tests that drive passes by hand turn it off. */
  schedule?: boolean;
  /** Listen for HTTP (default true); `switchboard sync --once` only needs the store and the engine. */
  listen?: boolean;
  now?: () => Date;
  /**
   * Wraps the audit trail the facade writes to. For benchmarks only (facade-search measures the audit write path's
   * CPU by letting the requests of one measured target skip it); `main` never sets it, so every PHI access is audited.
   */
  wrapAuditTrail?: (trail: AuditTrail) => AuditTrail;
}

export interface App {
  readonly config: Config;
  readonly logger: Logger;
  /** Opens and migrates the store, then listens. Resolves once requests are answered. */
  start(): Promise<void>;
  /** Stops listening, lets requests in flight finish, closes the store. Safe to call twice. */
  stop(): Promise<void>;
  /** `http://host:port` actually bound (after start; port 0 becomes the real port). */
  readonly url: string;
  readonly store: Store;
  readonly sync: SyncEngine;
  readonly webhooks: WebhookDispatcher;
  /** This instance's id (generated at each start unless configured): in its log, leases and metrics. */
  readonly instanceId: string;
  /**
   * The FHIR facade without HTTP, for other facades in the process (the agent interface): the request carries an
   * already-authenticated client; access control and audit apply as over HTTP.
   */
  readonly handleFhirRequest: FhirHandler['handleFhirRequest'];
}

export function createApp(config: Config, options: AppOptions = {}): App {
  const logger = options.logger ?? createLogger(config.logLevel);
  const instanceId = config.scaleOut.instanceId ?? newInstanceId();
  const metrics = new Registry();
  // Every figure says which instance it comes from: several instances share one store (issue 11).
  metrics.setDefaultLabels({ instance: instanceId });
  collectDefaultMetrics({ register: metrics });
  const startedAt = new Date();
  let store: Store | undefined;
  let sync: SyncEngine | undefined;
  let booking: BookingService | undefined;
  let webhooks: WebhookDispatcher | undefined;
  let leases: WorkLeases | undefined;
  let retention: RetentionWorker | undefined;
  let connectors: Connector[] = [];
  let server: Server | undefined;
  let url = '';

  const publicBaseUrl = () => config.publicBaseUrl ?? url;
  const openedStore = (): Store => {
    if (!store) throw new Error('the app has not started');
    return store;
  };
  // The facade's interactions audit every outcome themselves (403s included), so access control gets no sink.
  const trail = createAuditTrail(openedStore);
  const audit = options.wrapAuditTrail ? options.wrapAuditTrail(trail) : trail;
  const access = createAccessControl({ logger });
  const now = options.now ?? (() => new Date());
  const clients = createClientRegistry(config.clients, { store: openedStore, now });
  const authenticate = createAuthMiddleware({ clients });
  // What this instance sees of each records system, for the console and the upstream metrics (issue 15).
  const upstream = createUpstreamStats({
    rateLimits: Object.fromEntries(config.tenants.map((t) => [t.id, t.upstreamRateLimitPerMinute])),
    metrics,
  });
  registerStoreGauges(
    metrics,
    config.tenants.map((t) => t.id),
    () => store,
  );
  const tokenIssuer = createTokenIssuer({ clients: config.clients, store: openedStore, now });
  // Counted in the store's database when it is PostgreSQL, so every instance counts against one limit (issue 11).
  const rateLimiter = createRateLimiter({
    ...config.rateLimit,
    backend: (window) => createRateLimitBackend(store, window),
  });
  // The FHIR API and the agent interface: the same clients, scopes, tenant binding and rate limit.
  const authenticateAndLimit: RequestHandler = (req, res, next) =>
    authenticate(req, res, (err?: unknown) => {
      if (err) next(err);
      else void Promise.resolve(rateLimiter.middleware(req, res, next)).catch(next);
    });
  const http = express();
  http.disable('x-powered-by');
  http.set('etag', false);

  http.use(httpMetrics(metrics));
  // The operator's pages (issue 15): /healthz, /readyz, /status (the console) and /metrics.
  http.use(
    operatorRoutes({
      config,
      auth: createOperatorAuth({ clients, store: () => store, now }),
      metrics,
      upstream,
      store: () => store,
      sync: () => sync,
      leases: () => leases,
      info: { version: SOFTWARE_VERSION, startedAt, instanceId },
      now,
      logger,
    }),
  );
  const startedBooking = (): BookingService => {
    if (!booking) throw new Error('the app has not started');
    return booking;
  };
  const fhir = createFhirHandler({
    tenants: config.tenants,
    logger,
    publicBaseUrl,
    softwareVersion: SOFTWARE_VERSION,
    startedAt,
    store: openedStore,
    access,
    audit,
    searchSources: {
      Slot: [createComputedSlotSource({ now: options.now })],
      Appointment: [bookingsInFlightSource(startedBooking)],
    },
    routes: [
      subscriptionRoutes({
        policy: createEndpointPolicy(config.webhooks),
        wake: () => webhooks?.wake(),
        secretOverlapSeconds: config.webhooks.secretOverlapSeconds,
      }),
      bookingRoutes({
        booking: startedBooking,
        now: options.now ?? (() => new Date()),
      }),
      operationDefinitionRoutes([...BOOKING_OPERATION_DEFINITIONS, ...SUBSCRIPTION_OPERATION_DEFINITIONS]),
      smartRoutes({ issuer: tokenIssuer }),
    ],
    capabilities: bookingCapabilities,
    capability: {
      extraResources: [...subscriptionCapabilityResources(), operationDefinitionCapability()],
      instantiates: SUBSCRIPTION_SERVER_INSTANTIATES,
    },
  });
  http.use(
    '/fhir',
    createFhirRouter({
      handler: fhir,
      logger,
      authenticate,
      admit: rateLimiter.admission,
      jsonBody: createJsonBodyParser(),
    }),
  );

  // The agent interface (issue 13): MCP over Streamable HTTP at /mcp/{tenant}, authenticated exactly as the FHIR
  // API (same middleware, clients, scopes, tenant binding and rate limit); its tools call the facade in-process.
  const mcp = createMcpEndpoint({
    tenants: config.tenants,
    handleFhirRequest: fhir.handleFhirRequest,
    logger,
    version: SOFTWARE_VERSION,
    now: options.now,
  });
  http.use(
    '/mcp/:tenant',
    mcpHttpRoute({
      mcp,
      authenticate: authenticateAndLimit,
      authenticatedClient: requestClient,
      errorAnswer: (err, req) => errorResponse(err, logger, req),
      config,
    }),
  );

  return {
    config,
    logger,
    handleFhirRequest: fhir.handleFhirRequest,
    get url() {
      return url;
    },
    instanceId,
    get store() {
      if (!store) throw new Error('the app has not started');
      return store;
    },
    get sync() {
      if (!sync) throw new Error('the app has not started');
      return sync;
    },
    get webhooks() {
      if (!webhooks) throw new Error('the app has not started');
      return webhooks;
    },
    async start() {
      loadWriteDefinitions();
      store = await openStore(config.databaseUrl, { secretKeys: config.secretKeys });
      await migrateToLatest(store);
      await sealSecretsAtRest(store, logger);
      logger.info({ instance: instanceId }, 'switchboard instance starting');
      const tenantIds = config.tenants.map((t) => t.id);
      // Several processes may share a PostgreSQL store: a tenant's work runs where its lease is (issue 11).
      leases = store.capabilities.sharedLeases
        ? createStoreLeases({
            store,
            tenantIds,
            logger,
            instanceId,
            ttlMs: config.scaleOut.leaseTtlMs,
            renewIntervalMs: config.scaleOut.leaseRenewIntervalMs,
            metrics,
            streams: STREAMS,
          })
        : alwaysHeldLeases(tenantIds, instanceId);
      // Unscheduled (`switchboard sync --once`): no lease rounds run, so passes run here unfenced, as before.
      const scheduledLeases = (options.schedule ?? true) ? leases : undefined;
      connectors = config.tenants.map((tenant) =>
        createConnector(tenant, { now: options.now, observe: upstream.observer(tenant.id) }),
      );
      const tenantConnectors = config.tenants.map((tenant, i) => ({
        config: tenant,
        connector: connectors[i] as Connector,
      }));
      booking = new BookingService({
        store,
        logger,
        now: options.now,
        rules: createStoreBookingRules(store),
        tenants: tenantConnectors,
        metrics,
        leases: scheduledLeases,
        holdTtlMs: config.scaleOut.sagaAbandonedAfterMs,
        recoveryIntervalMs: config.scaleOut.recoveryIntervalMs,
      });
      sync = createSyncEngine({
        store,
        tenants: tenantConnectors,
        logger,
        metrics,
        now: options.now,
        // Deliver what a pass journaled now, not at the dispatcher's next tick.
        onEvents: () => webhooks?.wake(),
        leases: scheduledLeases,
      });
      if (options.listen ?? true) {
        server = await new Promise<Server>((resolve, reject) => {
          const s = http.listen(config.port, config.host, () => resolve(s));
          // Outlive clients' idle keep-alive (Node's fetch: 4 s) so they never reuse a socket we are closing.
          s.keepAliveTimeout = 65_000;
          s.once('error', reject);
        });
        const { port } = server.address() as AddressInfo;
        url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
        logger.info(
          { url, instance: instanceId, tenants: config.tenants.map((t) => t.id) },
          'switchboard listening',
        );
      }
      webhooks = createWebhookDispatcher({
        store,
        tenants: config.tenants.map((tenant) => tenant.id),
        settings: config.webhooks,
        logger,
        metrics,
        fhirBaseUrl: (tenantId) => `${publicBaseUrl()}/fhir/${tenantId}`,
      });
      // Bounded storage (issue 15 item 4): each tenant pruned by the holder of its lease, in small batches.
      retention = createRetentionWorker({
        store,
        tenantIds,
        settings: config.retention,
        logger,
        leases: scheduledLeases,
        now: options.now,
        metrics,
      });
      if (options.schedule ?? true) {
        // The first lease round before the engine starts, so it starts the tenants held here at once.
        await leases.start();
        await sync.start();
        await webhooks.start();
        booking.start();
        if (config.retention.enabled) retention.start();
      }
    },
    async stop() {
      const s = server;
      server = undefined;
      if (s) {
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeIdleConnections();
        });
      }
      await retention?.stop();
      retention = undefined;
      await sync?.stop();
      sync = undefined;
      await booking?.stop();
      booking = undefined;
      // Released only once this instance's passes and recovery have stopped, so the next holder starts clean.
      await leases?.stop();
      leases = undefined;
      await access.idle();
      await webhooks?.stop();
      webhooks = undefined;
      await Promise.all(connectors.map((c) => c.close()));
      connectors = [];
      const st = store;
      store = undefined;
      await st?.close();
    },
  };
}
