/** Builds the connector a tenant's configuration names. The one place that switches on the connector's kind. */
import type { TenantConfig } from '../config.js';
import type { Connector } from './connector.js';
import type { UpstreamObserver } from './upstream-observer.js';
import { FhirConnector } from './fhir/fhir-connector.js';
import { SimConnector } from './sim/sim-connector.js';

export function createConnector(
  tenant: TenantConfig,
  options: { now?: () => Date; observe?: UpstreamObserver } = {},
): Connector {
  const now = options.now;
  const observe = options.observe;
  switch (tenant.connector.kind) {
    case 'sim':
      return new SimConnector({
        tenantId: tenant.id,
        settings: tenant.connector,
        timezone: tenant.timezone,
        planningHorizonDays: tenant.booking.horizonDays,
        now: now ? () => now().getTime() : undefined,
        observe,
      });
    case 'fhir':
      return new FhirConnector({
        tenantId: tenant.id,
        settings: tenant.connector,
        timezone: tenant.timezone,
        now: now ? () => now().getTime() : undefined,
        observe,
      });
  }
}
