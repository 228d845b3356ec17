/**
 * Scale-out proven with real processes (issue 11): three Switchboard instances (`tsx src/main.ts demo` with
 * SIM_URL) on one simulated records system and one PostgreSQL database.
 * - the records system sees one poller whatever the number of instances;
 * - 30 concurrent bookings of one slot spread over the three: exactly one 201 and one upstream appointment;
 * - kill -9 of the instance holding the tenant's lease: another takes over, and a front-desk change made after the
 *   kill reaches the facade and a webhook subscriber;
 * - a restarted instance joins and is ready without holding the lease.
 * PostgreSQL only: several processes share a store only there (SQLite is one process's file).
 */
import type { Appointment, Bundle, Patient, Schedule, Slot } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rendezvousOwner } from '../../src/leases/rendezvous.js';
import { startDemoSim, type RunningSim } from '../../src/sim/demo-sim.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { createCluster, eventually, type Cluster, type ClusterInstance } from './support/cluster.js';
import { agreedHolder, callsInWindow, fhir, readyz } from './support/cluster-probes.js';

const ADMIN_URL = process.env.TEST_DATABASE_URL;
const FIRM = 'riverside';

describe.skipIf(!ADMIN_URL)(
  ADMIN_URL
    ? 'three instances on one PostgreSQL and one records system'
    : 'three instances (skipped: TEST_DATABASE_URL is not set; several instances share a store only on PostgreSQL)',
  () => {
    let sim: RunningSim;
    let cluster: Cluster;
    let receiver: WebhookReceiver;

    beforeAll(async () => {
      sim = await startDemoSim({ port: 0 });
      receiver = await startWebhookReceiver();
      cluster = await createCluster({ adminUrl: ADMIN_URL as string, simUrl: sim.url });
    }, 60_000);

    afterAll(async () => {
      await cluster?.dispose();
      await receiver?.close();
      await sim?.stop();
    }, 60_000);

    const live = () => cluster.instances.filter((i) => i.alive());

    it('polls the records system as one poller: calls per window with three instances within 20 % of one instance, from one caller', async () => {
      const first = await cluster.start();
      expect(await agreedHolder([first])).toBe(first.id);
      const one = await callsInWindow(sim);
      expect(one.callers).toHaveLength(1);

      await Promise.all([cluster.start(), cluster.start()]);
      // Settled: the tenant has moved (or stayed) where rendezvous hashing over the three puts it.
      const owner = rendezvousOwner(
        live().map((i) => i.id),
        'demo',
      );
      const holder = await agreedHolder(live(), owner);
      expect(live()).toHaveLength(3);
      // The three instances have distinct ids, and every one is ready though only one holds the lease.
      expect(new Set(live().map((i) => i.id)).size).toBe(3);
      const three = await callsInWindow(sim);
      expect(await agreedHolder(live())).toBe(holder);

      expect(three.callers).toHaveLength(1);
      expect(one.total).toBeGreaterThan(0);
      expect(Math.abs(three.total - one.total) / one.total).toBeLessThanOrEqual(0.2);

      // Metrics: the lease gauge names the holder, and the figures carry each instance's own label.
      const metrics = await (await fetch(`${live()[1]!.url}/metrics`)).text();
      expect(metrics).toContain(
        `switchboard_sync_lease{tenant="demo",stream="window-hot",holder="${holder}",instance="${live()[1]!.id}"} 1`,
      );
    }, 180_000);

    it('books one slot exactly once when 30 concurrent requests for it are spread over the three instances', async () => {
      const instances = live();
      const [a] = instances as [ClusterInstance];
      const from = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
      const slots = await fhir<Bundle<Slot>>(a, `Slot?service-type=follow-up&start=ge${from}&_count=1`);
      const slot = slots.body.entry?.[0]?.resource as Slot;
      expect(slot?.id).toBeDefined();
      const schedule = await fhir<Schedule>(
        a,
        (slot.schedule.reference as string).replace(/^.*Schedule\//, 'Schedule/'),
      );
      const practitioner = schedule.body.actor.find((r) => r.reference?.includes('Practitioner/'))?.reference;
      const patients = await fhir<Bundle<Patient>>(a, 'Patient?_count=30');
      const patientIds = (patients.body.entry ?? []).map((e) => e.resource?.id as string);
      expect(patientIds).toHaveLength(30);

      const answers = await Promise.all(
        patientIds.map((patientId, i) =>
          fhir<Appointment>(instances[i % 3]!, 'Appointment', {
            method: 'POST',
            headers: { 'Content-Type': 'application/fhir+json' },
            body: JSON.stringify({
              resourceType: 'Appointment',
              status: 'booked',
              slot: [{ reference: `Slot/${slot.id}` }],
              appointmentType: {
                coding: [{ system: 'urn:switchboard:demo:appointment-type', code: 'follow-up' }],
              },
              participant: [
                { actor: { reference: `Patient/${patientId}` }, status: 'accepted' },
                { actor: { reference: practitioner }, status: 'accepted' },
              ],
            }),
          }),
        ),
      );
      const statuses = answers.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s >= 200 && s < 300 && s !== 201)).toEqual([]);

      // The records system holds exactly one (live) appointment at that time for that practitioner.
      const booked = answers.find((r) => r.status === 201)?.body as Appointment;
      const marker = booked.identifier?.find((i) => i.value?.startsWith('switchboard:'))?.value;
      const upstream = sim.server
        .state(FIRM)
        .appointments.filter((x) => x.status !== 'cancelled' && x.externalRef?.startsWith('switchboard:'));
      expect(upstream.filter((x) => x.externalRef === marker)).toHaveLength(1);
      const sameTime = upstream.filter(
        (x) =>
          x.start === upstream.find((y) => y.externalRef === marker)?.start &&
          x.providerId === upstream.find((y) => y.externalRef === marker)?.providerId,
      );
      expect(sameTime).toHaveLength(1);
    }, 120_000);

    it('passes the lease on when its holder is killed with SIGKILL, and a front-desk change made after the kill reaches the facade and a webhook subscriber', async () => {
      const holderId = await agreedHolder(live());
      const holder = live().find((i) => i.id === holderId) as ClusterInstance;
      const other = live().find((i) => i.id !== holderId) as ClusterInstance;

      // A subscriber to front-desk bookings, registered through a non-holder.
      const created = await fhir<{ id: string }>(other, 'Subscription', {
        method: 'POST',
        headers: { 'Content-Type': 'application/fhir+json' },
        body: JSON.stringify({
          resourceType: 'Subscription',
          status: 'requested',
          reason: 'scale-out test',
          criteria: 'https://switchboard.health/fhir/SubscriptionTopic/appointment-booked',
          channel: {
            type: 'rest-hook',
            endpoint: receiver.url,
            payload: 'application/fhir+json',
            _payload: {
              extension: [
                {
                  url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content',
                  valueCode: 'id-only',
                },
              ],
            },
          },
        }),
      });
      expect(created.status).toBe(201);
      await eventually(async () => {
        const sub = await fhir<{ status: string }>(other, `Subscription/${created.body.id}`);
        return sub.body.status === 'active' ? true : undefined;
      }, 'the subscription is active after its handshake');

      await holder.kill9();
      const newHolder = await agreedHolder(live());
      expect(newHolder).not.toBe(holderId);
      expect(live().map((i) => i.id)).toContain(newHolder);

      // The front desk books in the records system after the kill.
      const simFirm = `${sim.url}/firm/${FIRM}`;
      const token = (await (
        await fetch(`${simFirm}/oauth/token`, {
          method: 'POST',
          body: new URLSearchParams({
            grant_type: 'password',
            username: 'switchboard',
            password: 'demo-password',
          }),
        })
      ).json()) as { access_token: string };
      const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
      const frontDesk = await fetch(`${simFirm}/api/appointments`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token.access_token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          patientId: 1,
          providerId: 4,
          locationId: 2,
          appointmentTypeId: 3,
          start: `${tomorrow}T06:45`,
          durationMinutes: 15,
          notes: 'scale-out front desk',
        }),
      });
      expect(frontDesk.status).toBe(201);

      // The subscriber hears of it, and the facade of a surviving instance serves it.
      const notified = await eventually(async () => {
        for (const request of receiver.received) {
          const bundle = JSON.parse(request.body || '{}') as Bundle;
          for (const entry of bundle.entry ?? []) {
            const ref = entry.fullUrl ?? '';
            const id = /Appointment\/([^/]+)$/.exec(ref)?.[1];
            if (!id) continue;
            const read = await fhir<Appointment>(other, `Appointment/${id}`);
            if (
              read.status === 200 &&
              read.body.start?.startsWith(tomorrow) &&
              read.body.comment === 'scale-out front desk'
            )
              return { read: read.body, webhookId: request.headers['webhook-id'] };
          }
        }
        return undefined;
      }, 'the front-desk booking reaches the subscriber and the facade');
      expect(notified.webhookId).toBeDefined();
      expect(notified.read.status).toBe('booked');
    }, 180_000);

    it('lets a restarted instance join: ready at once, whether or not it holds the lease', async () => {
      const joined = await cluster.start();
      const holder = await agreedHolder(live());
      const report = await readyz(joined);
      expect(report.status).toBe(200);
      expect(report.body.instance).toBe(joined.id);
      expect(report.body.tenants.demo.syncLeaseHolder).toBe(holder);
      const status = await (await fetch(`${joined.url}/status`)).text();
      expect(status).toContain(holder);
    }, 120_000);
  },
);
