/**
 * What an instance runs at once when it starts or takes a tenant's lease over (`SyncEngine.catchUp`): the streams
 * that are due, reference data first, and not the ones its previous holder passed less than an interval ago. Seen
 * in CI with three instances: a lease handed to a joining instance ran all four streams at once, 30 calls to the
 * records system in a 10-s window where one instance makes 21.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startSyncHarness, type SyncHarness } from '../support/sync-harness.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';
import { TINY_FIRM, tinyFirm } from '../support/tiny-firm.js';

describe.each(testStoreFactories)('sync catch-up after a start or a takeover ($name)', (factory) => {
  const db = useTestStore(factory);
  let harness: SyncHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  async function start(): Promise<SyncHarness> {
    harness = await startSyncHarness({ firms: [{ name: TINY_FIRM, data: tinyFirm() }], store: db().store });
    return harness;
  }

  const ran = async (h: SyncHarness) =>
    (await h.engine.catchUp(TINY_FIRM)).map((r) => [r.stream, r.outcome] as const);

  it('runs every stream, reference data first, on a store that has never synced the tenant', async () => {
    const h = await start();
    expect(await ran(h)).toEqual([
      ['reference', 'ok'],
      ['window-hot', 'ok'],
      ['window-warm', 'ok'],
      ['patients', 'ok'],
    ]);
  });

  it('runs only the streams whose interval has passed since their last success', async () => {
    // Intervals in the harness: hot 2 s, patients 10 s, warm 60 s, reference 3,600 s.
    const h = await start();
    await h.engine.runOnce();
    expect(await ran(h)).toEqual([]);
    h.clock.advanceSeconds(1);
    expect(await ran(h)).toEqual([]);
    h.clock.advanceSeconds(1);
    expect(await ran(h)).toEqual([['window-hot', 'ok']]);
    h.clock.advanceSeconds(10);
    expect(await ran(h)).toEqual([
      ['window-hot', 'ok'],
      ['patients', 'ok'],
    ]);
    h.clock.advanceSeconds(60);
    expect(await ran(h)).toEqual([
      ['window-hot', 'ok'],
      ['window-warm', 'ok'],
      ['patients', 'ok'],
    ]);
  });

  it('runs a stream whose last pass failed at once, whenever it last succeeded', async () => {
    const h = await start();
    await h.engine.runOnce();
    h.sim.faults.set({ down: true });
    expect((await h.engine.runStream(TINY_FIRM, 'window-warm')).outcome).toBe('failed');
    h.sim.faults.clear();
    await new Promise((resolve) => setTimeout(resolve, 60)); // let the (50 ms) circuit half-open
    expect(await ran(h)).toEqual([['window-warm', 'ok']]);
    expect(await ran(h)).toEqual([]);
  });
});
