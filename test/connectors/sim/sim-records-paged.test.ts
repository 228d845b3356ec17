/**
 * The sim connector's window read as a sync pass uses it (issue 16 item 5): appointments page by page as the sim
 * lists them, and appointments and blocks with a source hash that stays put while nothing changes and moves when
 * the record or anything its mapping reads (the reference data) changes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UpstreamRecord, WindowQuery } from '../../../src/connectors/connector.js';
import { SimConnector } from '../../../src/connectors/sim/sim-connector.js';
import { parseConfig, simSettingsOf } from '../../../src/config.js';
import { createSimServer, type SimServer } from '../../../src/sim/sim-server.js';
import { ManualClock } from '../../support/sync-harness.js';
import { TINY_FIRM, TINY_PASSWORD, TINY_USERNAME, tinyFirm } from '../../support/tiny-firm.js';

const NOVEMBER: WindowQuery = {
  from: new Date('2026-11-01T04:00:00Z'),
  to: new Date('2026-12-01T05:00:00Z'),
};

let sim: SimServer;
let connector: SimConnector;
let calls: string[];

beforeEach(async () => {
  const clock = new ManualClock('2026-11-20T15:00:00Z');
  sim = createSimServer({
    firms: {
      [TINY_FIRM]: { data: tinyFirm(), credentials: [{ username: TINY_USERNAME, password: TINY_PASSWORD }] },
    },
    now: clock.now,
  });
  const baseUrl = await sim.start();
  const [tenant] = parseConfig({
    tenants: [
      {
        id: TINY_FIRM,
        connector: {
          kind: 'sim',
          baseUrl,
          firm: TINY_FIRM,
          username: TINY_USERNAME,
          password: TINY_PASSWORD,
        },
      },
    ],
  }).tenants;
  calls = [];
  connector = new SimConnector({
    tenantId: TINY_FIRM,
    settings: simSettingsOf(tenant!),
    now: () => clock.now().getTime(),
    observe: (call) => calls.push(call.endpoint),
  });
});

afterEach(async () => {
  await connector.close();
  await sim.stop();
});

const hashes = (records: readonly UpstreamRecord[]) =>
  new Map(records.map((r) => [r.upstreamId, r.sourceHash]));

describe('the sim connector’s window read', () => {
  it('hands out the window a page at a time, each read from the sim when the caller asks for it', async () => {
    const data = sim.state(TINY_FIRM);
    const first = data.appointments[0]!;
    // 250 more appointments in November: two pages of the connector's 200.
    for (let i = 0; i < 250; i++) data.appointments.push({ ...first, id: 1000 + i, externalRef: null });
    const inWindow = (await connector.appointmentsInWindow(NOVEMBER)).length;
    expect(inWindow).toBeGreaterThan(250);

    calls = [];
    const sizes: number[] = [];
    const readsBefore: number[] = [];
    for await (const page of connector.appointmentPagesInWindow(NOVEMBER)) {
      readsBefore.push(calls.filter((c) => c === 'GET /appointments').length);
      sizes.push(page.length);
    }
    expect(sizes).toEqual([200, inWindow - 200]);
    // The second page was asked of the sim only once the first had been handed over.
    expect(readsBefore).toEqual([1, 2]);
  });

  it('gives appointments and blocks a source hash that stays the same while nothing changes', async () => {
    const appointments = await connector.appointmentsInWindow(NOVEMBER);
    const blocks = await connector.blocksInWindow(NOVEMBER);
    expect(appointments.length).toBeGreaterThan(0);
    expect(blocks.length).toBeGreaterThan(0);
    for (const r of [...appointments, ...blocks]) expect(r.sourceHash, r.upstreamId).toMatch(/^[\w-]{20,}$/);
    expect(hashes(await connector.appointmentsInWindow(NOVEMBER))).toEqual(hashes(appointments));
    expect(hashes(await connector.blocksInWindow(NOVEMBER))).toEqual(hashes(blocks));
  });

  it('changes the source hash of an appointment or block that changed, and of no other', async () => {
    const appointments = hashes(await connector.appointmentsInWindow(NOVEMBER));
    const blocks = hashes(await connector.blocksInWindow(NOVEMBER));
    const data = sim.state(TINY_FIRM);
    data.appointments[0]!.notes = 'Running late';
    data.blocks[2]!.reason = 'All-hands';

    const changed = (before: Map<string, string | undefined>, after: Map<string, string | undefined>) =>
      [...after].filter(([id, hash]) => before.get(id) !== hash).map(([id]) => id);
    expect(changed(appointments, hashes(await connector.appointmentsInWindow(NOVEMBER)))).toEqual([
      String(data.appointments[0]!.id),
    ]);
    expect(changed(blocks, hashes(await connector.blocksInWindow(NOVEMBER)))).toEqual(['block-3/2@2']);
  });

  it('changes every source hash when reference data the mapping reads changes', async () => {
    await connector.referenceData();
    const appointments = hashes(await connector.appointmentsInWindow(NOVEMBER));
    const blocks = hashes(await connector.blocksInWindow(NOVEMBER));
    sim.state(TINY_FIRM).appointmentTypes[0]!.name = 'Short follow-up';
    await connector.referenceData();

    const after = hashes(await connector.appointmentsInWindow(NOVEMBER));
    expect([...after.keys()]).toEqual([...appointments.keys()]);
    for (const [id, hash] of after) expect(hash, id).not.toBe(appointments.get(id));
    for (const [id, hash] of hashes(await connector.blocksInWindow(NOVEMBER))) {
      expect(hash, id).not.toBe(blocks.get(id));
    }
  });
});
