/**
 * A window pass applied page by page (issue 16 item 5): delete-by-absence sees every page before it deletes, a
 * pass that fails on a page deletes nothing, and a record that moves between pages while the pass reads them is
 * not deleted. A real store on both dialects; the records system is an in-memory list read by offset pages, as
 * the simulated and FHIR records systems page.
 */
import type { Appointment } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import type { UpstreamRecord } from '../../src/connectors/connector.js';
import { readJournal } from '../../src/store/change-journal.js';
import type { Store } from '../../src/store/database.js';
import { readResource } from '../../src/store/resource-store.js';
import { fhirIdsFor, upstreamIdFor } from '../../src/store/upstream-ids.js';
import { applyRecords, type ApplyResult, type RecordSet } from '../../sync/apply-records.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

const TENANT = 'paged';
const PAGE = 3;
const SCOPE = { periodFrom: '2026-12-01T00:00:00.000Z', periodTo: '2026-12-31T00:00:00.000Z' };

/** One appointment of the records system: its id, its day in December (09:00 UTC) and its status. */
interface Row {
  id: string;
  day: number;
  status: Appointment['status'];
}

const startOf = (row: Row) => `2026-12-${String(row.day).padStart(2, '0')}T09:00:00.000Z`;

function record(row: Row): UpstreamRecord<Appointment> {
  const snapshot = { ...row };
  return {
    resourceType: 'Appointment',
    upstreamId: snapshot.id,
    references: [],
    toFhir: (resolve) => ({
      resourceType: 'Appointment',
      id: resolve('Appointment', snapshot.id),
      status: snapshot.status,
      start: startOf(snapshot),
      end: startOf(snapshot).replace('T09:00', 'T09:30'),
      participant: [{ status: 'accepted' }],
    }),
  };
}

/** A records system holding `rows`, listed by start time in offset pages of {@link PAGE}. */
class Upstream {
  constructor(public rows: Row[]) {}

  private listed(): Row[] {
    return [...this.rows].sort((a, b) => a.day - b.day || a.id.localeCompare(b.id));
  }

  /**
   * Pages as a records system hands them out: each read when asked for, from the list as it is then.
   * `beforePage(k)` runs before page k (1-based) is read; it may change the rows or throw.
   */
  async *pages(beforePage?: (k: number) => void): AsyncGenerator<UpstreamRecord<Appointment>[]> {
    for (let k = 1; ; k++) {
      beforePage?.(k);
      await Promise.resolve();
      const page = this.listed().slice((k - 1) * PAGE, k * PAGE);
      if (page.length === 0) return;
      yield page.map(record);
    }
  }

  all(): UpstreamRecord<Appointment>[] {
    return this.listed().map(record);
  }

  find(upstreamId: string): UpstreamRecord<Appointment> | null {
    const row = this.rows.find((r) => r.id === upstreamId);
    return row ? record(row) : null;
  }

  set(id: string, change: Partial<Row>): void {
    this.rows = this.rows.map((r) => (r.id === id ? { ...r, ...change } : r));
  }

  remove(id: string): void {
    this.rows = this.rows.filter((r) => r.id !== id);
  }
}

const rows = (count: number): Row[] =>
  Array.from({ length: count }, (_, i) => ({ id: `a${i + 1}`, day: i + 2, status: 'booked' as const }));

/** A window pass over `records`: missing appointments are read once more by id before they are deleted. */
function windowPass(
  store: Store,
  upstream: Upstream,
  records: RecordSet<Appointment>['records'],
  baseline = false,
): Promise<ApplyResult> {
  const set: RecordSet<Appointment> = {
    resourceType: 'Appointment',
    records,
    scope: SCOPE,
    vanished: async (fhirId) => {
      const upstreamId = await upstreamIdFor(store, TENANT, 'Appointment', fhirId);
      return upstreamId === undefined ? null : upstream.find(upstreamId);
    },
  };
  return applyRecords(store, TENANT, [set as RecordSet], { baseline });
}

async function fhirId(store: Store, upstreamId: string): Promise<string> {
  return (await fhirIdsFor(store, TENANT, 'Appointment', [upstreamId])).get(upstreamId) as string;
}

/** Status of the stored appointment, or `deleted`. */
async function storedStatus(store: Store, upstreamId: string): Promise<string | undefined> {
  const stored = await readResource(store, TENANT, 'Appointment', await fhirId(store, upstreamId));
  return stored?.deleted ? 'deleted' : stored?.resource.status;
}

/** Ten appointments loaded, then one pass during which `move` changes the records system before page 2. */
async function passMovingBeforePage2(store: Store, move: (upstream: Upstream) => void): Promise<ApplyResult> {
  const upstream = new Upstream(rows(10));
  await windowPass(store, upstream, upstream.pages(), true);
  return windowPass(
    store,
    upstream,
    upstream.pages((k) => {
      if (k === 2) move(upstream);
    }),
  );
}

/** Every one of `ids` is stored with `status` (or deleted). */
async function expectStatus(store: Store, ids: readonly string[], status: string): Promise<void> {
  const found = await Promise.all(ids.map(async (id) => [id, await storedStatus(store, id)] as const));
  expect(Object.fromEntries(found)).toEqual(Object.fromEntries(ids.map((id) => [id, status])));
}

/** The journal as `event upstreamId` lines, in order. */
async function journal(store: Store): Promise<string[]> {
  const byFhirId = new Map<string, string>();
  for (const id of rows(12).map((r) => r.id)) byFhirId.set(await fhirId(store, id), id);
  return (await readJournal(store, TENANT, { limit: 1000 })).map(
    (e) => `${e.eventType} ${byFhirId.get(e.resourceId ?? '') ?? e.resourceId}`,
  );
}

describe.each(testStoreFactories)('applyRecords page by page ($name)', (factory) => {
  const db = useTestStore(factory);

  it('deletes by absence only once every page has been read, and only what no page listed', async () => {
    const { store } = db();
    const upstream = new Upstream(rows(10));
    await windowPass(store, upstream, upstream.pages(), true);

    upstream.remove('a2'); // on the first page
    upstream.remove('a10'); // on the last page
    upstream.set('a5', { status: 'cancelled' });
    const result = await windowPass(store, upstream, upstream.pages());

    expect(result).toMatchObject({ written: 3, deleted: 2, events: 3 });
    for (const id of ['a2', 'a10']) expect(await storedStatus(store, id)).toBe('deleted');
    await expectStatus(store, ['a1', 'a3', 'a4', 'a6', 'a7', 'a8', 'a9'], 'booked');
    expect(await journal(store)).toEqual([
      'appointment.cancelled a5',
      'appointment.deleted a2',
      'appointment.deleted a10',
    ]);
    // A second pass over the same pages finds nothing to do.
    expect(await windowPass(store, upstream, upstream.pages())).toMatchObject({ written: 0, events: 0 });
  });

  it('writes the same journal whether the window comes in pages or whole', async () => {
    const other = await factory.create();
    try {
      const journals: string[][] = [];
      for (const [store, paged] of [
        [db().store, true],
        [other.store, false],
      ] as const) {
        const upstream = new Upstream(rows(10));
        await windowPass(store, upstream, upstream.all(), true);
        upstream.remove('a3');
        upstream.set('a7', { day: 28 });
        upstream.set('a9', { status: 'cancelled' });
        upstream.rows.push({ id: 'a11', day: 15, status: 'booked' });
        await windowPass(store, upstream, paged ? upstream.pages() : upstream.all());
        journals.push(await journal(store));
      }
      expect(journals[0]?.slice().sort()).toEqual(journals[1]?.slice().sort());
      expect(journals[0]?.slice().sort()).toEqual([
        'appointment.booked a11',
        'appointment.cancelled a9',
        'appointment.changed a7',
        'appointment.deleted a3',
      ]);
    } finally {
      await other.dispose();
    }
  });

  it('deletes nothing when the pass fails on a page, and the next pass writes each event once', async () => {
    const { store } = db();
    const upstream = new Upstream(rows(10));
    await windowPass(store, upstream, upstream.pages(), true);

    upstream.set('a1', { status: 'cancelled' }); // page 1
    upstream.set('a8', { status: 'cancelled' }); // page 3
    upstream.remove('a5'); // page 2 before, gone now
    const failing = upstream.pages((k) => {
      if (k === 3) throw new Error('records system unavailable (page 3)');
    });
    await expect(windowPass(store, upstream, failing)).rejects.toThrow('page 3');

    // Nothing is deleted, and nothing written: the change page 1 found was not committed yet (a pass commits
    // every CHANGES_PER_COMMIT changes), so it is dropped with the pass and found again by the next one.
    expect(await storedStatus(store, 'a1')).toBe('booked');
    expect(await storedStatus(store, 'a8')).toBe('booked');
    expect(await storedStatus(store, 'a5')).toBe('booked');
    await expectStatus(store, ['a2', 'a3', 'a4', 'a6', 'a7', 'a9', 'a10'], 'booked');
    expect(await journal(store)).toEqual([]);

    await windowPass(store, upstream, upstream.pages());
    expect(await storedStatus(store, 'a5')).toBe('deleted');
    expect(await storedStatus(store, 'a8')).toBe('cancelled');
    expect(await journal(store)).toEqual([
      'appointment.cancelled a1',
      'appointment.cancelled a8',
      'appointment.deleted a5',
    ]);
  });

  it('does not delete a record that moves to a page already read while the pass reads the rest', async () => {
    const { store } = db();
    // After page 1 is read, a9 (page 3) moves to the first day, onto page 1: no page still to come lists it; and
    // a4 (page 2) moves to the last day, onto page 4. The pass must not take the missed a9 for a deleted one.
    const result = await passMovingBeforePage2(store, (upstream) => {
      upstream.set('a9', { day: 1 });
      upstream.set('a4', { day: 30 });
    });

    expect(result.deleted).toBe(0);
    await expectStatus(store, ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9', 'a10'], 'booked');
    const startOfStored = async (id: string) =>
      (await readResource(store, TENANT, 'Appointment', await fhirId(store, id)))?.resource.start;
    expect(await startOfStored('a9')).toBe('2026-12-01T09:00:00.000Z');
    expect(await startOfStored('a4')).toBe('2026-12-30T09:00:00.000Z');
    expect((await journal(store)).sort()).toEqual(['appointment.changed a4', 'appointment.changed a9']);
  });

  it('writes a record listed on two pages (it moved to one not yet read) once, and keeps the one it pushed back', async () => {
    const { store } = db();
    // a2 (page 1, already read) moves to the last day: page 4 lists it again, and a4 shifts onto page 1, read.
    const result = await passMovingBeforePage2(store, (upstream) => upstream.set('a2', { day: 30 }));
    expect(result.deleted).toBe(0);
    await expectStatus(store, ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9', 'a10'], 'booked');
    expect(await journal(store)).toEqual(['appointment.changed a2']);
  });
});
