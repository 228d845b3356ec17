/**
 * An upstream with its own scheduling operations (issue 12; IHE Scheduling- / Epic-style `$find` and `$book`),
 * over real HTTP: the FHIR simulator offers them when its `findAndBook` quirk is on and lists them in its
 * CapabilityStatement only then; the FHIR connector discovers them, re-checks the time with `$find` and writes with
 * `$book`, and uses neither when the server does not offer them.
 */
import type { Appointment, Bundle, CapabilityStatement } from '@medplum/fhirtypes';
import { afterEach, describe, expect, it } from 'vitest';
import { BookingService } from '../../../src/booking/booking-service.js';
import type { BookingOutcome, BookingRequest } from '../../../src/booking/booking-types.js';
import { createStoreBookingRules } from '../../../src/booking/store-booking-rules.js';
import type { Connector } from '../../../src/connectors/connector.js';
import { createConnector } from '../../../src/connectors/create-connector.js';
import { createLogger } from '../../../src/logger.js';
import { fhirIdsFor } from '../../../src/store/upstream-ids.js';
import { startFhirSyncHarness, type FhirSyncHarness } from '../../support/fhir-sync-harness.js';
import { testStoreFactories, useTestStore } from '../../support/test-stores.js';
import { TINY_FIRM, tinyFirm } from '../../support/tiny-firm.js';

// Dr. Johnson (1) works Mondays 08–12 at location 1. Clock: Friday 2026-11-20.
const MONDAY_1030 = new Date('2026-11-23T15:30:00Z');
const SLOT_1030 = 'Slot/1-1-202611231530';

describe.each(testStoreFactories)('an upstream with find and book operations ($name)', (factory) => {
  const db = useTestStore(factory);
  let h: FhirSyncHarness | undefined;
  const services: BookingService[] = [];
  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.stop()));
    await h?.close();
    h = undefined;
  });

  /** The harness with the quirk set before the first call (capabilities are discovered then), synced once. */
  async function setUp(findAndBook: boolean, wrap: (connector: Connector) => Connector = (c) => c) {
    const harness = await startFhirSyncHarness({
      firms: [{ name: TINY_FIRM, data: tinyFirm() }],
      store: db().store,
    });
    h = harness;
    harness.sim.quirks.set({ findAndBook });
    await harness.engine.runOnce();
    // The saga's own connector, watched: which upstream endpoints a booking calls.
    const endpoints: string[] = [];
    const tenant = harness.tenants[0]!;
    const connector = wrap(
      createConnector(tenant, {
        now: harness.clock.now,
        observe: (call) => endpoints.push(call.endpoint),
      }),
    );
    const booking = new BookingService({
      store: db().store,
      tenants: [{ config: tenant, connector }],
      rules: createStoreBookingRules(db().store),
      logger: createLogger('silent'),
      now: harness.clock.now,
      holdTtlMs: 30_000,
      recoveryIntervalMs: 0,
    });
    services.push(booking);
    return { harness, booking, endpoints };
  }

  const fhirId = async (type: 'Patient' | 'Practitioner' | 'Location', upstream: string) =>
    (await fhirIdsFor(db().store, TINY_FIRM, type, [upstream])).get(upstream) as string;
  const request = async (): Promise<BookingRequest> => ({
    patientId: await fhirId('Patient', '2'),
    practitionerId: await fhirId('Practitioner', '1'),
    locationId: await fhirId('Location', '1'),
    appointmentTypeCode: 'FU',
    start: MONDAY_1030,
    minutes: 15,
  });
  const codeOf = (outcome: BookingOutcome) => (outcome.ok ? 'booked' : outcome.code);
  const upstreamAt1030 = async (harness: FhirSyncHarness) =>
    (
      await harness.frontDesk<Bundle<Appointment>>(
        TINY_FIRM,
        'GET',
        `Appointment?date=ge${encodeURIComponent(MONDAY_1030.toISOString())}&date=lt${encodeURIComponent(new Date(MONDAY_1030.getTime() + 60_000).toISOString())}`,
      )
    ).body.entry
      ?.map((e) => e.resource as Appointment)
      .filter((a) => a.status !== 'cancelled') ?? [];

  it('discovers $find and $book, re-checks the time with $find and books with $book', async () => {
    const { harness, booking, endpoints } = await setUp(true);
    const metadata = (await (
      await fetch(`${harness.sim.fhirBase(TINY_FIRM)}/metadata`)
    ).json()) as CapabilityStatement;
    expect(metadata.rest?.[0]?.operation?.map((o) => o.name)).toEqual(['find', 'book']);

    const outcome = await booking.book(TINY_FIRM, await request());
    expect(codeOf(outcome)).toBe('booked');
    expect(endpoints).toContain('GET /Appointment/$find');
    expect(endpoints).toContain('POST /Appointment/$book');
    expect(endpoints).not.toContain('POST /Appointment');
    const [written, ...more] = await upstreamAt1030(harness);
    expect(more).toEqual([]);
    expect(written?.identifier?.[0]?.value).toMatch(/^switchboard:/);
    expect(written?.slot?.map((s) => s.reference)).toEqual([SLOT_1030]);
  });

  it('refuses time $find no longer offers, though no appointment holds it', async () => {
    const { harness, booking } = await setUp(true);
    // The practice closes 10:30 upstream (the Slot is no longer free); Switchboard's copy has not seen it yet.
    const repo = harness.sim.repository(TINY_FIRM);
    const slot = await repo.readResource('Slot', SLOT_1030.slice('Slot/'.length));
    await repo.updateResource({ ...slot, status: 'busy-unavailable' } as typeof slot);
    expect(codeOf(await booking.book(TINY_FIRM, await request()))).toBe('provider-unavailable');
    expect(await upstreamAt1030(harness)).toEqual([]);
  });

  it('uses neither when the server does not offer them, and the server refuses them then', async () => {
    const { harness, booking, endpoints } = await setUp(false);
    const find = await harness.frontDesk(
      TINY_FIRM,
      'GET',
      `Appointment/$find?start=${MONDAY_1030.toISOString()}&end=${new Date(MONDAY_1030.getTime() + 3_600_000).toISOString()}&practitioner=Practitioner/1`,
    );
    expect(find.status).toBe(404);
    expect(codeOf(await booking.book(TINY_FIRM, await request()))).toBe('booked');
    expect(endpoints).toContain('POST /Appointment');
    expect(endpoints.filter((e) => e.includes('$'))).toEqual([]);
  });

  it('$book checks what POST Appointment does not: a taken time is refused with 409', async () => {
    const { harness } = await setUp(true);
    const appointment = {
      resourceType: 'Appointment',
      status: 'booked',
      start: MONDAY_1030.toISOString(),
      end: new Date(MONDAY_1030.getTime() + 15 * 60_000).toISOString(),
      participant: [
        { actor: { reference: 'Patient/1' }, status: 'accepted' },
        { actor: { reference: 'Practitioner/1' }, status: 'accepted' },
        { actor: { reference: 'Location/1' }, status: 'accepted' },
      ],
    };
    const book = () =>
      harness.frontDesk(TINY_FIRM, 'POST', 'Appointment/$book', {
        resourceType: 'Parameters',
        parameter: [{ name: 'appointment', resource: appointment }],
      });
    expect((await book()).status).toBe(201);
    const again = await book();
    expect(again.status).toBe(409);
    expect(JSON.stringify(again.body)).toContain('conflict');
    expect(await upstreamAt1030(harness)).toHaveLength(1);
  });

  it('answers slot-taken, with other times, when $book refuses a time the front desk took after the re-check', async () => {
    const race: { frontDesk?: () => Promise<unknown> } = {};
    const { harness, booking } = await setUp(
      true,
      (real) =>
        Object.create(real, {
          createAppointment: {
            value: async (...args: Parameters<Connector['createAppointment']>) => {
              await race.frontDesk?.();
              return real.createAppointment(...args);
            },
          },
        }) as Connector,
    );
    // Between Switchboard's re-check and its write, the front desk books 10:30 for patient 1.
    race.frontDesk = () =>
      harness.frontDesk(TINY_FIRM, 'POST', 'Appointment', {
        resourceType: 'Appointment',
        status: 'booked',
        start: MONDAY_1030.toISOString(),
        end: new Date(MONDAY_1030.getTime() + 15 * 60_000).toISOString(),
        participant: [
          { actor: { reference: 'Patient/1' }, status: 'accepted' },
          { actor: { reference: 'Practitioner/1' }, status: 'accepted' },
          { actor: { reference: 'Location/1' }, status: 'accepted' },
        ],
      });
    const outcome = await booking.book(TINY_FIRM, await request());
    expect(codeOf(outcome)).toBe('slot-taken');
    expect(outcome.ok ? [] : outcome.alternatives).not.toEqual([]);
    const upstream = await upstreamAt1030(harness);
    expect(upstream.map((a) => a.identifier?.[0]?.value)).toEqual([undefined]);
  });
});
