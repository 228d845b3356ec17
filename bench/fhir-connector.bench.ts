/**
 * The FHIR connector beside the proprietary one, in the same run (issue 12, "Benchmark"): the demo as `npm start`
 * runs it — both simulators and `createApp(demoConfig)` with tenants `demo` and `demo-fhir` — measured for
 *
 * 1. upstream calls per minute per tenant at demo settings (hot window every 2 s), against ModMed's published
 *    budget of 1,250 calls a minute, counted at the HTTP client over one minute of steady polling;
 * 2. booking latency: `POST /fhir/{tenant}/Appointment` of a free follow-up slot to `201`, sequentially, on each;
 * 3. change-to-webhook latency: a front-desk booking in each simulator to its subscriber's notification
 *    (fhir-change-to-webhook.ts).
 */
import { performance } from 'node:perf_hooks';
import type { Bundle, Schedule, Slot } from '@medplum/fhirtypes';
import { createApp } from '../src/app.js';
import { demoConfig } from '../src/demo-config.js';
import { startDemoFhirSim } from '../src/fhir-sim/demo-fhir-sim.js';
import { createLogger } from '../src/logger.js';
import { startDemoSim } from '../src/sim/demo-sim.js';
import type { Benchmark, Figure } from './benchmark.js';
import { sqliteDatabase } from './bench-stores.js';
import { changeToWebhook } from './fhir-change-to-webhook.js';
import { max, median } from './stats.js';

const BUDGET_PER_MINUTE = 1250;
const WINDOW_MS = 60_000;
const BOOKINGS = 10;
const TENANTS = ['demo', 'demo-fhir'] as const;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const benchmark: Benchmark = {
  name: 'fhir-connector',
  title:
    'FHIR connector beside the proprietary one: upstream calls per minute, booking and change-to-webhook latency',
  async run(log) {
    const sim = await startDemoSim();
    const fhirSim = await startDemoFhirSim();
    const database = await sqliteDatabase('fhir_connector');
    const base = demoConfig(sim.url, {}, fhirSim.url);
    const app = createApp(
      { ...base, port: 0, databaseUrl: database.url, logLevel: 'silent' },
      {
        logger: createLogger('silent'),
      },
    );
    const calls = { demo: 0, 'demo-fhir': 0 };
    let counting = false;
    const realFetch = globalThis.fetch;
    globalThis.fetch = (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (counting && url.startsWith(sim.url)) calls.demo++;
      if (counting && url.startsWith(fhirSim.url)) calls['demo-fhir']++;
      return realFetch(input, init);
    };
    try {
      await app.start();
      log('waiting for both tenants to be ready (first full sync)…');
      for (;;) {
        const ready = await realFetch(`${app.url}/readyz`);
        await ready.arrayBuffer();
        if (ready.status === 200) break;
        await sleep(200);
      }
      log(`counting upstream calls for ${WINDOW_MS / 1000} s of steady polling…`);
      counting = true;
      await sleep(WINDOW_MS);
      counting = false;
      const perMinute = {
        demo: calls.demo * (60_000 / WINDOW_MS),
        'demo-fhir': calls['demo-fhir'] * (60_000 / WINDOW_MS),
      };

      const latencies: Record<string, number[]> = { demo: [], 'demo-fhir': [] };
      for (const tenant of TENANTS) {
        const B = `${app.url}/fhir/${tenant}`;
        const H = { authorization: 'Bearer demo-token', 'content-type': 'application/fhir+json' };
        const from = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
        const to = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
        const slots = (await (
          await realFetch(`${B}/Slot?service-type=follow-up&start=ge${from}&start=lt${to}&_count=200`, {
            headers: H,
          })
        ).json()) as Bundle<Slot>;
        const patients = (await (
          await realFetch(`${B}/Patient?_count=${BOOKINGS}`, { headers: H })
        ).json()) as Bundle;
        const free = (slots.entry ?? []).map((e) => e.resource as Slot);
        for (let i = 0; i < BOOKINGS; i++) {
          // Spread over the list so no two bookings share a practitioner's time.
          const slot = free[Math.floor((i * free.length) / BOOKINGS)];
          const patient = patients.entry?.[i]?.resource?.id;
          if (!slot || !patient) break;
          const schedule = (await (
            await realFetch(`${B}/${slot.schedule.reference ?? ''}`, { headers: H })
          ).json()) as Schedule;
          const practitioner = schedule.actor.find((a) => a.reference?.startsWith('Practitioner/'));
          const started = performance.now();
          const response = await realFetch(`${B}/Appointment`, {
            method: 'POST',
            headers: H,
            body: JSON.stringify({
              resourceType: 'Appointment',
              status: 'booked',
              slot: [{ reference: `Slot/${slot.id}` }],
              appointmentType: {
                coding: [{ system: `urn:switchboard:${tenant}:appointment-type`, code: 'follow-up' }],
              },
              participant: [
                { actor: { reference: `Patient/${patient}` }, status: 'accepted' },
                { actor: { reference: practitioner?.reference }, status: 'accepted' },
              ],
            }),
          });
          const elapsed = performance.now() - started;
          const text = await response.text();
          if (response.status === 201) latencies[tenant]?.push(elapsed);
          else log(`${tenant}: booking ${i} answered ${response.status} ${text.slice(0, 200)}`);
        }
      }
      log('change-to-webhook on both tenants…');
      const webhookFigures = await changeToWebhook(
        app,
        { sim: sim.url, fhirSim: fhirSim.url, practice: fhirSim.practice },
        log,
      );
      const figures: Figure[] = TENANTS.flatMap((tenant) => {
        const l = latencies[tenant] ?? [];
        return [
          {
            figure: `${tenant}: upstream calls per minute at demo settings`,
            value: String(Math.round(perMinute[tenant])),
            aim: `≤ ${BUDGET_PER_MINUTE} (ModMed's budget)`,
            met: perMinute[tenant] <= BUDGET_PER_MINUTE,
          },
          {
            figure: `${tenant}: booking latency, median / max (${l.length} bookings)`,
            value: l.length ? `${median(l).toFixed(0)} ms / ${max(l).toFixed(0)} ms` : 'none booked',
          },
        ];
      });
      figures.push(...webhookFigures);
      for (const f of figures) log(`${f.figure}: ${f.value}`);
      return {
        tables: [
          { caption: 'demo (proprietary simulator) and demo-fhir (FHIR simulator), same process', figures },
        ],
        noise: `one ${WINDOW_MS / 1000} s window of polling; ${BOOKINGS} sequential bookings per tenant, median and max`,
        notes: [
          'Calls are counted at the HTTP client (token requests included). The FHIR tenant searches Slots in chunks of the window the simulator states (7 days) and pages of 1,000.',
          'The FHIR simulator answers every Slot search by scanning its memory (Medplum MemoryRepository), so its latencies say more about the simulator than about a real server.',
        ],
      };
    } finally {
      globalThis.fetch = realFetch;
      await app.stop();
      await fhirSim.stop();
      await sim.stop();
      await database.dispose();
    }
  },
};
