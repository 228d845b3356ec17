/**
 * The demo app for the operator console's tests and screenshot (issue 15): the simulated records system, the app
 * with the demo configuration on a store of either dialect, and the things a console shows — a real booking, a
 * week of booking history in the saga rows, a manual-intervention Task, and a webhook receiver that accepts the
 * handshake and then refuses every notification with 401.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Appointment, Bundle, Patient, Schedule, Slot, Task } from '@medplum/fhirtypes';
import pg from 'pg';
import { createApp, type App } from '../../../src/app.js';
import type { Config } from '../../../src/config.js';
import { demoConfig } from '../../../src/demo-config.js';
import { recordChanges } from '../../../src/events/change-writer.js';
import { createLogger } from '../../../src/logger.js';
import { startDemoSim, type RunningSim } from '../../../src/sim/demo-sim.js';
import { subscriptionResource } from '../../support/webhook-fixtures.js';
import { startWebhookReceiver, waitUntil, type WebhookReceiver } from '../../support/webhook-receiver.js';

export const OPERATOR_TOKEN = 'demo-operator-token';
const DEMO_TOKEN = 'demo-token';

export interface ConsoleDemo {
  sim: RunningSim;
  app: App;
  /** Answers the handshake, then 401 to every notification. */
  receiver: WebhookReceiver;
  stop(): Promise<void>;
}

/** A database URL of `dialect` for one demo, and how to drop it. */
async function demoDatabase(
  dialect: 'sqlite' | 'postgres',
  dir: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  if (dialect === 'sqlite') return { url: join(dir, 'switchboard.sqlite'), drop: async () => {} };
  const base = process.env.TEST_DATABASE_URL;
  if (!base) throw new Error('TEST_DATABASE_URL is not set');
  const schema = `test_console_${randomBytes(6).toString('hex')}`;
  const run = async (statement: string) => {
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await run(`create schema "${schema}"`);
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { url: url.toString(), drop: () => run(`drop schema if exists "${schema}" cascade`) };
}

export async function startConsoleDemo(
  options: { dialect?: 'sqlite' | 'postgres'; configure?: (config: Config) => Config } = {},
): Promise<ConsoleDemo> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-console-'));
  const database = await demoDatabase(options.dialect ?? 'sqlite', dir);
  const sim = await startDemoSim({ port: 0 });
  const base = { ...demoConfig(sim.url, {}), port: 0, databaseUrl: database.url };
  const config = options.configure ? options.configure(base) : base;
  const app = createApp(config, { logger: createLogger('silent') });
  await app.start();
  const receiver = await startWebhookReceiver((request) =>
    request.body.includes('"handshake"') ? { status: 200 } : { status: 401, body: 'bad signature' },
  );
  return {
    sim,
    app,
    receiver,
    async stop() {
      await app.stop();
      await sim.stop();
      await receiver.close();
      await database.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A FHIR request to the demo tenant with the demo client's token. */
export async function fhir<T>(
  app: App,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${app.url}/fhir/demo/${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${DEMO_TOKEN}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/fhir+json' }),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Waits until every stream of the demo tenant has synced (the operator's `/readyz` says ready). */
export async function waitReady(app: App): Promise<void> {
  await waitUntil(
    async () =>
      (await fetch(`${app.url}/readyz`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } }))
        .status === 200,
    'the demo is ready',
    60_000,
  );
}

/** Books the first free follow-up slot three days ahead through the FHIR API, as an agent would. */
export async function bookFreeSlot(app: App): Promise<Appointment> {
  const from = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
  const slots = await fhir<Bundle<Slot>>(app, `Slot?service-type=follow-up&start=ge${from}&_count=1`);
  const slot = slots.body.entry?.[0]?.resource as Slot;
  const schedule = await fhir<Schedule>(
    app,
    (slot.schedule.reference ?? '').replace(/^.*Schedule\//, 'Schedule/'),
  );
  const practitioner = schedule.body.actor.find((r) => r.reference?.includes('Practitioner/'))?.reference;
  const patients = await fhir<Bundle<Patient>>(app, 'Patient?_count=1');
  const patientId = patients.body.entry?.[0]?.resource?.id as string;
  const answer = await fhir<Appointment>(app, 'Appointment', {
    method: 'POST',
    body: {
      resourceType: 'Appointment',
      status: 'booked',
      slot: [{ reference: `Slot/${slot.id}` }],
      appointmentType: { coding: [{ system: 'urn:switchboard:demo:appointment-type', code: 'follow-up' }] },
      participant: [
        { actor: { reference: `Patient/${patientId}` }, status: 'accepted' },
        { actor: { reference: practitioner }, status: 'accepted' },
      ],
    },
  });
  if (answer.status !== 201 && answer.status !== 202)
    throw new Error(`booking answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** Saga rows as bookings leave them: `[hours ago, state, error code, wrote upstream]`. */
export const SAGA_HISTORY: ReadonlyArray<[number, string, string | null, boolean]> = [
  [1, 'committed', null, true],
  [2, 'committed', null, true],
  [3, 'released', 'slot-taken', false],
  [5, 'committed', null, true],
  [7, 'released', 'ehr-unavailable', false],
  [9, 'released', 'slot-taken', true],
  [30, 'committed', null, true],
  [52, 'released', 'outside-hours', false],
  [75, 'committed', null, true],
  [100, 'committed', null, true],
  [140, 'needs-attention', 'slot-taken', true],
];

/** Writes {@link SAGA_HISTORY} (plus one saga still writing, owned by the live app) into the demo's store. */
export async function addSagaHistory(app: App): Promise<void> {
  const now = Date.now();
  const rows = [
    ...SAGA_HISTORY.map(([hoursAgo, state, code, wrote]) => ({
      at: now - hoursAgo * 3600_000,
      state,
      code,
      wrote,
    })),
    { at: now - 60_000, state: 'writing', code: null, wrote: false },
  ];
  await app.store.write(async (trx) => {
    for (const row of rows) {
      const at = new Date(row.at).toISOString();
      await trx
        .insertInto('booking_sagas')
        .values({
          tenant_id: 'demo',
          id: randomUUID(),
          kind: 'book',
          state: row.state,
          client_id: 'demo-client',
          request: '{}',
          marker: `sb-${randomUUID()}`,
          practitioner_id: 'history',
          start_at: at,
          end_at: at,
          appointment_id: null,
          upstream_id: row.wrote ? '1' : null,
          error_code: row.code,
          error_detail: null,
          created_at: at,
          updated_at: new Date(now).toISOString(),
          expires_at: new Date(now + 3600_000).toISOString(),
          owner_instance: app.instanceId,
        })
        .execute();
    }
  });
}

/** A manual-intervention Task as the booking saga hands one to staff, through the one write path. */
export async function addAttentionTask(app: App): Promise<void> {
  const task: Task & { id: string } = {
    resourceType: 'Task',
    id: randomUUID(),
    status: 'requested',
    intent: 'order',
    priority: 'urgent',
    description:
      'Cancel the duplicate 10:30 appointment with Dr. Chen on Tuesday in the records system; the patient keeps the 10:00 one.',
    authoredOn: new Date().toISOString(),
    reasonCode: { text: 'the records system refused the cancel of a rolled-back booking' },
  };
  await app.store.write((trx) =>
    recordChanges(trx, 'demo', { resources: [{ op: 'upsert', resource: task }], events: [] }, new Date()),
  );
}

/** Subscribes the receiver to booked appointments and waits for the handshake to make it active. */
export async function subscribeReceiver(app: App, receiver: WebhookReceiver): Promise<string> {
  const created = await fhir<{ id: string }>(app, 'Subscription', {
    method: 'POST',
    body: subscriptionResource({ endpoint: receiver.url, topic: 'appointment-booked' }),
  });
  if (created.status !== 201) throw new Error(`subscription answered ${created.status}`);
  await waitUntil(
    async () =>
      (await fhir<{ status: string }>(app, `Subscription/${created.body.id}`)).body.status === 'active',
    'the subscription is active',
    30_000,
  );
  return created.body.id;
}
