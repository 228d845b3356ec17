/**
 * A keyed booking in flight on an instance killed with SIGKILL (issues 10 and 11; what the three-instance campaign
 * found with seed 381630172): the key stays bound to its saga, so a replay on a surviving instance answers that
 * booking's outcome — `202 booking-pending` while recovery finishes it, then the booking — and the records system
 * holds it exactly once. Before, replays answered `409 idempotency-key-in-flight` until the claim's 5-minute lease.
 * PostgreSQL only: several processes share a store only there.
 */
import type { Appointment, Bundle, Patient, Schedule, Slot } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoSim, type RunningSim } from '../../src/sim/demo-sim.js';
import { openStore, type Store } from '../../src/store/database.js';
import { createCluster, eventually, type Cluster, type ClusterInstance } from './support/cluster.js';
import { FIRM, fhir, followUpBooking, readyz } from './support/cluster-probes.js';

const ADMIN_URL = process.env.TEST_DATABASE_URL;

async function setFaults(sim: RunningSim, faults: Record<string, number>): Promise<void> {
  const response = await fetch(`${sim.url}/_sim/faults`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(faults),
  });
  expect(response.status).toBeLessThan(300);
}

describe.skipIf(!ADMIN_URL)('an Idempotency-Key in flight on an instance killed with SIGKILL', () => {
  let sim: RunningSim;
  let cluster: Cluster;
  let store: Store;

  beforeAll(async () => {
    sim = await startDemoSim({ port: 0 });
    cluster = await createCluster({
      adminUrl: ADMIN_URL as string,
      simUrl: sim.url,
      // Recovery of a dead instance's sagas within seconds instead of a minute.
      env: { SWITCHBOARD_RECOVERY_INTERVAL_MS: '1000', SWITCHBOARD_SAGA_ABANDONED_MS: '3000' },
    });
    await cluster.start();
    await cluster.start();
    for (const instance of cluster.instances) {
      await eventually(async () => ((await readyz(instance)).status === 200 ? true : undefined), 'ready');
    }
    store = await openStore(cluster.databaseUrl);
  }, 180_000);

  afterAll(async () => {
    await store?.close();
    await cluster?.dispose();
    await sim?.stop();
  });

  it('answers the booking on a replay to another instance, booked once upstream', async () => {
    const [victim, survivor] = cluster.instances as [ClusterInstance, ClusterInstance];
    const from = new Date(Date.now() + 4 * 86_400_000).toISOString().slice(0, 10);
    const slot = (await fhir<Bundle<Slot>>(victim, `Slot?service-type=follow-up&start=ge${from}&_count=1`))
      .body.entry?.[0]?.resource as Slot;
    expect(slot?.id).toBeDefined();
    const schedule = await fhir<Schedule>(
      victim,
      (slot.schedule.reference as string).replace(/^.*Schedule\//, 'Schedule/'),
    );
    const practitioner = schedule.body.actor.find((r) => r.reference?.includes('Practitioner/'))?.reference;
    const patient = (await fhir<Bundle<Patient>>(victim, 'Patient?_count=1')).body.entry?.[0]?.resource?.id;
    const request = (instance: ClusterInstance) =>
      fhir<Appointment>(instance, 'Appointment', {
        method: 'POST',
        headers: { 'Content-Type': 'application/fhir+json', 'Idempotency-Key': key },
        body: JSON.stringify(followUpBooking(slot.id as string, `${patient}`, practitioner)),
      });
    const key = randomUUID();

    // A slow records system keeps the booking in flight long enough to kill its instance mid-saga.
    await setFaults(sim, { latencyMs: 400 });
    const cutOff = request(victim).catch(() => undefined);
    const sagaOf = () =>
      store.db
        .selectFrom('booking_sagas')
        .select(['id', 'state', 'marker'])
        .where('tenant_id', '=', 'demo')
        .where('start_at', '=', new Date(slot.start).toISOString())
        .executeTakeFirst();
    const saga = await eventually(sagaOf, 'the booking saga is recorded', {
      intervalMs: 10,
      attempts: 1_000,
    });
    await victim.kill9();
    await cutOff;
    await setFaults(sim, { latencyMs: 0 });
    const claim = await store.db
      .selectFrom('idempotency_records')
      .select(['state', 'saga_id'])
      .where('idempotency_key', '=', key)
      .executeTakeFirstOrThrow();
    // Killed before it answered: the key was still in flight, bound to the saga.
    expect(claim, `saga was ${saga.state}`).toEqual({ state: 'in-flight', saga_id: saga.id });

    const seen: string[] = [];
    const booked = await eventually(
      async () => {
        const answer = await request(survivor);
        const code = (answer.body as { issue?: { details?: { coding?: { code?: string }[] } }[] }).issue?.[0]
          ?.details?.coding?.[0]?.code;
        seen.push(`${answer.status}${code ? ` ${code}` : ''}`);
        return answer.status === 201 ? answer : undefined;
      },
      'a replay answers the booking',
      { intervalMs: 500, attempts: 240 },
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}; replays answered: ${[...new Set(seen)].join(', ')}`);
    });
    const again = await request(survivor);
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(booked.body.id);

    // Exactly one committed booking for that time (the killed saga, or — if it was released before its write —
    // the replay's), in the records system once.
    const committed = await store.db
      .selectFrom('booking_sagas')
      .select(['marker'])
      .where('tenant_id', '=', 'demo')
      .where('start_at', '=', new Date(slot.start).toISOString())
      .where('state', '=', 'committed')
      .execute();
    expect(committed).toHaveLength(1);
    const upstream = sim.server.state(FIRM).appointments.filter((a) => a.status !== 'cancelled');
    expect(upstream.filter((a) => a.externalRef === committed[0]?.marker)).toHaveLength(1);
    expect(upstream.filter((a) => a.externalRef?.startsWith('switchboard:'))).toHaveLength(1);
  }, 240_000);
});
