/**
 * A window pass over unchanged appointments and blocks maps none of them (issue 16 item 5): their source hash
 * equals the stored one, so the pass neither resolves their ids nor runs the connector's mapping, and still
 * writes what did change, and re-maps everything when reference data the mapping reads changes.
 */
import type { Appointment } from '@medplum/fhirtypes';
import { afterEach, describe, expect, it } from 'vitest';
import type { UpstreamRecord } from '../../src/connectors/connector.js';
import type { SimConnector } from '../../src/connectors/sim/sim-connector.js';
import { lastJournalSeq, readJournal } from '../../src/store/change-journal.js';
import { startSyncHarness, type SyncHarness } from '../support/sync-harness.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';
import { TINY_FIRM, tinyFirm } from '../support/tiny-firm.js';

/** Counts, by resource type, the records the sync engine has the connector map. */
function countMappings(connector: SimConnector): Map<string, number> {
  const mapped = new Map<string, number>();
  const counted = <R extends UpstreamRecord>(record: R): R => ({
    ...record,
    toFhir: (resolve) => {
      mapped.set(record.resourceType, (mapped.get(record.resourceType) ?? 0) + 1);
      return record.toFhir(resolve);
    },
  });
  const pages = connector.appointmentPagesInWindow.bind(connector);
  const blocks = connector.blocksInWindow.bind(connector);
  connector.appointmentPagesInWindow = async function* (...args) {
    for await (const page of pages(...args)) yield page.map(counted);
  };
  connector.blocksInWindow = async (...args) => (await blocks(...args)).map(counted);
  return mapped;
}

describe.each(testStoreFactories)('a window pass over unchanged records ($name)', (factory) => {
  const db = useTestStore(factory);
  let harness: SyncHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it('maps no appointment or block that did not change, and maps the one that did', async () => {
    const h = (harness = await startSyncHarness({
      firms: [{ name: TINY_FIRM, data: tinyFirm() }],
      store: db().store,
    }));
    await h.engine.runOnce();
    const mapped = countMappings(h.connectors[0]!);
    await h.engine.runStream(TINY_FIRM, 'window-hot');
    await h.engine.runStream(TINY_FIRM, 'window-warm');
    expect(Object.fromEntries(mapped)).toEqual({});

    const seq = await lastJournalSeq(db().store, TINY_FIRM);
    const moved = { start: '2026-11-23T10:30', durationMinutes: 15 };
    const current = h.sim.state(TINY_FIRM).appointments.find((a) => a.id === 1)!;
    const body = { ...current, ...moved };
    expect((await h.frontDesk(TINY_FIRM, 'PUT', '/appointments/1', body)).status).toBe(200);
    await h.engine.runStream(TINY_FIRM, 'window-hot');
    expect(Object.fromEntries(mapped)).toEqual({ Appointment: 1 });
    const events = await readJournal(db().store, TINY_FIRM, { afterSeq: seq, limit: 10 });
    expect(events.map((e) => e.eventType)).toEqual(['appointment.changed']);
  });

  it('re-maps the appointments when an appointment type they show is renamed', async () => {
    const h = (harness = await startSyncHarness({
      firms: [{ name: TINY_FIRM, data: tinyFirm() }],
      store: db().store,
    }));
    await h.engine.runOnce();
    const seq = await lastJournalSeq(db().store, TINY_FIRM);
    const data = h.sim.state(TINY_FIRM);
    const type = data.appointmentTypes[0]!;
    type.name = 'Short follow-up';
    await h.engine.runOnce();
    const events = await readJournal(db().store, TINY_FIRM, { afterSeq: seq, limit: 100 });
    const changed = events.filter((e) => e.eventType === 'appointment.changed').map((e) => e.resourceId);
    const rows = await db()
      .store.db.selectFrom('resources')
      .select(['id', 'resource'])
      .where('tenant_id', '=', TINY_FIRM)
      .where('resource_type', '=', 'Appointment')
      .execute();
    const ofType = rows
      .map((row) => JSON.parse(row.resource) as Appointment)
      .filter((a) => a.appointmentType?.coding?.[0]?.code === type.code);
    expect(ofType.length).toBeGreaterThan(0);
    expect(ofType.map((a) => a.appointmentType?.coding?.[0]?.display)).toEqual(
      ofType.map(() => 'Short follow-up'),
    );
    expect(changed.sort()).toEqual(ofType.map((a) => a.id).sort());
  });
});
