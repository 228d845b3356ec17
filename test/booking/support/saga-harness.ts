/**
 * The booking service over the simulated records system, for the saga tests (DESIGN.md section 4): the tiny
 * practice synced once into the test's store, booking services over its tenant (stopped after each test), and the
 * booking those tests make most: Monday 10:30, a 15-minute follow-up for patient 2 with Dr. Johnson.
 */
import { afterEach } from 'vitest';
import { BookingService, type BookingServiceOptions } from '../../../src/booking/booking-service.js';
import type { BookingRequest } from '../../../src/booking/booking-types.js';
import { createStoreBookingRules } from '../../../src/booking/store-booking-rules.js';
import type { Connector } from '../../../src/connectors/connector.js';
import { createLogger } from '../../../src/logger.js';
import { fhirIdsFor } from '../../../src/store/upstream-ids.js';
import { startSyncHarness, type ManualClock, type SyncHarness } from '../../support/sync-harness.js';
import type { TestStoreHandle } from '../../support/test-stores.js';
import { TINY_FIRM, tinyFirm } from '../../support/tiny-firm.js';

/** Dr. Johnson (provider 1) works Mondays 08–12 at location 1: Monday 2026-11-23, 10:30 in New York. */
export const MONDAY_1030 = new Date('2026-11-23T15:30:00Z');

export interface SagaHarness {
  /** Starts the records system and sync harness (clock: Friday 2026-11-20 10:00 in New York unless given). */
  setUp(clock?: ManualClock): Promise<SyncHarness>;
  /** The harness `setUp` started. */
  harness(): SyncHarness;
  /** A booking service over the tiny practice (through its connector unless given), stopped after the test. */
  service(connector?: Connector, options?: Partial<BookingServiceOptions>): BookingService;
  /** The FHIR id of a records-system record. */
  fhirId(type: 'Patient' | 'Practitioner' | 'Location', upstream: number): Promise<string>;
  /** Monday 10:30, 15 minutes, follow-up, patient 2 with Dr. Johnson at location 1 (with `overrides`). */
  request(overrides?: Partial<BookingRequest>): Promise<BookingRequest>;
}

/** Registers the clean-up hooks in the enclosing `describe`; `db` is its {@link useTestStore} accessor. */
export function useSagaHarness(db: () => TestStoreHandle): SagaHarness {
  let started: SyncHarness | undefined;
  const services: BookingService[] = [];
  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.stop()));
    await started?.close();
    started = undefined;
  });

  const harness = () => {
    if (!started) throw new Error('useSagaHarness: setUp() first');
    return started;
  };
  const fhirId = async (type: 'Patient' | 'Practitioner' | 'Location', upstream: number) =>
    (await fhirIdsFor(db().store, TINY_FIRM, type, [String(upstream)])).get(String(upstream)) as string;

  return {
    async setUp(clock) {
      started = await startSyncHarness({
        firms: [{ name: TINY_FIRM, data: tinyFirm() }],
        store: db().store,
        ...(clock ? { clock } : {}),
      });
      await started.engine.runOnce();
      return started;
    },
    harness,
    service(connector, options = {}) {
      const h = harness();
      const s = new BookingService({
        store: db().store,
        tenants: [{ config: h.tenants[0]!, connector: connector ?? h.connectors[0]! }],
        rules: createStoreBookingRules(db().store),
        logger: createLogger('silent'),
        now: h.clock.now,
        holdTtlMs: 30_000,
        recoveryIntervalMs: 0,
        ...options,
      });
      services.push(s);
      return s;
    },
    fhirId,
    async request(overrides = {}) {
      return {
        patientId: await fhirId('Patient', 2),
        practitionerId: await fhirId('Practitioner', 1),
        locationId: await fhirId('Location', 1),
        appointmentTypeCode: 'FU',
        start: MONDAY_1030,
        minutes: 15,
        ...overrides,
      };
    },
  };
}
