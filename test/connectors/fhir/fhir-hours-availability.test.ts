/**
 * An upstream FHIR server that publishes no Slots (issue 12: ModMed- or Cerner-style, `availability: "hours"`): the
 * FHIR simulator with its `noSlots` quirk, and a whole Switchboard whose tenant computes free time from the
 * practice's configured working hours minus the upstream's appointments, over real HTTP on each dialect. The
 * facade scenarios run over this tenant too (test/fhir/connectors/facade-scenarios.test.ts); here is what is
 * particular to it, and a short booking fault campaign with every invariant.
 */
import { randomBytes } from 'node:crypto';
import type { Appointment, Bundle, CapabilityStatement, OperationOutcome } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { campaignDatabases } from '../../support/booking-campaign/campaign-databases.js';
import {
  bookingBody,
  slotPool,
  templateAt,
  type PoolSlot,
} from '../../support/booking-campaign/campaign-runner.js';
import { startCampaignWorld } from '../../support/booking-campaign/campaign-world.js';
import { runCheckedCampaign } from '../../support/booking-campaign/checked-campaign.js';
import { expectEveryInvariant } from '../../support/booking-campaign/expect-invariants.js';
import {
  connectorRuns,
  SCENARIO_TIMEOUT_MS,
  useConnectorWorld,
} from '../../fhir/connectors/support/connector-worlds.js';

// Short, with fault phases long enough that bookings through the FHIR simulator (seconds each on a loaded
// machine) complete within a fault-free one: with 1-s phases a 60-operation run (seed 252217704) met errors and
// outages for its whole 14 s and booked nothing, which proves nothing.
const CAMPAIGN_OPERATIONS = 60;
const CAMPAIGN_PHASE_MS = 4_000;
const CAMPAIGN_UPSTREAM_TIMEOUT_MS = 2_500;

describe.each(connectorRuns(['fhir-hours']))('a FHIR upstream without Slots ($database.name)', (run) => {
  const world = useConnectorWorld(run);
  const fhirBase = () => world().records.connector(1).baseUrl as string;

  it(
    'publishes no Slots, and Switchboard offers time only in the configured hours, each window with its types',
    { timeout: SCENARIO_TIMEOUT_MS },
    async () => {
      const w = world();
      const metadata = (await (await fetch(`${fhirBase()}/metadata`)).json()) as CapabilityStatement;
      const types = metadata.rest?.[0]?.resource?.map((r) => r.type);
      expect(types).toContain('Appointment');
      expect(types).not.toContain('Slot');

      const practice = w.records.practice;
      const johnson = (await w.practitioners()).find(
        (p) => practice.providers.find((q) => q.id === p.providerId)?.lastName === 'Johnson',
      );
      if (!johnson) throw new Error('no Dr. Johnson');
      const from = new Date(Date.now() + 86_400_000);
      const to = new Date(from.getTime() + 12 * 86_400_000);
      const weekdayOf = (wall: string) =>
        ((new Date(`${wall.slice(0, 10)}T12:00:00Z`).getUTCDay() + 6) % 7) + 1;
      const inTemplate = (start: Date, typeId?: number) => {
        const wall = w.wall(start);
        return practice.templates.some(
          (t) =>
            t.providerId === johnson.providerId &&
            t.weekday === weekdayOf(wall) &&
            t.start <= wall.slice(11) &&
            wall.slice(11) < t.end &&
            (typeId === undefined || !t.appointmentTypeIds || t.appointmentTypeIds.includes(typeId)),
        );
      };
      const followUps = await w.freeSlots(johnson, 'follow-up', from, to);
      expect(followUps.length).toBeGreaterThan(0);
      for (const slot of followUps) expect(inTemplate(new Date(slot.start)), slot.start).toBe(true);
      // New patients: Tuesday afternoons only, as the window's rule says (the sim tenant has the same rule).
      const newPatient = practice.appointmentTypes.find((t) => t.code === 'new-patient');
      const visits = await w.freeSlots(johnson, 'new-patient', from, to);
      for (const slot of visits) {
        const wall = w.wall(new Date(slot.start));
        expect(weekdayOf(wall), slot.start).toBe(2);
        expect(inTemplate(new Date(slot.start), newPatient?.id), slot.start).toBe(true);
      }
      expect(followUps.some((s) => weekdayOf(w.wall(new Date(s.start))) !== 2)).toBe(true);
    },
  );

  it(
    'books with no Slot reference, and never over the front desk’s appointment made a moment before',
    { timeout: SCENARIO_TIMEOUT_MS },
    async () => {
      const w = world();
      const slots = await slotPool(w, await w.practitioners(), { perPractitioner: 40, days: 5 });
      const patients = (await w.patients(300)).slice(-6);
      const [mine, contested] = [slots[3], slots[slots.length - 4]] as [PoolSlot, PoolSlot];
      const activeAt = async (slot: PoolSlot) =>
        (await w.upstreamAppointments()).filter(
          (a) =>
            a.active &&
            a.providerId === slot.practitioner.providerId &&
            a.start < slot.end &&
            slot.start < a.end,
        );

      const booked = await w.fhir(w.tokens[0] as string, 'POST', 'Appointment', {
        body: bookingBody(mine, patients[0] as NonNullable<(typeof patients)[number]>),
      });
      expect(booked.status, JSON.stringify(booked.body)).toBe(201);
      const written = await activeAt(mine);
      expect(written).toHaveLength(1);
      expect(written[0]?.marker).toBeDefined();
      expect(written[0]?.slotReferences).toBe(0);

      // The front desk takes the time in the records system; an agent asks for it before or after sync saw it.
      const frontDesk = await w.records.frontDeskBook({
        providerId: contested.practitioner.providerId,
        locationId: contested.locationId,
        patientId: patients[1]?.simId as number,
        start: contested.start,
        minutes: 15,
      });
      expect(frontDesk.status).toBe(201);
      const refused = await w.fhir<OperationOutcome>(w.tokens[0] as string, 'POST', 'Appointment', {
        body: bookingBody(contested, patients[2] as NonNullable<(typeof patients)[number]>),
      });
      expect(refused.status, JSON.stringify(refused.body)).toBe(409);
      expect((await activeAt(contested)).map((a) => a.id)).toEqual([frontDesk.upstreamId]);
    },
  );

  it(
    'moves an appointment the records system holds with its old Slots dropped',
    { timeout: SCENARIO_TIMEOUT_MS },
    async () => {
      const w = world();
      const practitioners = await w.practitioners();
      const soon = Date.now() + 2 * 86_400_000;
      const seeded = (await w.upstreamAppointments()).find(
        (a) =>
          a.active &&
          (a.slotReferences ?? 0) > 0 &&
          a.start.getTime() > soon &&
          a.end.getTime() - a.start.getTime() === 15 * 60_000,
      );
      if (!seeded) throw new Error('no seeded 15-minute appointment with Slots');
      const practitioner = practitioners.find((p) => p.providerId === seeded.providerId);
      const query = new URLSearchParams([
        ['practitioner', practitioner?.fhirId ?? ''],
        ['date', `ge${seeded.start.toISOString()}`],
        ['date', `lt${new Date(seeded.start.getTime() + 60_000).toISOString()}`],
      ]);
      const found = await w.fhir<Bundle<Appointment>>(w.tokens[0] as string, 'GET', `Appointment?${query}`);
      const appointment = found.body?.entry?.[0]?.resource as Appointment;
      const read = await w.fhir<Appointment>(w.tokens[0] as string, 'GET', `Appointment/${appointment.id}`);
      // Moved within the location the appointment keeps: the practitioner's hours are per location and weekday,
      // so a later time at another location is outside them (this failed on days when the next free time after
      // the seeded appointment fell on a weekday at the other location).
      const seededLocation = templateAt(w, seeded.providerId, seeded.start)?.locationId;
      const target = (await slotPool(w, practitioners, { perPractitioner: 40, days: 5 })).find(
        (s) =>
          s.practitioner.providerId === seeded.providerId &&
          s.locationId === seededLocation &&
          s.start.getTime() > seeded.end.getTime(),
      );
      if (!target) throw new Error('no free time to move to');
      const moved = await w.fhir<Appointment>(w.tokens[0] as string, 'PUT', `Appointment/${appointment.id}`, {
        body: { ...read.body, start: target.start.toISOString(), end: target.end.toISOString() },
        headers: { 'if-match': read.headers?.get('etag') ?? '' },
      });
      expect(moved.status, JSON.stringify(moved.body)).toBe(200);
      const upstream = (await w.upstreamAppointments()).find((a) => a.id === seeded.id);
      expect(upstream?.start.getTime()).toBe(target.start.getTime());
      expect(upstream?.slotReferences).toBe(0);
    },
  );
});

describe.each(campaignDatabases)(
  'booking fault campaign over a FHIR upstream without Slots ($name)',
  (database) => {
    it(
      `keeps every invariant over ${CAMPAIGN_OPERATIONS} faulty operations`,
      { timeout: 420_000 },
      async () => {
        const seed = Number(process.env.CAMPAIGN_SEED ?? randomBytes(4).readUInt32BE(0));
        console.log(`booking fault campaign (fhir-hours connector, ${database.name}): seed ${seed}`);
        const db = await database.create();
        const world = await startCampaignWorld({
          databaseUrl: db.url,
          agents: 4,
          upstreamTimeoutMs: CAMPAIGN_UPSTREAM_TIMEOUT_MS,
          records: 'fhir-hours',
        });
        try {
          const { report } = await runCheckedCampaign(world, {
            seed,
            operations: CAMPAIGN_OPERATIONS,
            phaseMs: CAMPAIGN_PHASE_MS,
          });
          expectEveryInvariant(report, { records: 'fhir-hours', dialect: database.name });
        } finally {
          await world.close();
          await db.drop();
        }
      },
    );
  },
);
