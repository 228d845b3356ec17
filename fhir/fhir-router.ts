/**
 * The FHIR R4 facade's entry: `/fhir/{tenant}/…` (DESIGN.md section 2). One router for all tenants; the tenant
 * segment selects the configuration, an unknown tenant is a 404 OperationOutcome.
 */
import express, { type Router } from 'express';
import type { TenantConfig } from '../src/config.js';
import type { Logger } from '../src/logger.js';
import { capabilityStatement } from './capability-statement.js';
import { FhirError, notFound, renderFhirError } from './operation-outcome.js';

export interface FhirRouterOptions {
  tenants: readonly TenantConfig[];
  logger: Logger;
  /** The base URL clients see, without `/fhir`. */
  publicBaseUrl: () => string;
  softwareVersion: string;
  startedAt: Date;
}

export const FHIR_JSON = 'application/fhir+json';

export function createFhirRouter(options: FhirRouterOptions): Router {
  const tenants = new Map(options.tenants.map((t) => [t.id, t]));
  const router = express.Router();

  router.param('tenant', (req, _res, next, tenantId: string) => {
    if (!tenants.has(tenantId)) throw notFound(`tenant ${tenantId}`);
    next();
  });

  router.get('/:tenant/metadata', (req, res) => {
    const tenant = tenants.get(req.params.tenant) as TenantConfig;
    const body = capabilityStatement({
      baseUrl: `${options.publicBaseUrl()}/fhir/${tenant.id}`,
      tenantName: tenant.name,
      softwareVersion: options.softwareVersion,
      date: options.startedAt.toISOString(),
    });
    res.type(FHIR_JSON).send(JSON.stringify(body));
  });

  router.use((req) => {
    throw FhirError.of(
      404,
      'not-supported',
      `no FHIR interaction at ${req.method} ${req.baseUrl}${req.path}`,
    );
  });
  router.use(renderFhirError(options.logger));
  return router;
}
