/**
 * A booking process of its own, for the booking crash test (reliability.md §7 row 7): the test forks it (with
 * `tsx`) onto the same store and the same simulated records system, and it books one request and kills itself with
 * SIGKILL at the saga checkpoint named by `CRASH_AT`, so no cleanup of any kind runs.
 * Arguments: store URL, PostgreSQL schema (or `-`), tenant config JSON, booking request JSON (`start` as an ISO
 * string), the clock's fixed time (ISO); `HOLD_TTL_MS` in the environment. Tells the parent over IPC `{ step }` before each checkpoint it passes and
 * `{ outcome }` if the booking finishes (which, with a valid `CRASH_AT`, it should not).
 */
import { BookingService, type SagaCheckpoint } from '../../src/booking/booking-service.js';
import type { BookingRequest } from '../../src/booking/booking-types.js';
import { createStoreBookingRules } from '../../src/booking/store-booking-rules.js';
import { simSettingsOf, type TenantConfig } from '../../src/config.js';
import type { AppointmentWrite } from '../../src/connectors/connector.js';
import { SimConnector } from '../../src/connectors/sim/sim-connector.js';
import { UpstreamError } from '../../src/connectors/upstream-error.js';
import { createLogger } from '../../src/logger.js';
import { openStore } from '../../src/store/database.js';

const [url, schema, tenantJson, requestJson, nowIso] = process.argv.slice(2);
if (!url || !schema || !tenantJson || !requestJson || !nowIso)
  throw new Error('usage: booking-child URL SCHEMA|- TENANT_JSON REQUEST_JSON NOW');
const crashAt = process.env.CRASH_AT as SagaCheckpoint | undefined;
const tenant = JSON.parse(tenantJson) as TenantConfig;
const raw = JSON.parse(requestJson) as Omit<BookingRequest, 'start'> & { start: string };
const request: BookingRequest = { ...raw, start: new Date(raw.start) };
const nowMs = Date.parse(nowIso);
const now = (): Date => new Date(nowMs);

const store = await openStore(url, schema === '-' ? { clock: now } : { schema, clock: now });
const real = new SimConnector({
  tenantId: tenant.id,
  settings: simSettingsOf(tenant),
  now: () => nowMs,
  client: { breakerHalfOpenAfterMs: 50 },
});

/**
 * `CHILD_FAULT`: `lose-answer` — the write lands upstream but its answer is lost (the saga goes `unknown`);
 * `front-desk-race` — the front desk books the same time just before our write lands (verify finds the clash and
 * the saga goes `compensating`).
 */
const fault = process.env.CHILD_FAULT;
const connector: SimConnector = Object.create(real, {
  createAppointment: {
    value: async (write: AppointmentWrite) => {
      if (fault === 'front-desk-race') {
        await real.createAppointment({
          ...write,
          patientUpstreamId: '1',
          marker: 'front-desk',
          comment: 'desk',
        });
      }
      const written = await real.createAppointment(write);
      if (fault === 'lose-answer') {
        throw new UpstreamError('timeout', 'records system timed out', { outcome: 'unknown' });
      }
      return written;
    },
  },
}) as SimConnector;

/** Resolves once the records system holds the appointment of the saga being written (found by its marker). */
async function writeArrivedUpstream(): Promise<void> {
  const saga = await store.db
    .selectFrom('booking_sagas')
    .select('marker')
    .where('tenant_id', '=', tenant.id)
    .where('state', '=', 'writing')
    .executeTakeFirstOrThrow();
  for (let attempt = 0; attempt < 500; attempt++) {
    if ((await connector.findAppointmentsByMarker(saga.marker)).length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the write never reached the records system');
}

const service = new BookingService({
  store,
  tenants: [{ config: tenant, connector }],
  rules: createStoreBookingRules(store),
  logger: createLogger('silent'),
  now,
  holdTtlMs: Number(process.env.HOLD_TTL_MS ?? 60_000),
  recoveryIntervalMs: 0,
  async checkpoint(step) {
    process.send?.({ step });
    if (step !== crashAt) return;
    // "After the POST was sent": die only once the records system has applied it, before its answer is handled.
    if (step === 'write-sent') await writeArrivedUpstream();
    process.kill(process.pid, 'SIGKILL');
  },
});

const outcome = await service.book(tenant.id, request);
process.send?.({ outcome });
await real.close();
await store.close();
process.disconnect?.();
