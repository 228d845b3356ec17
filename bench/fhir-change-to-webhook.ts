/**
 * Change-to-webhook latency on both connectors in the same run (issue 12, "Benchmark"): the front desk books through
 * each simulator's own API (the proprietary JSON API for `demo`, plain FHIR `POST Appointment` for `demo-fhir`),
 * alternating, one change every {@link SPACING_MS}; each tenant has an `appointment-booked` subscriber with
 * full-resource payloads, and the latency of a change is from the simulator's answer to the first notification
 * carrying the appointment (found by its unique comment).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { App } from '../src/app.js';
import { DEMO_FIRM } from '../src/sim/demo-sim.js';
import type { SimFirmData } from '../src/sim/sim-types.js';
import { instantToLocalDate, wallTimeToInstant } from '../src/wall-time.js';
import { createEndpointPolicy } from '../src/webhooks/delivery/endpoint-guard.js';
import { createSubscription, readSubscription } from '../src/webhooks/subscriptions/subscription-store.js';
import { subscriptionResource } from '../test/support/webhook-fixtures.js';
import { startWebhookReceiver } from '../test/support/webhook-receiver.js';
import type { Figure } from './benchmark.js';
import { frontDesk } from './front-desk.js';
import { max, median, percentile } from './stats.js';

const CHANGES_PER_TENANT = 20;
const SPACING_MS = 400;
const PRACTICE_ZONE = 'America/New_York';
const TENANTS = ['demo', 'demo-fhir'] as const;
type Tenant = (typeof TENANTS)[number];

export async function changeToWebhook(
  app: App,
  sims: { sim: string; fhirSim: string; practice: SimFirmData },
  log: (line: string) => void,
): Promise<Figure[]> {
  const arrivals: Array<{ at: number; body: string }> = [];
  const receiver = await startWebhookReceiver((request) => {
    arrivals.push({ at: Date.now(), body: request.body });
    return { status: 204 };
  });
  try {
    const policy = createEndpointPolicy({
      allowlist: app.config.webhooks.allowlist,
      allowedPorts: app.config.webhooks.allowedPorts,
    });
    for (const tenant of TENANTS) {
      const { subscription } = await createSubscription(
        app.store,
        tenant,
        subscriptionResource({
          topic: 'appointment-booked',
          endpoint: `${receiver.url}/${tenant}`,
          content: 'full-resource',
        }),
        { policy },
      );
      app.webhooks.wake();
      for (
        let i = 0;
        (await readSubscription(app.store, tenant, subscription.id))?.subscription.status !== 'active';
        i++
      ) {
        if (i > 300) throw new Error(`${tenant}: the subscription never became active`);
        await sleep(100);
      }
    }
    log(`subscribers active; ${CHANGES_PER_TENANT} front-desk bookings on each simulator, alternating`);

    const sim = frontDesk(sims.sim);
    const fhir = frontDesk(sims.fhirSim, 'fhir');
    const followUp = sims.practice.appointmentTypes.find((t) => t.code === 'follow-up');
    if (!followUp) throw new Error('the demo practice has no follow-up type');
    const tomorrow = instantToLocalDate(new Date(Date.now() + 86_400_000), PRACTICE_ZONE);
    const changes: Array<{ tenant: Tenant; comment: string; respondedAt: number }> = [];
    const began = performance.now();
    for (let i = 0; i < CHANGES_PER_TENANT * TENANTS.length; i++) {
      await sleep(Math.max(0, began + i * SPACING_MS - performance.now()));
      const tenant = TENANTS[i % TENANTS.length] as Tenant;
      // Before opening hours, a quarter-hour each: nothing else is there.
      const minutes = Math.floor(i / TENANTS.length) * 15;
      const wall = `${tomorrow}T${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
      const comment = `change-to-webhook ${tenant} ${i}`;
      const start = wallTimeToInstant(wall, PRACTICE_ZONE);
      const response =
        tenant === 'demo'
          ? await sim('POST', '/appointments', {
              patientId: 1,
              providerId: 4,
              locationId: 2,
              appointmentTypeId: followUp.id,
              start: wall,
              durationMinutes: 15,
              notes: comment,
            })
          : await fhir('POST', '/Appointment', {
              resourceType: 'Appointment',
              status: 'booked',
              start: start.toISOString(),
              end: new Date(start.getTime() + 15 * 60_000).toISOString(),
              comment,
              appointmentType: {
                coding: [
                  {
                    system: `https://fhir-sim.example/${DEMO_FIRM}/CodeSystem/appointment-type`,
                    code: followUp.code,
                  },
                ],
              },
              participant: [
                { actor: { reference: 'Patient/1' }, status: 'accepted' },
                { actor: { reference: 'Practitioner/4' }, status: 'accepted' },
                { actor: { reference: 'Location/2' }, status: 'accepted' },
              ],
            });
      if (response.status !== 201)
        throw new Error(`${tenant}: front-desk booking answered ${response.status}`);
      changes.push({ tenant, comment, respondedAt: Date.now() });
    }

    const arrivalOf = (comment: string) => arrivals.find((a) => a.body.includes(JSON.stringify(comment)))?.at;
    for (let i = 0; i < 300 && changes.some((c) => arrivalOf(c.comment) === undefined); i++) await sleep(100);
    return TENANTS.flatMap((tenant) => {
      const mine = changes.filter((c) => c.tenant === tenant);
      const latencies = mine.flatMap((c) => {
        const at = arrivalOf(c.comment);
        return at === undefined ? [] : [at - c.respondedAt];
      });
      const interval = app.config.tenants.find((t) => t.id === tenant)?.sync.hotIntervalSeconds ?? 0;
      const aimMs = interval * 1000 + 1000;
      return [
        {
          figure: `${tenant}: change-to-webhook p50 / p99 / max (${latencies.length} of ${mine.length} arrived)`,
          value: latencies.length
            ? `${Math.round(median(latencies))} ms / ${Math.round(percentile(latencies, 99))} ms / ${Math.round(max(latencies))} ms`
            : 'none arrived',
          aim: `p99 ≤ ${aimMs} ms (hot poll + 1 s)`,
          met: latencies.length === mine.length && percentile(latencies, 99) <= aimMs,
        },
      ];
    });
  } finally {
    await receiver.close();
  }
}
