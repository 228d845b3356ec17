/**
 * A pass that writes thousands of versions refreshes the planner's statistics while it still has pages to read
 * (issue 16, sync-diff): its later pages are looked up in the tables it has been filling, and PostgreSQL, before its
 * autovacuum analyzes them (or with it off), planned those lookups as nested loops over every stored row — a first
 * load of 100,000 appointments took 950 s. A real store on both dialects.
 */
import type { Appointment } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import type { UpstreamRecord } from '../../src/connectors/connector.js';
import type { Store } from '../../src/store/database.js';
import { applyRecords } from '../../sync/apply-records.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

const PAGE = 1000;

function record(n: number): UpstreamRecord<Appointment> {
  const start = new Date(Date.UTC(2026, 11, 1, 8) + n * 60_000).toISOString();
  return {
    resourceType: 'Appointment',
    upstreamId: String(n),
    references: [],
    sourceHash: `h${n}`,
    toFhir: (resolve) => ({
      resourceType: 'Appointment',
      id: resolve('Appointment', String(n)),
      status: 'booked',
      start,
      end: start,
      participant: [{ status: 'accepted' }],
    }),
  };
}

/** `pages` pages of {@link PAGE} records; `log` gets `page k` as each is handed out. */
async function* pagesOf(pages: number, log: string[]): AsyncGenerator<UpstreamRecord<Appointment>[]> {
  for (let k = 1; k <= pages; k++) {
    log.push(`page ${k}`);
    await Promise.resolve();
    yield Array.from({ length: PAGE }, (_, i) => record((k - 1) * PAGE + i));
  }
}

/** The store, with its statistics refreshes written to `log`. */
function logging(store: Store, log: string[]): Store {
  return {
    ...store,
    analyze: () => {
      log.push('analyze');
      return store.analyze();
    },
  };
}

describe.each(testStoreFactories)('applyRecords and planner statistics ($name)', (factory) => {
  const db = useTestStore(factory);

  it('refreshes statistics once a pass has written 5,000 versions, before it reads the pages still to come', async () => {
    const { store } = db();
    const log: string[] = [];
    const result = await applyRecords(
      logging(store, log),
      'stats',
      [{ resourceType: 'Appointment', records: pagesOf(7, log), scope: {}, vanished: 'ignore' }],
      { baseline: true },
    );
    expect(result.written).toBe(7 * PAGE);
    // The fifth page's commit brings the pass to 5,000: the refresh comes before the seventh page is read (the pass
    // reads one page ahead; the sixth page's lookup, sent before that commit, is sent again after it).
    expect(log).toEqual(['page 1', 'page 2', 'page 3', 'page 4', 'page 5', 'page 6', 'analyze', 'page 7']);
  });

  it('does not refresh statistics in a pass that writes fewer', async () => {
    const { store } = db();
    const log: string[] = [];
    await applyRecords(
      logging(store, log),
      'stats',
      [{ resourceType: 'Appointment', records: pagesOf(4, log), scope: {}, vanished: 'ignore' }],
      { baseline: true },
    );
    expect(log).toEqual(['page 1', 'page 2', 'page 3', 'page 4']);
  });
});
