/**
 * What the parts of the webhook dispatcher share (DESIGN.md section 6): the store, settings, log, metrics and
 * clock of one dispatcher, and the signal that stops it.
 */
import type { WebhookSettings } from '../src/config.js';
import type { Logger } from '../src/logger.js';
import type { Store } from '../src/store/database.js';
import type { WebhookMetrics } from './webhook-metrics.js';

export interface DispatchContext {
  store: Store;
  settings: WebhookSettings;
  logger: Logger;
  metrics: WebhookMetrics | undefined;
  /** The clock of claims, retries and heartbeats. */
  now: () => Date;
  /** The tenant's FHIR base URL, for references in notifications. */
  fhirBaseUrl: (tenantId: string) => string;
  /** Aborted when the dispatcher stops. */
  stopping: AbortSignal;
  random?: () => number;
}
