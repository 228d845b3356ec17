/**
 * A pass sends each page's skip lookup one page ahead (issue 16, sync-diff), and a lookup sent before one of the
 * pass's commits is sent again after it: the page is then compared with what the pass committed before it, as when
 * every lookup followed the page before. A real store on both dialects for the pass.
 */
import type { Appointment } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import type { UpstreamRecord } from '../../src/connectors/connector.js';
import { readJournal } from '../../src/store/change-journal.js';
import { readResource } from '../../src/store/resource-store.js';
import { fhirIdsFor } from '../../src/store/upstream-ids.js';
import { applyRecords, CHANGES_PER_COMMIT } from '../../sync/apply-records.js';
import { withLookupsAhead } from '../../sync/record-pages.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

const TENANT = 'ahead';

function record(n: number, status: Appointment['status']): UpstreamRecord<Appointment> {
  const start = new Date(Date.UTC(2026, 11, 1, 8) + n * 60_000).toISOString();
  return {
    resourceType: 'Appointment',
    upstreamId: String(n),
    references: [],
    sourceHash: `${n}:${status}`,
    toFhir: (resolve) => ({
      resourceType: 'Appointment',
      id: resolve('Appointment', String(n)),
      status,
      start,
      end: start,
      participant: [{ status: 'accepted' }],
    }),
  };
}

async function* listed<T>(pages: T[][], log: string[]): AsyncGenerator<T[]> {
  for (const [k, page] of pages.entries()) {
    log.push(`read ${k + 1}`);
    await Promise.resolve();
    yield page;
  }
}

describe('withLookupsAhead', () => {
  it("sends the next page's lookup before handing on the current page, and again after a commit", async () => {
    const log: string[] = [];
    let commits = 0;
    const pages = [[record(1, 'booked')], [record(2, 'booked')], [record(3, 'booked')]];
    const lookup = (page: readonly UpstreamRecord<Appointment>[]) => {
      log.push(`lookup ${page[0]?.upstreamId}`);
      return Promise.resolve(page.length);
    };
    for await (const { page } of withLookupsAhead(listed(pages, log), lookup, () => commits)) {
      log.push(`apply ${page[0]?.upstreamId}`);
      if (page[0]?.upstreamId === '1') commits++;
    }
    expect(log).toEqual([
      'read 1',
      'lookup 1',
      'read 2',
      'lookup 2',
      'apply 1',
      'read 3',
      'lookup 3',
      // Page 2's lookup was sent before the commit applying page 1 made: sent again.
      'lookup 2',
      'apply 2',
      'apply 3',
    ]);
  });

  it('ends the listing when the pass stops early', async () => {
    const log: string[] = [];
    async function* source(): AsyncGenerator<UpstreamRecord<Appointment>[]> {
      try {
        for (let k = 1; k <= 5; k++) {
          log.push(`read ${k}`);
          await Promise.resolve();
          yield [record(k, 'booked')];
        }
      } finally {
        log.push('listing ended');
      }
    }
    const pass = async () => {
      for await (const { page } of withLookupsAhead(
        source(),
        () => Promise.resolve(0),
        () => 0,
      )) {
        throw new Error(`records system unavailable after ${page[0]?.upstreamId}`);
      }
    };
    await expect(pass()).rejects.toThrow('after 1');
    expect(log).toEqual(['read 1', 'read 2', 'listing ended']);
  });
});

describe.each(testStoreFactories)('a pass reading ahead ($name)', (factory) => {
  const db = useTestStore(factory);

  it('applies a record listed again after a commit as the later listing says', async () => {
    const { store } = db();
    const all = (status: Appointment['status']) =>
      Array.from({ length: CHANGES_PER_COMMIT }, (_, n) => record(n, status));
    const pass = (pages: UpstreamRecord<Appointment>[][], baseline = false) =>
      applyRecords(
        store,
        TENANT,
        [{ resourceType: 'Appointment', records: listed(pages, []), scope: {}, vanished: 'ignore' }],
        { baseline },
      );
    await pass([all('booked')], true);
    // Page 1 changes all of them (a commit's worth, committed before page 2 is applied); page 2 lists the first
    // again, as it was: the records system changed it back between the two reads.
    const result = await pass([all('arrived'), [record(0, 'booked')]]);

    expect(result.written).toBe(CHANGES_PER_COMMIT + 1);
    const id = (await fhirIdsFor(store, TENANT, 'Appointment', ['0'])).get('0') as string;
    const stored = await readResource(store, TENANT, 'Appointment', id);
    expect(stored?.resource.status).toBe('booked');
    expect(stored?.versionId).toBe(3);
    const events = await readJournal(store, TENANT, { limit: 5000 });
    expect(events.filter((e) => e.resourceId === id).map((e) => e.eventType)).toEqual([
      'appointment.changed',
      'appointment.changed',
    ]);
  });
});
