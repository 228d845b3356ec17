/**
 * The FHIR facade's scenarios that make sense for any records system, run for both connectors (issue 12): the
 * proprietary simulator through the sim connector, and the FHIR simulator on Medplum's engine through the FHIR
 * connector, each behind a whole Switchboard over real HTTP, on each dialect. The same scenarios and the same
 * invariants: the records system's own memory is the ground truth (campaign-records.ts), and every body the facade
 * answers must be valid FHIR R4.
 */
import type { Appointment, Bundle, Patient, Resource, Slot } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import type { HttpAnswer } from '../../support/booking-campaign/campaign-world.js';
import { bookingBody, slotPool, type PoolSlot } from '../../support/booking-campaign/campaign-runner.js';
import { expectValidFhir } from '../../support/fhir-validators.js';
import {
  connectorRuns,
  eventually,
  SCENARIO_TIMEOUT_MS,
  useConnectorWorld,
} from './support/connector-worlds.js';

const FOLLOW_UP = 'follow-up';

describe.each(connectorRuns(['sim', 'fhir', 'fhir-hours']))(
  'FHIR facade over the $records connector ($database.name)',
  (run) => {
    const world = useConnectorWorld(run);

    /** A FHIR call as the agent; the body (when there is one) must be valid FHIR R4. */
    async function call<T>(
      method: string,
      path: string,
      options: Parameters<ReturnType<typeof world>['fhir']>[3] = {},
    ) {
      const w = world();
      const answer: HttpAnswer<T> = await w.fhir<T>(w.tokens[0] as string, method, path, options);
      if (answer.body !== undefined) expectValidFhir(answer.body);
      return answer;
    }
    const entries = <T extends Resource>(answer: HttpAnswer<Bundle<T>>): T[] =>
      (answer.body?.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));

    /** Free follow-up slots the facade offers over the next working days, for every practitioner. */
    const pool = async (): Promise<PoolSlot[]> =>
      slotPool(world(), await world().practitioners(), { perPractitioner: 40, days: 5 });

    it(
      'offers only free time: inside working hours, never over an appointment the records system holds',
      { timeout: SCENARIO_TIMEOUT_MS },
      async () => {
        const w = world();
        const slots = await pool();
        expect(slots.length).toBeGreaterThan(0);
        const busy = (await w.upstreamAppointments()).filter((a) => a.active);
        for (const slot of slots) {
          const clash = busy.find(
            (a) => a.providerId === slot.practitioner.providerId && a.start < slot.end && slot.start < a.end,
          );
          expect(
            clash,
            `${slot.id} at ${w.wall(slot.start)} overlaps ${JSON.stringify(clash)}`,
          ).toBeUndefined();
        }
        // Each one reads back as a free Slot of a Schedule the facade serves.
        const [first] = slots;
        const read = await call<Slot>('GET', `Slot/${first?.id}`);
        expect(read.status).toBe(200);
        expect(read.body).toMatchObject({ resourceType: 'Slot', id: first?.id, status: 'free' });
        const schedule = await call('GET', read.body?.schedule.reference ?? '');
        expect(schedule.status).toBe(200);
      },
    );

    it(
      'finds a patient by name and birth date, reads it, and never shows the records system’s id',
      { timeout: SCENARIO_TIMEOUT_MS },
      async () => {
        const w = world();
        const johns = w.records.practice.patients.filter(
          (p) => p.firstName === 'John' && p.lastName === 'Smith',
        );
        expect(johns.length).toBe(2);
        const both = entries(await call<Bundle<Patient>>('GET', 'Patient?family=smith&given=john&_count=50'));
        const mrns = (p: Patient) => p.identifier?.map((i) => i.value) ?? [];
        for (const john of johns) expect(both.some((p) => mrns(p).includes(john.mrn))).toBe(true);

        const john = johns[1] as (typeof johns)[number];
        const one = entries(
          await call<Bundle<Patient>>('GET', `Patient?family=Smith&given=John&birthdate=${john.dob}`),
        );
        expect(one.map(mrns)).toEqual([[john.mrn]]);
        const patient = one[0] as Patient;
        expect(patient.id).not.toBe(String(john.id));
        const read = await call<Patient>('GET', `Patient/${patient.id}`);
        expect(read.status).toBe(200);
        expect(read.body).toMatchObject({ id: patient.id, birthDate: john.dob, name: [{ family: 'Smith' }] });
      },
    );

    it(
      'searches and reads the appointments the records system holds',
      { timeout: SCENARIO_TIMEOUT_MS },
      async () => {
        const w = world();
        const practitioners = await w.practitioners();
        const soon = Date.now() + 86_400_000;
        const upstream = (await w.upstreamAppointments())
          .filter((a) => a.active && a.start.getTime() > soon && a.start.getTime() < soon + 5 * 86_400_000)
          .sort((a, b) => a.start.getTime() - b.start.getTime())[0];
        expect(upstream).toBeDefined();
        const practitioner = practitioners.find((p) => p.providerId === upstream?.providerId);
        const start = upstream?.start as Date;
        const query = new URLSearchParams([
          ['practitioner', practitioner?.fhirId ?? ''],
          ['date', `ge${start.toISOString()}`],
          ['date', `lt${new Date(start.getTime() + 60_000).toISOString()}`],
        ]);
        const found = entries(await call<Bundle<Appointment>>('GET', `Appointment?${query}`));
        expect(found).toHaveLength(1);
        const appointment = found[0] as Appointment;
        expect(appointment.id).not.toBe(upstream?.id);
        expect(Date.parse(appointment.start ?? '')).toBe(start.getTime());
        expect(Date.parse(appointment.end ?? '')).toBe(upstream?.end.getTime());
        const read = await call<Appointment>('GET', `Appointment/${appointment.id}`);
        expect(read.status).toBe(200);
        expect(read.body?.status).toBe(appointment.status);
        // Its references are Switchboard's and resolve.
        const patientRef = appointment.participant.find((p) => p.actor?.reference?.startsWith('Patient/'));
        expect((await call('GET', patientRef?.actor?.reference ?? '')).status).toBe(200);
      },
    );

    it(
      'books, reschedules and cancels through the facade, in the records system, and offers the time again',
      { timeout: SCENARIO_TIMEOUT_MS },
      async () => {
        const w = world();
        const slots = await pool();
        const [patient] = (await w.patients(400)).slice(-1);
        const first = slots[0] as PoolSlot;
        // The same practitioner at the same location: the reschedule below changes the time only (a practitioner
        // seeing patients at two locations works at the other one some days, where this location is outside hours).
        const other = slots.find(
          (s) =>
            s.practitioner.fhirId === first.practitioner.fhirId &&
            s.locationId === first.locationId &&
            s.start.getTime() >= first.end.getTime(),
        ) as PoolSlot;
        expect(patient && other).toBeTruthy();
        const upstreamAt = async (slot: PoolSlot) =>
          (await w.upstreamAppointments()).filter(
            (a) =>
              a.active &&
              a.marker !== undefined &&
              a.providerId === slot.practitioner.providerId &&
              a.start.getTime() === slot.start.getTime(),
          );

        const booked = await call<Appointment>('POST', 'Appointment', {
          body: bookingBody(first, patient as NonNullable<typeof patient>),
        });
        expect(booked.status, JSON.stringify(booked.body)).toBe(201);
        expect(booked.body?.status).toBe('booked');
        expect(await upstreamAt(first)).toHaveLength(1);
        const id = booked.body?.id as string;
        const offered = async (slot: PoolSlot) =>
          (await w.freeSlots(slot.practitioner, FOLLOW_UP, slot.start, slot.end)).some(
            (s) => Date.parse(s.start) === slot.start.getTime(),
          );
        expect(await offered(first)).toBe(false);

        const moved = await call<Appointment>('PUT', `Appointment/${id}`, {
          body: { ...booked.body, start: other.start.toISOString(), end: other.end.toISOString() },
          headers: { 'if-match': booked.headers?.get('etag') ?? '' },
        });
        expect(moved.status, JSON.stringify(moved.body)).toBe(200);
        expect(Date.parse(moved.body?.start ?? '')).toBe(other.start.getTime());
        expect(await upstreamAt(first)).toHaveLength(0);
        expect(await upstreamAt(other)).toHaveLength(1);
        expect(await offered(other)).toBe(false);

        const cancelled = await call<Appointment>('PATCH', `Appointment/${id}`, {
          body: [{ op: 'replace', path: '/status', value: 'cancelled' }],
          contentType: 'application/json-patch+json',
        });
        expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
        expect(cancelled.body?.status).toBe('cancelled');
        expect(await upstreamAt(other)).toHaveLength(0);
        await eventually(
          async () => (await offered(first)) && (await offered(other)),
          'both times are offered again',
        );
      },
    );

    it(
      'takes a front-desk booking’s time out of Slot search, and gives it back when the front desk cancels',
      { timeout: SCENARIO_TIMEOUT_MS },
      async () => {
        const w = world();
        const slots = await pool();
        const slot = slots[Math.floor(slots.length / 2)] as PoolSlot;
        const [patient] = await w.patients(1);
        const offered = async () =>
          (await w.freeSlots(slot.practitioner, FOLLOW_UP, slot.start, slot.end)).some(
            (s) => Date.parse(s.start) === slot.start.getTime(),
          );
        expect(await offered()).toBe(true);
        const booked = await w.records.frontDeskBook({
          providerId: slot.practitioner.providerId,
          locationId: slot.locationId,
          patientId: patient?.simId as number,
          start: slot.start,
          minutes: 15,
        });
        expect(booked.status).toBe(201);
        await eventually(async () => !(await offered()), 'the booked time is no longer offered');
        const cancelled = await w.records.frontDeskCancel(booked.upstreamId as string);
        expect(cancelled.status).toBe(200);
        await eventually(offered, 'the cancelled time is offered again');
      },
    );
  },
);
