/**
 * Real crash tests of the booking saga (reliability.md §1.2, §7 row 7): a booking process, forked with `tsx` onto
 * the same store and the same simulated records system, kills itself with SIGKILL at one saga checkpoint; a fresh
 * service's recovery worker, once the hold TTL has passed, must converge: no claims left, every saga committed or
 * released, no appointment upstream without a committed saga, and each committed booking stored exactly once.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { SagaCheckpoint } from '../../src/booking/booking-service.js';
import type { BookingRequest } from '../../src/booking/booking-types.js';
import { upstreamIdFor } from '../../src/store/upstream-ids.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';
import { TINY_FIRM } from '../support/tiny-firm.js';
import { useSagaHarness } from './support/saga-harness.js';

const CHILD = fileURLToPath(new URL('../support/booking-child.ts', import.meta.url));
const HOLD_TTL_MS = 5_000;

/**
 * Each checkpoint, how the killed process left its saga, and how recovery must end it: released when nothing had
 * reached the records system, committed once the write had.
 */
const CHECKPOINTS: readonly (readonly [
  SagaCheckpoint,
  string,
  'committed' | 'released',
  ChildFault | undefined,
])[] = [
  ['held', 'held', 'released', undefined],
  ['write-sent', 'writing', 'committed', undefined],
  ['written', 'writing', 'committed', undefined],
  // The write landed but its answer was lost: recovery finds it by marker.
  ['unknown', 'unknown', 'committed', 'lose-answer'],
  ['verified', 'written', 'committed', undefined],
  // The front desk booked the same time first: recovery finishes undoing ours.
  ['compensating', 'compensating', 'released', 'front-desk-race'],
  ['committed', 'committed', 'committed', undefined],
];

/** A fault the booking process meets (test/support/booking-child.ts). */
type ChildFault = 'lose-answer' | 'front-desk-race';

interface ChildRun {
  signal: NodeJS.Signals | null;
  code: number | null;
  steps: SagaCheckpoint[];
  outcome: unknown;
}

// The booking process opens the test's database by its URL and schema: a file on SQLite, a schema on PostgreSQL.
describe.each(testStoreFactories)('booking across a process killed with SIGKILL ($name)', (factory) => {
  const db = useTestStore(factory);
  const { setUp, service, request, harness } = useSagaHarness(db);

  function runChild(
    crashAt: SagaCheckpoint,
    booking: BookingRequest,
    fault: ChildFault | undefined,
  ): Promise<ChildRun> {
    const { url, schema } = db();
    const h = harness();
    const child = fork(
      CHILD,
      [
        url,
        schema ?? '-',
        JSON.stringify(h.tenants[0]),
        JSON.stringify({ ...booking, start: booking.start.toISOString() }),
        h.clock.now().toISOString(),
      ],
      {
        execArgv: ['--import', 'tsx'],
        env: {
          ...process.env,
          CRASH_AT: crashAt,
          HOLD_TTL_MS: String(HOLD_TTL_MS),
          ...(fault ? { CHILD_FAULT: fault } : {}),
        },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    const run: ChildRun = { signal: null, code: null, steps: [], outcome: undefined };
    child.on('message', (message: { step?: SagaCheckpoint; outcome?: unknown }) => {
      if (message.step) run.steps.push(message.step);
      if ('outcome' in message) run.outcome = message.outcome;
    });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve({ ...run, code, signal }));
    });
  }

  it.each(CHECKPOINTS)(
    'converges after the booking process dies at checkpoint %s (saga left %s): it ends %s, with no orphan hold and no unmatched upstream appointment',
    async (crashAt, leftAt, expected, fault) => {
      const h = await setUp();
      const { store } = db();
      // Monday 10:30 with Dr. Johnson; the harness clock is Friday 2026-11-20.
      const booking = await request();

      const run = await runChild(crashAt, booking, fault);
      expect({ signal: run.signal, outcome: run.outcome }).toEqual({ signal: 'SIGKILL', outcome: undefined });
      expect(run.steps.at(-1)).toBe(crashAt);
      const left = await store.db.selectFrom('booking_sagas').select('state').execute();
      expect(left.map((s) => s.state)).toEqual([leftAt]);

      h.clock.advanceSeconds(60);
      await service(undefined, { holdTtlMs: HOLD_TTL_MS }).recover();

      // No orphan hold, and every saga finished one way or the other.
      expect(await store.db.selectFrom('booking_claims').selectAll().execute()).toEqual([]);
      const sagas = await store.db
        .selectFrom('booking_sagas')
        .select(['id', 'state', 'marker', 'appointment_id'])
        .execute();
      expect(sagas.map((s) => s.state)).toEqual([expected]);
      const committed = new Map(sagas.filter((s) => s.state === 'committed').map((s) => [s.marker, s]));

      // No appointment in the records system carries a marker whose saga did not commit.
      const upstream = h.sim
        .state(TINY_FIRM)
        .appointments.filter((a) => a.status !== 'cancelled' && a.externalRef?.startsWith('switchboard:'));
      expect(upstream.filter((a) => !committed.has(a.externalRef ?? ''))).toEqual([]);
      expect(upstream).toHaveLength(committed.size);
      if (fault === 'front-desk-race') {
        // The front desk's booking stands; ours was undone.
        const desk = h.sim.state(TINY_FIRM).appointments.filter((a) => a.externalRef === 'front-desk');
        expect(desk.map((a) => a.status)).not.toContain('cancelled');
        expect(desk).toHaveLength(1);
      }

      // Each committed booking is in the store exactly once, mapped to its appointment upstream.
      for (const saga of committed.values()) {
        const matching = upstream.filter((a) => a.externalRef === saga.marker);
        expect(matching).toHaveLength(1);
        const storedAtTime = await store.db
          .selectFrom('resources')
          .select('id')
          .where('tenant_id', '=', TINY_FIRM)
          .where('resource_type', '=', 'Appointment')
          .where('deleted', '=', 0)
          .where('ref_practitioner', '=', booking.practitionerId)
          .where('period_start', '=', booking.start.toISOString())
          .execute();
        expect(storedAtTime.map((r) => r.id)).toEqual([saga.appointment_id]);
        expect(await upstreamIdFor(store, TINY_FIRM, 'Appointment', saga.appointment_id!)).toBe(
          String(matching[0]!.id),
        );
      }
    },
    60_000,
  );
});
