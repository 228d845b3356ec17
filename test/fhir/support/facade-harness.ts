/**
 * The FHIR facade over real HTTP against a synced store: the simulated records system (tiny firm or demo
 * practice) on port 0, the sync engine run by hand into a store of either dialect, and `createFhirRouter` mounted
 * on an express app on port 0 with in-test access control (allow-all unless told otherwise) and an audit sink
 * that keeps every record for assertions. Clients: fhir-kit-client and MedplumClient pointed at the tenant base.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MedplumClient } from '@medplum/core';
import express from 'express';
import { Client } from 'fhir-kit-client';
import type { AccessControl, AuditRecord, AuditSink } from '../../../fhir/access.js';
import { createFhirHandler, type FhirHandler, type FhirHandlerOptions } from '../../../fhir/fhir-handler.js';
import { createAccessControl, createAuthMiddleware } from '../../../fhir/auth-middleware.js';
import { createFhirRouter, type FhirRouterOptions } from '../../../fhir/fhir-router.js';
import { createJsonBodyParser } from '../../../fhir/request-limits.js';
import { FhirError } from '../../../fhir/operation-outcome.js';
import { createHash } from 'node:crypto';
import { createClientRegistry } from '../../../src/auth/client-registry.js';
import type { ClientConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/logger.js';
import type { SimFirmData } from '../../../src/sim/sim-types.js';
import type { Store } from '../../../src/store/database.js';
import { startSyncHarness, type SyncHarness } from '../../support/sync-harness.js';
import { TINY_FIRM, tinyFirm } from '../../support/tiny-firm.js';

/** Access control the test steers: everything allowed except what the sets name. */
export interface TestAccess extends AccessControl {
  /** Types whose every interaction is refused with 403. */
  readonly forbidden: Set<string>;
  /** Types `canRead` says no to (left out of includes). */
  readonly unreadable: Set<string>;
}

export function testAccess(): TestAccess {
  const forbidden = new Set<string>();
  const unreadable = new Set<string>();
  return {
    forbidden,
    unreadable,
    authorize(_ctx, resourceType, interaction) {
      if (forbidden.has(resourceType))
        throw FhirError.of(403, 'forbidden', `${interaction} on ${resourceType} is not allowed`);
    },
    canRead: (_ctx, resourceType) => !unreadable.has(resourceType) && !forbidden.has(resourceType),
  };
}

export interface FacadeHarness {
  /** `http://127.0.0.1:{port}` */
  url: string;
  /** `{url}/fhir/{tenant}` */
  base: string;
  tenant: string;
  store: Store;
  /** The facade without HTTP (`handleFhirRequest`), the same one the router serves. */
  handler: FhirHandler;
  sync: SyncHarness;
  access: TestAccess;
  /** Every audit record written, in order. */
  audit: AuditRecord[];
  fhirKit: Client;
  medplum: MedplumClient;
  /** One full sync pass (all streams), asserting each succeeded. */
  syncNow(): Promise<void>;
  close(): Promise<void>;
}

export interface FacadeOptions {
  store: Store;
  /** Default: the tiny firm. */
  firm?: { name: string; data: SimFirmData };
  searchSources?: FhirHandlerOptions['searchSources'];
  /** Extra facade routes (writes, operations), built once the sim and the engine are up. */
  routes?: (sync: SyncHarness) => NonNullable<FhirHandlerOptions['routes']>;
  /**
   * Bearer tokens of clients (id → token) to authenticate, as the app does; every request then needs one.
   * Default: no authentication, every request comes from no client.
   */
  clients?: Readonly<Record<string, string>>;
  /**
   * Clients as the configuration gives them (static tokens, JWKS), authenticated by the client registry over the
   * store (issued SMART tokens too) and authorized by their real SMART scopes, as the app does.
   */
  clientConfigs?: readonly ClientConfig[];
  /** Where audit records go besides the harness's list (the real audit trail, for tests of it). */
  audit?: AuditSink;
  /** The rate limit, as the app passes it (`RateLimiter.admission`); default none. */
  admit?: FhirRouterOptions['admit'];
}

export async function startFacade(options: FacadeOptions): Promise<FacadeHarness> {
  const firm = options.firm ?? { name: TINY_FIRM, data: tinyFirm() };
  const sync = await startSyncHarness({ firms: [firm], store: options.store });
  const syncNow = async () => {
    const reports = await sync.engine.runOnce();
    const failed = reports.filter((r) => r.outcome !== 'ok');
    if (failed.length > 0) throw new Error(`sync failed: ${JSON.stringify(failed)}`);
  };
  await syncNow();

  const access = testAccess();
  const smartAccess = options.clientConfigs ? createAccessControl() : undefined;
  const audit: AuditRecord[] = [];
  const sink: AuditSink = {
    record(ctx, record) {
      audit.push(record);
      return options.audit ? options.audit.record(ctx, record) : Promise.resolve();
    },
  };
  let url = '';
  const handler = createFhirHandler({
    tenants: sync.tenants,
    logger: createLogger('silent'),
    publicBaseUrl: () => url,
    softwareVersion: 'test',
    startedAt: new Date('2026-11-20T15:00:00Z'),
    store: () => options.store,
    access: smartAccess ?? access,
    audit: sink,
    searchSources: options.searchSources,
    routes: options.routes?.(sync),
  });
  const app = express();
  app.use(
    '/fhir',
    createFhirRouter({
      handler,
      logger: createLogger('silent'),
      jsonBody: createJsonBodyParser(),
      ...(options.admit ? { admit: options.admit } : {}),
      authenticate: options.clientConfigs
        ? createAuthMiddleware({
            clients: createClientRegistry(options.clientConfigs, { store: () => options.store }),
          })
        : options.clients && authenticating(options.clients, firm.name),
    }),
  );
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
    // As the app does (src/app.ts): an idle connection outlives a slow test step instead of closing under a request.
    s.keepAliveTimeout = 65_000;
    s.once('error', reject);
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const base = `${url}/fhir/${firm.name}`;

  return {
    url,
    base,
    tenant: firm.name,
    store: options.store,
    handler,
    sync,
    access,
    audit,
    fhirKit: new Client({ baseUrl: base }),
    medplum: new MedplumClient({
      baseUrl: `${url}/`,
      fhirUrlPath: `fhir/${firm.name}/`,
      cacheTime: 0,
      extendedMode: false,
    }),
    syncNow,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await sync.close();
    },
  };
}

function authenticating(clients: Readonly<Record<string, string>>, tenant: string) {
  return createAuthMiddleware({
    clients: createClientRegistry(
      Object.entries(clients).map(([id, token]) => ({
        id,
        tokenSha256: createHash('sha256').update(token, 'utf8').digest('hex'),
        scopes: ['system/*.cruds'],
        tenants: [tenant],
      })),
    ),
  });
}
