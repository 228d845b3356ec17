/**
 * A webhook dispatcher in its own process, for the crash test: the test forks it, lets it deliver for a while and
 * kills it with SIGKILL mid-run. Arguments: store URL, PostgreSQL schema (or `-`), tenant id, settings JSON.
 */
import { createLogger } from '../../src/logger.js';
import { openStore } from '../../src/store/database.js';
import { createWebhookDispatcher } from '../../sync/webhook-dispatcher.js';
import { TEST_SECRET_KEYS } from './test-secret-key.js';

const [url, schema, tenant, settings] = process.argv.slice(2);
if (!url || !schema || !tenant || !settings)
  throw new Error('usage: webhook-dispatcher-child URL SCHEMA|- TENANT SETTINGS');
const store = await openStore(url, {
  ...(schema === '-' ? {} : { schema }),
  secretKeys: TEST_SECRET_KEYS,
});
const dispatcher = createWebhookDispatcher({
  store,
  tenants: [tenant],
  settings: JSON.parse(settings) as Parameters<typeof createWebhookDispatcher>[0]['settings'],
  logger: createLogger('silent'),
  fhirBaseUrl: () => `https://switchboard.test/fhir/${tenant}`,
});
await dispatcher.start();
process.send?.('ready');
