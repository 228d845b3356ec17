/**
 * `npm run bench -- mcp` (issue 13): tool-call latency of the agent interface — `find_patient`, `find_slots`,
 * `book_appointment` through the official SDK client over Streamable HTTP — next to the same work through the FHIR
 * API (`Patient?family&birthdate`, `Slot?service-type&practitioner&start`, `POST Appointment`), interleaved call by
 * call in one run against the demo practice, with the simulated records system answering after 100 ms ± 50 ms
 * (its latency fault: 50 ms + 0–100 ms uniform jitter). Aims: reads p99 ≤ 300 ms, booking p99 ≤ 2.5 s.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Bundle, Patient, Slot } from '@medplum/fhirtypes';
import { createApp } from '../src/app.js';
import { demoConfig } from '../src/demo-config.js';
import { createLogger } from '../src/logger.js';
import { DEMO_FIRM, startDemoSim } from '../src/sim/demo-sim.js';
import type { Benchmark, BenchmarkResult, Figure } from './benchmark.js';
import { median, percentile } from './stats.js';

const READS = 40;
const BOOKINGS = 20;
const TOKEN = 'demo-token';
const ms = (v: number) => `${Math.round(v)} ms`;

export const benchmark: Benchmark = {
  name: 'mcp',
  title: 'MCP tool calls vs the same FHIR calls, upstream latency 100 ms ± 50 ms',
  async run(log): Promise<BenchmarkResult> {
    const dir = await mkdtemp(join(tmpdir(), 'switchboard-bench-mcp-'));
    const sim = await startDemoSim();
    sim.server.faults.set({ rateLimitPerMinute: 1_000_000 });
    const config = {
      ...demoConfig(sim.url, {}),
      port: 0,
      host: '127.0.0.1',
      databaseUrl: join(dir, 'store.sqlite'),
      // The per-client limit (20/s by default) would measure itself, not the calls: lifted like the sim's.
      rateLimit: { ratePerSecond: 10_000, burst: 20_000 },
    };
    const app = createApp(config, { logger: createLogger('silent') });
    await app.start();
    const client = new Client({ name: 'switchboard-bench', version: '1.0.0' });
    try {
      while ((await fetch(`${app.url}/readyz`)).status !== 200) await new Promise((r) => setTimeout(r, 200));
      sim.server.faults.set({ latencyMs: 50, jitterMs: 100 });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${app.url}/mcp/demo`), {
          requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
        }),
      );
      const fhir = async (method: string, path: string, body?: unknown) => {
        const response = await fetch(`${app.url}/fhir/demo/${path}`, {
          method,
          headers: {
            authorization: `Bearer ${TOKEN}`,
            ...(body === undefined ? {} : { 'content-type': 'application/fhir+json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: response.status, body: (await response.json()) as unknown };
      };
      const tool = async (name: string, args: Record<string, unknown>) => {
        const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
        if (result.isError) throw new Error(`${name}: ${JSON.stringify(result.content)}`);
        return result.structuredContent as Record<string, unknown>;
      };
      const timed = async <T>(into: number[], work: () => Promise<T>): Promise<T> => {
        const started = performance.now();
        const value = await work();
        into.push(performance.now() - started);
        return value;
      };

      const firm = sim.server.state(DEMO_FIRM);
      const times: Record<string, number[]> = {};
      const series = (name: string) => (times[name] ??= []);
      const practitioners = ['Johnson', 'Martinez', 'Williams', 'Chen'];
      const practitionerIds = new Map<string, string>();
      for (const family of practitioners) {
        const found = (await fhir('GET', `Practitioner?family=${family}`)).body as Bundle;
        practitionerIds.set(family, found.entry?.[0]?.resource?.id ?? '');
      }

      log(`${READS} find_patient and ${READS} find_slots calls, each with its FHIR counterpart`);
      for (let i = 0; i < READS; i++) {
        const p = firm.patients[(i * 7) % firm.patients.length];
        if (!p) throw new Error('the demo has no patients');
        await timed(series('find_patient (MCP)'), () =>
          tool('find_patient', { name: `${p.firstName} ${p.lastName}`, birth_date: p.dob }),
        );
        await timed(series('Patient search (FHIR)'), () =>
          fhir('GET', `Patient?family=${encodeURIComponent(p.lastName)}&birthdate=${p.dob}`),
        );
        const family = practitioners[i % practitioners.length] as string;
        await timed(series('find_slots (MCP)'), () =>
          tool('find_slots', { appointment_type: 'follow-up', practitioner: family, when: 'next week' }),
        );
        const from = new Date(Date.now() + 7 * 86_400_000).toISOString();
        const to = new Date(Date.now() + 14 * 86_400_000).toISOString();
        await timed(series('Slot search (FHIR)'), () =>
          fhir(
            'GET',
            `Slot?status=free&service-type=follow-up&practitioner=Practitioner/${practitionerIds.get(family)}&start=ge${from}&start=lt${to}&_count=5`,
          ),
        );
      }

      log(`${BOOKINGS} book_appointment calls and ${BOOKINGS} POST Appointment, alternating`);
      const slots = (
        (
          await tool('find_slots', {
            appointment_type: 'follow-up',
            from: isoDate(2),
            to: isoDate(30),
            limit: 20,
          })
        ).slots as Array<{ slot_id: string }>
      ).concat(
        (
          await tool('find_slots', {
            appointment_type: 'follow-up',
            from: isoDate(31),
            to: isoDate(60),
            limit: 20,
          })
        ).slots as Array<{ slot_id: string }>,
      );
      const patients = (await fhir('GET', 'Patient?_count=200')).body as Bundle;
      const patientIds = (patients.entry ?? []).map((e) => (e.resource as Patient).id ?? '');
      let booked = 0;
      let fhirBooked = 0;
      for (let i = 0; i < BOOKINGS; i++) {
        const mcpSlot = slots[2 * i];
        const fhirSlot = slots[2 * i + 1];
        if (!mcpSlot || !fhirSlot) break;
        const answer = await timed(series('book_appointment (MCP)'), () =>
          tool('book_appointment', { patient_id: patientIds[2 * i], slot_id: mcpSlot.slot_id }),
        );
        if (answer.status === 'booked') booked++;
        const slotId = fhirSlot.slot_id.split(':')[0] ?? '';
        const slot = (await fhir('GET', `Slot/${slotId}`)).body as Slot;
        const schedule = (await fhir('GET', slot.schedule.reference ?? '')).body as {
          actor: Array<{ reference: string }>;
        };
        const created = await timed(series('POST Appointment (FHIR)'), () =>
          fhir('POST', 'Appointment', {
            resourceType: 'Appointment',
            status: 'booked',
            slot: [{ reference: `Slot/${slotId}` }],
            appointmentType: { coding: [{ code: 'follow-up' }] },
            participant: [
              { actor: { reference: `Patient/${patientIds[2 * i + 1]}` }, status: 'accepted' },
              ...schedule.actor.map((a) => ({
                actor: { reference: a.reference },
                status: 'accepted' as const,
              })),
            ],
          }),
        );
        if (created.status === 201) fhirBooked++;
      }
      log(`booked ${booked} through MCP and ${fhirBooked} through FHIR`);

      const figures: Figure[] = Object.entries(times).flatMap(([name, values]) => {
        const booking = name.includes('book') || name.includes('POST');
        const aim = booking ? 2500 : 300;
        const p99 = percentile(values, 99);
        return [
          { figure: `${name} p50 (${values.length} calls)`, value: ms(median(values)) },
          { figure: `${name} p99`, value: ms(p99), aim: `≤ ${ms(aim)}`, met: p99 <= aim },
        ];
      });
      for (const f of figures) log(`${f.figure}: ${f.value}`);
      return {
        tables: [{ caption: 'Tool-call latency, SQLite store, records system at 100 ms ± 50 ms', figures }],
        noise: `one run; ${READS} reads and ${BOOKINGS} bookings per series, MCP and FHIR calls interleaved; p99 of ${READS} is close to the maximum`,
        notes: [
          `bookings that succeeded: ${booked}/${BOOKINGS} through MCP, ${fhirBooked}/${BOOKINGS} through FHIR (the rest lost no time: every answer is timed)`,
          'find_patient and find_slots are served from the store (no upstream call); booking pays the upstream latency on the live re-check, the write and the read-back',
          'an MCP tool call also reads the practice directory (Location, Practitioner, Schedule searches) through the facade',
        ],
      };
    } finally {
      await client.close();
      await app.stop();
      await sim.stop();
      await rm(dir, { recursive: true, force: true });
    }
  },
};

function isoDate(daysAhead: number): string {
  return new Date(Date.now() + daysAhead * 86_400_000).toISOString().slice(0, 10);
}
