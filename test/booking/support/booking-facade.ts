/**
 * The facade with the booking routes over real HTTP, against the simulated records system (tiny practice) and a
 * store of either dialect: the booking saga is built on the sync harness's connector and clock, exactly as the app
 * wires it. Every FHIR body received is checked by both validators before a test sees it.
 */
import type {
  Appointment,
  Bundle,
  OperationOutcome,
  Parameters as FhirParameters,
  Resource,
} from '@medplum/fhirtypes';
import { afterEach, beforeEach, expect } from 'vitest';
import { bookingRoutes } from '../../../fhir/routes/booking-routes.js';
import { bookingsInFlightSource } from '../../../fhir/search/bookings-in-flight-source.js';
import { createComputedSlotSource } from '../../../fhir/search/computed-slot-source.js';
import { BookingService } from '../../../src/booking/booking-service.js';
import { createStoreBookingRules } from '../../../src/booking/store-booking-rules.js';
import type { Connector } from '../../../src/connectors/connector.js';
import { createLogger } from '../../../src/logger.js';
import type { SimAppointment } from '../../../src/sim/sim-types.js';
import { fhirIdsFor } from '../../../src/store/upstream-ids.js';
import { startFacade, type FacadeHarness } from '../../fhir/support/facade-harness.js';
import { expectValidFhir } from '../../support/fhir-validators.js';
import type { TestStoreFactory } from '../../support/test-stores.js';
import { useTestStore } from '../../support/test-stores.js';
import { TINY_FIRM } from '../../support/tiny-firm.js';

export interface BookingFacade extends FacadeHarness {
  booking: BookingService;
  /** Replaces the connector the saga uses (a racing or dying one); the sync engine keeps the real one. */
  useConnector(connector: Connector): void;
  /** The FHIR id of an upstream record of the tiny practice. */
  fhirId(type: 'Patient' | 'Practitioner' | 'Location', upstream: number): Promise<string>;
  /** The sim's own active appointments (cancelled ones too when asked) of a provider at a wall time. */
  upstreamAt(wall: string, options?: { providerId?: number; includeCancelled?: boolean }): SimAppointment[];
}

/** A fresh store, sim and facade with booking routes for every test of the enclosing `describe`. */
export function useBookingFacade(
  factory: TestStoreFactory,
  options: { holdSeconds?: number; clients?: Readonly<Record<string, string>> } = {},
): () => BookingFacade {
  const db = useTestStore(factory);
  let current: BookingFacade | undefined;
  beforeEach(async () => {
    const store = db().store;
    const connector: { current?: Connector } = {};
    // The saga talks to whatever connector the test put in place; the sync engine keeps the real one.
    const delegating = new Proxy({} as Connector, {
      get(_target, property) {
        const target = connector.current as Connector;
        const value: unknown = Reflect.get(target, property);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    let booking: BookingService | undefined;
    let clock: (() => Date) | undefined;
    const harness = await startFacade({
      store,
      clients: options.clients,
      searchSources: {
        Slot: [createComputedSlotSource({ now: () => (clock as () => Date)() })],
        Appointment: [bookingsInFlightSource(() => booking as BookingService)],
      },
      routes: (sync) => {
        clock = sync.clock.now;
        connector.current = sync.connectors[0];
        booking = new BookingService({
          store,
          tenants: [{ config: sync.tenants[0]!, connector: delegating }],
          rules: createStoreBookingRules(store),
          logger: createLogger('silent'),
          now: sync.clock.now,
          holdTtlMs: 30_000,
          recoveryIntervalMs: 0,
        });
        return [bookingRoutes({ booking: booking, now: sync.clock.now, holdSeconds: options.holdSeconds })];
      },
    });
    current = Object.assign(harness, {
      booking: booking as BookingService,
      useConnector(c: Connector) {
        connector.current = c;
      },
      async fhirId(type: 'Patient' | 'Practitioner' | 'Location', upstream: number) {
        return (await fhirIdsFor(store, TINY_FIRM, type, [String(upstream)])).get(String(upstream)) as string;
      },
      upstreamAt(wall: string, o: { providerId?: number; includeCancelled?: boolean } = {}) {
        return harness.sync.sim
          .state(TINY_FIRM)
          .appointments.filter(
            (a) =>
              a.providerId === (o.providerId ?? 1) &&
              a.start === wall &&
              (o.includeCancelled === true || a.status !== 'cancelled'),
          );
      },
    });
  });
  afterEach(async () => {
    const h = current;
    current = undefined;
    await h?.booking.stop();
    await h?.close();
  });
  return () => {
    if (!current) throw new Error('useBookingFacade: no facade outside a running test');
    return current;
  };
}

export interface FhirAnswer<T = Resource> {
  status: number;
  headers: Headers;
  body: T;
}

/** A request to `{base}/{path}`; the answer's body, when there is one, must be valid FHIR R4. */
export async function fhirRequest<T = Resource>(
  h: Pick<FacadeHarness, 'base'>,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; contentType?: string } = {},
): Promise<FhirAnswer<T>> {
  const response = await fetch(`${h.base}/${path}`, {
    method,
    headers: {
      ...(options.body === undefined
        ? {}
        : { 'content-type': options.contentType ?? 'application/fhir+json' }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  const body = (text ? JSON.parse(text) : undefined) as T;
  if (text) expectValidFhir(body);
  return { status: response.status, headers: response.headers, body };
}

/**
 * The OperationOutcome of a failure: the body itself, or — `$hold` / `$book` (IHE ITI-116/117) — the only entry of
 * a searchset Bundle.
 */
export function failureOutcome(answer: FhirAnswer<unknown>): OperationOutcome {
  const body = answer.body as Resource;
  if (body.resourceType !== 'Bundle') return body as OperationOutcome;
  const entries = (body as Bundle).entry ?? [];
  expect(entries.map((e) => [e.resource?.resourceType, e.search?.mode])).toEqual([
    ['OperationOutcome', 'outcome'],
  ]);
  return entries[0]?.resource as OperationOutcome;
}

/** The precise Switchboard code of an OperationOutcome answer. */
export function detailCode(answer: FhirAnswer<unknown>): string | undefined {
  return failureOutcome(answer).issue?.[0]?.details?.coding?.[0]?.code;
}

/** Asserts an OperationOutcome answer (or an IHE failure Bundle) with this status (and detail code). */
export function expectFailure(answer: FhirAnswer<unknown>, status: number, code?: string): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(failureOutcome(answer).resourceType).toBe('OperationOutcome');
  expect(answer.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
  if (code !== undefined) expect(detailCode(answer)).toBe(code);
}

/** Monday 10:30–10:45 for the sim patient given (2 unless told) with Dr. Johnson (follow-up), as a client would POST it. */
export async function monday1030(h: BookingFacade, patient = 2): Promise<Appointment> {
  return {
    resourceType: 'Appointment',
    status: 'booked',
    appointmentType: { coding: [{ code: 'FU' }] },
    start: '2026-11-23T10:30:00-05:00',
    end: '2026-11-23T10:45:00-05:00',
    participant: [
      { actor: { reference: `Patient/${await h.fhirId('Patient', patient)}` }, status: 'accepted' },
      { actor: { reference: `Practitioner/${await h.fhirId('Practitioner', 1)}` }, status: 'accepted' },
    ],
  };
}

/** Books Monday 10:30 for patient 2 with Dr. Johnson and answers the appointment with its ETag. */
export async function booked(h: BookingFacade): Promise<{ appointment: Appointment; etag: string }> {
  const answer = await fhirRequest<Appointment>(h, 'POST', 'Appointment', { body: await monday1030(h) });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return { appointment: answer.body, etag: answer.headers.get('etag') as string };
}

/**
 * Puts a connector in place whose appointment creates wait at the records system until `open()`; `writing`
 * resolves when the first one arrives (the saga is recorded and its write sent).
 */
export function gateCreates(h: BookingFacade): { writing: Promise<void>; open: () => void } {
  const real = h.sync.connectors[0] as Connector;
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let reached: () => void = () => undefined;
  const writing = new Promise<void>((resolve) => (reached = resolve));
  h.useConnector(
    Object.create(real, {
      createAppointment: {
        value: async (...args: Parameters<Connector['createAppointment']>) => {
          reached();
          await gate;
          return real.createAppointment(...args);
        },
      },
    }) as Connector,
  );
  return { writing, open };
}

/** Patient 2's appointments in the records system's own API: [wall start, status]. */
export const upstreamOfPatient2 = (h: BookingFacade) =>
  h.sync.sim
    .state(TINY_FIRM)
    .appointments.filter((a) => a.patientId === 2)
    .map((a) => [a.start, a.status]);

/** An operation's `Parameters` body. */
export function parameters(...parameter: NonNullable<FhirParameters['parameter']>): FhirParameters {
  return { resourceType: 'Parameters', parameter };
}

/** `$find` for Dr. Johnson on Monday morning (10:00–12:00), follow-ups, as Parameters; answered 200. */
export async function findMonday(
  h: BookingFacade,
  extra: NonNullable<FhirParameters['parameter']> = [],
): Promise<Bundle> {
  const answer = await fhirRequest<Bundle>(h, 'POST', 'Appointment/$find', {
    body: parameters(
      { name: 'start', valueDateTime: '2026-11-23T10:00:00-05:00' },
      { name: 'end', valueDateTime: '2026-11-23T12:00:00-05:00' },
      {
        name: 'practitioner',
        valueReference: { reference: `Practitioner/${await h.fhirId('Practitioner', 1)}` },
      },
      { name: 'visit-type', valueCoding: { code: 'FU' } },
      ...extra,
    ),
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body;
}
