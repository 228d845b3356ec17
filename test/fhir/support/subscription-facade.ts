/**
 * The facade with the Subscription routes and a running webhook dispatcher, for `test/fhir/subscription-*`:
 * one per `describe` (a fresh database of the dialect, the tiny firm in the sim, synced), a loopback receiver
 * answering 204 unless told otherwise, and HTTP helpers that check every FHIR body with both validators.
 */
import type { Bundle, Parameters } from '@medplum/fhirtypes';
import { afterAll, beforeAll, expect } from 'vitest';
import { bookingRoutes } from '../../../fhir/routes/booking-routes.js';
import { subscriptionRoutes } from '../../../fhir/routes/subscription-routes.js';
import { createComputedSlotSource } from '../../../fhir/search/computed-slot-source.js';
import { BookingService } from '../../../src/booking/booking-service.js';
import { createStoreBookingRules } from '../../../src/booking/store-booking-rules.js';
import { createLogger } from '../../../src/logger.js';
import type { SimAppointment } from '../../../src/sim/sim-types.js';
import { fhirIdsFor } from '../../../src/store/upstream-ids.js';
import type { EndpointPolicy } from '../../../src/webhooks/delivery/endpoint-guard.js';
import type { BackportSubscription } from '../../../src/webhooks/subscriptions/subscription-resource.js';
import { createWebhookDispatcher, type WebhookDispatcher } from '../../../sync/webhook-dispatcher.js';
import { expectValidFhir } from '../../support/fhir-validators.js';
import type { TestStoreFactory, TestStoreHandle } from '../../support/test-stores.js';
import { loopbackPolicy, testWebhookSettings } from '../../support/webhook-fixtures.js';
import { startWebhookReceiver, waitUntil, type WebhookReceiver } from '../../support/webhook-receiver.js';
import { startFacade, type FacadeHarness } from './facade-harness.js';
import { fhirGet, type FhirAnswer } from './fhir-http.js';

export interface SubscriptionFacade {
  h: FacadeHarness;
  receiver: WebhookReceiver;
  /** Undefined when started with `dispatcher: false`. */
  dispatcher: WebhookDispatcher | undefined;
  /** The booking saga behind the booking routes; undefined unless started with `booking: true`. */
  booking: BookingService | undefined;
}

export interface SubscriptionFacadeOptions {
  /** Default: loopback allowlisted. */
  policy?: EndpointPolicy;
  /** Run the dispatcher (default true). */
  dispatcher?: boolean;
  /** Also mount the booking routes (book, reschedule, cancel over FHIR), wired as the app wires them. */
  booking?: boolean;
}

export function useSubscriptionFacade(
  factory: TestStoreFactory,
  options: SubscriptionFacadeOptions = {},
): () => SubscriptionFacade {
  let handle: TestStoreHandle | undefined;
  let running: SubscriptionFacade | undefined;
  beforeAll(async () => {
    // The validators load their definitions synchronously on first use (a second or more): done here, not while
    // a handshake is waiting on this process's receiver.
    expectValidFhir({ resourceType: 'Basic', code: { text: 'warm-up' } });
    handle = await factory.create();
    const store = handle.store;
    let dispatcher: WebhookDispatcher | undefined;
    const receiver = await startWebhookReceiver();
    let booking: BookingService | undefined;
    let clock: (() => Date) | undefined;
    const h = await startFacade({
      store,
      ...(options.booking
        ? { searchSources: { Slot: [createComputedSlotSource({ now: () => (clock as () => Date)() })] } }
        : {}),
      routes: (sync) => {
        const subscriptions = subscriptionRoutes({
          policy: options.policy ?? loopbackPolicy(),
          wake: () => dispatcher?.wake(),
          secretOverlapSeconds: 600,
        });
        if (!options.booking) return [subscriptions];
        clock = sync.clock.now;
        booking = new BookingService({
          store,
          tenants: [{ config: sync.tenants[0]!, connector: sync.connectors[0]! }],
          rules: createStoreBookingRules(store),
          logger: createLogger('silent'),
          now: sync.clock.now,
          holdTtlMs: 30_000,
          recoveryIntervalMs: 0,
        });
        return [subscriptions, bookingRoutes({ booking, now: sync.clock.now })];
      },
    });
    if (options.dispatcher ?? true) {
      dispatcher = createWebhookDispatcher({
        store,
        tenants: [h.tenant],
        // Three quick attempts, then a dead letter: receivers here answer 204 unless a test says otherwise.
        settings: testWebhookSettings({
          // Generous: the receiver shares this process with the validators and the database.
          timeoutMs: 10_000,
          retry: { baseDelayMs: 10, maxDelayMs: 50, maxAgeSeconds: 600, maxAttempts: 3 },
        }),
        logger: createLogger('silent'),
        fhirBaseUrl: () => h.base,
      });
      await dispatcher.start();
    }
    running = { h, receiver, dispatcher, booking };
  });
  afterAll(async () => {
    await running?.booking?.stop();
    await running?.dispatcher?.stop();
    await running?.receiver.close();
    await running?.h.close();
    await handle?.dispose();
  });
  return () => {
    if (!running) throw new Error('useSubscriptionFacade: not started');
    return running;
  };
}

/** A request with a JSON body (or none) to `{base}/{path}`; the answer's body must be valid FHIR R4. */
export async function fhirSend<T = unknown>(
  h: Pick<FacadeHarness, 'base'>,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<FhirAnswer<T>> {
  const response = await fetch(`${h.base}/${path}`, {
    method,
    headers: {
      authorization: 'Bearer test',
      ...(body === undefined ? {} : { 'content-type': 'application/fhir+json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const parsed = (text ? JSON.parse(text) : undefined) as T;
  if (text) expectValidFhir(parsed);
  return { status: response.status, headers: response.headers, body: parsed };
}

/** POSTs `resource`, expecting 201; the created resource and the secret (from the header). */
export async function createSubscription(
  h: Pick<FacadeHarness, 'base'>,
  resource: BackportSubscription,
): Promise<{ subscription: BackportSubscription; secret: string; answer: FhirAnswer<BackportSubscription> }> {
  const answer = await fhirSend<BackportSubscription>(h, 'POST', 'Subscription', resource);
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  const secret = answer.headers.get('x-switchboard-webhook-secret') ?? '';
  expect(secret).toMatch(/^whsec_/);
  return { subscription: answer.body, secret, answer };
}

/** The `status` parameter of `$status` for one subscription, and its `error` text if any. */
export async function statusOf(
  h: Pick<FacadeHarness, 'base'>,
  id: string,
): Promise<{ status: string | undefined; error: string | undefined }> {
  const answer = await fhirGet<Bundle<Parameters>>(h, `Subscription/${id}/$status`, {
    authorization: 'Bearer test',
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  const parameters = answer.body.entry?.[0]?.resource?.parameter ?? [];
  return {
    status: parameters.find((p) => p.name === 'status')?.valueCode,
    error: parameters.find((p) => p.name === 'error')?.valueCodeableConcept?.text,
  };
}

/** Polls `$status` until the subscription has `status` (bounded); says what it had when it never got there. */
export async function waitForStatus(
  h: Pick<FacadeHarness, 'base'>,
  id: string,
  status: string,
): Promise<void> {
  let last: Awaited<ReturnType<typeof statusOf>> | undefined;
  try {
    await waitUntil(
      async () => (last = await statusOf(h, id)).status === status,
      `Subscription/${id} is ${status}`,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; it is ${JSON.stringify(last)}`);
  }
}

let nextSlot = 0;

/** An appointment the front desk booked: its FHIR id and its id in the records system. */
export interface BookedAppointment {
  id: string;
  upstreamId: string;
}

/**
 * The front desk books an appointment in the sim (Monday 2026-11-23, Dr. Johnson's hours, the next quarter hour
 * each time; the sim checks no conflicts), then one sync pass.
 */
export async function frontDeskBooks(h: FacadeHarness): Promise<BookedAppointment> {
  const minutes = 8 * 60 + 15 * (nextSlot++ % 16);
  const hh = String(Math.floor(minutes / 60)).padStart(2, '0');
  const mm = String(minutes % 60).padStart(2, '0');
  const created = await h.sync.frontDesk<SimAppointment>(h.tenant, 'POST', '/appointments', {
    patientId: 2,
    providerId: 1,
    locationId: 1,
    appointmentTypeId: 1,
    start: `2026-11-23T${hh}:${mm}`,
    durationMinutes: 15,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  await h.syncNow();
  const upstreamId = String(created.body.id);
  const id = (await fhirIdsFor(h.store, h.tenant, 'Appointment', [upstreamId])).get(upstreamId);
  if (!id) throw new Error(`appointment ${upstreamId} was not synced`);
  return { id, upstreamId };
}

/** The front desk cancels an appointment in the sim, then one sync pass. */
export async function frontDeskCancels(h: FacadeHarness, appointment: BookedAppointment): Promise<void> {
  const cancelled = await h.sync.frontDesk(
    h.tenant,
    'POST',
    `/appointments/${appointment.upstreamId}/cancel`,
    {
      reason: 'patient called',
    },
  );
  expect(cancelled.status).toBe(200);
  await h.syncNow();
}
