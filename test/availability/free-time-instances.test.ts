/**
 * Free time kept per practitioner-day (src/availability/free-time.ts) across instances: two apps on one store (one
 * SQLite file; one PostgreSQL database when TEST_DATABASE_URL is set), the demo practice on one sim. A booking
 * made through one instance must take the slot out of the other's next search, though the other has that day's
 * free time cached from a search just before.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Appointment, Bundle, Schedule, Slot } from '@medplum/fhirtypes';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { demoConfig } from '../../src/demo-config.js';
import { createLogger } from '../../src/logger.js';
import { DEMO_FIRM, startDemoSim, type RunningSim } from '../../src/sim/demo-sim.js';
import { fhirIdsFor } from '../../src/store/upstream-ids.js';
import {
  addCalendarDays,
  instantToLocalDate,
  instantToOffsetDateTime,
  isoWeekdayOf,
  wallTimeToInstant,
} from '../../src/wall-time.js';

const ZONE = 'America/New_York';
const AUTH = { authorization: 'Bearer demo-token' };

interface AppDatabase {
  url: string;
  drop(): Promise<void>;
}

async function admin(serverUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

const databases: Array<{ name: string; create(): Promise<AppDatabase> }> = [
  {
    name: 'sqlite',
    async create() {
      const directory = await mkdtemp(join(tmpdir(), 'switchboard-free-time-'));
      return {
        url: `sqlite:${join(directory, 'store.sqlite')}`,
        drop: () => rm(directory, { recursive: true, force: true }),
      };
    },
  },
  ...(process.env.TEST_DATABASE_URL
    ? [
        {
          name: 'postgres',
          async create(): Promise<AppDatabase> {
            const server = process.env.TEST_DATABASE_URL as string;
            const database = `free_time_${randomBytes(6).toString('hex')}`;
            await admin(server, `create database ${database}`);
            const url = new URL(server);
            url.pathname = `/${database}`;
            return {
              url: url.toString(),
              drop: () => admin(server, `drop database if exists ${database} with (force)`),
            };
          },
        },
      ]
    : []),
];

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { headers: AUTH });
  const text = await response.text();
  expect(response.status, text.slice(0, 500)).toBe(200);
  return JSON.parse(text) as T;
}

async function untilReady(app: App): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const response = await fetch(`${app.url}/readyz`);
    await response.arrayBuffer();
    if (response.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the app did not become ready');
}

describe.each(databases)('free time kept per practitioner-day on two instances ($name)', (database) => {
  let sim: RunningSim;
  let db: AppDatabase;
  const apps: App[] = [];

  beforeAll(async () => {
    sim = await startDemoSim({ port: 0 });
    db = await database.create();
    for (let i = 0; i < 2; i++) {
      const app = createApp(
        { ...demoConfig(sim.url, {}), port: 0, databaseUrl: db.url, logLevel: 'silent' },
        { logger: createLogger('silent') },
      );
      apps.push(app);
      // One at a time: the first migrates and syncs, the second joins a ready store.
      await app.start();
      await untilReady(app);
    }
  }, 120_000);

  afterAll(async () => {
    for (const app of apps) await app.stop();
    await sim?.stop();
    await db?.drop();
  }, 60_000);

  it("takes a slot booked through one instance out of the other's next search, which had that day cached", async () => {
    const [first, second] = apps as [App, App];
    const firm = sim.server.state(DEMO_FIRM);
    const chen = firm.providers.find((p) => p.lastName === 'Chen');
    const patient = firm.patients.find((p) => p.lastName === 'Smith' && p.firstName === 'John');
    if (!chen || !patient) throw new Error('the demo practice lacks Dr. Chen or John Smith');
    const practitionerId = (await fhirIdsFor(first.store, 'demo', 'Practitioner', [String(chen.id)])).get(
      String(chen.id),
    );
    const patientId = (await fhirIdsFor(first.store, 'demo', 'Patient', [String(patient.id)])).get(
      String(patient.id),
    );
    const schedules = await getJson<Bundle<Schedule>>(
      `${first.url}/fhir/demo/Schedule?actor=Practitioner/${practitionerId}`,
    );
    const scheduleId = schedules.entry?.[0]?.resource?.id ?? '';
    let monday = addCalendarDays(instantToLocalDate(new Date(), ZONE), 1);
    while (isoWeekdayOf(monday) !== 1) monday = addCalendarDays(monday, 1);
    const from = instantToOffsetDateTime(wallTimeToInstant(`${monday}T00:00`, ZONE), ZONE);
    const to = instantToOffsetDateTime(wallTimeToInstant(`${addCalendarDays(monday, 7)}T00:00`, ZONE), ZONE);
    const search = async (app: App) =>
      (
        await getJson<Bundle<Slot>>(
          `${app.url}/fhir/demo/Slot?status=free&schedule=${scheduleId}&start=ge${encodeURIComponent(from)}` +
            `&start=lt${encodeURIComponent(to)}&service-type=follow-up&_count=500`,
        )
      ).entry?.map((e) => e.resource as Slot) ?? [];

    // Both instances have the week's free time cached.
    const before = await search(second);
    expect(before.length).toBeGreaterThan(1);
    expect((await search(first)).map((s) => s.id)).toEqual(before.map((s) => s.id));
    expect((await search(second)).map((s) => s.id)).toEqual(before.map((s) => s.id));
    const target = before[0] as Slot;

    const created = await fetch(`${first.url}/fhir/demo/Appointment`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/fhir+json' },
      body: JSON.stringify({
        resourceType: 'Appointment',
        status: 'booked',
        serviceType: [{ coding: [{ code: 'follow-up' }] }],
        slot: [{ reference: `Slot/${target.id}` }],
        start: target.start,
        end: target.end,
        participant: [
          { actor: { reference: `Patient/${patientId}` }, status: 'accepted' },
          { actor: { reference: `Practitioner/${practitionerId}` }, status: 'accepted' },
        ],
      } satisfies Appointment),
    });
    expect(created.status, await created.clone().text()).toBe(201);

    const after = await search(second);
    expect(after.map((s) => s.id)).toEqual(before.slice(1).map((s) => s.id));
    expect((await search(first)).map((s) => s.id)).toEqual(before.slice(1).map((s) => s.id));
  });
});
