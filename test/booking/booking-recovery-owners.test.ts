/**
 * Saga recovery with several instances on one store (issue 11): the tenant's lease holder takes over the sagas of
 * instances that are gone, never those of a live instance; and every instance recovers its own sagas whether or
 * not it holds the tenant's lease — a booking left `unknown` by a lost write answer on an instance without the
 * lease would otherwise wait for that instance to die.
 */
import { describe, expect, it } from 'vitest';
import type { BookingService } from '../../src/booking/booking-service.js';
import type { BookingFailure } from '../../src/booking/booking-types.js';
import type { Connector } from '../../src/connectors/connector.js';
import { UpstreamError } from '../../src/connectors/upstream-error.js';
import { alwaysHeldLeases, type WorkLeases } from '../../src/leases/work-leases.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';
import { TINY_FIRM } from '../support/tiny-firm.js';
import { useSagaHarness } from './support/saga-harness.js';

/** An instance's view of the leases: `holds` says whether it holds the tenant's; `live` who is alive. */
function leasesOf(instanceId: string, options: { holds: boolean; live: string[] }): WorkLeases {
  return {
    ...alwaysHeldLeases([TINY_FIRM], instanceId),
    holds: () => options.holds,
    liveInstances: () => Promise.resolve(options.live),
  };
}

describe.each(testStoreFactories)('saga recovery by owner and lease ($name)', (factory) => {
  const db = useTestStore(factory);
  const { setUp, service, request, harness } = useSagaHarness(db);
  const instance = (leases: WorkLeases, connector?: Connector): BookingService =>
    service(connector, { leases });

  const sagaOf = async (id: string) =>
    db()
      .store.db.selectFrom('booking_sagas')
      .select(['state', 'owner_instance'])
      .where('id', '=', id)
      .executeTakeFirst();

  /** Books on instance `a` with the write's answer lost (the sim applies it, then the connection drops). */
  async function lostWriteAnswerOn(a: WorkLeases): Promise<string> {
    const h = harness();
    const real = h.connectors[0]!;
    const lost: Connector = Object.create(real, {
      createAppointment: {
        value: async (...args: Parameters<Connector['createAppointment']>) => {
          await real.createAppointment(...args);
          throw new UpstreamError('timeout', 'the answer was lost', { outcome: 'unknown' });
        },
      },
      // Reconciling inline fails too: the saga is left to recovery.
      findAppointmentsByMarker: {
        value: () => Promise.reject(new UpstreamError('unavailable', 'records system down', { status: 503 })),
      },
    }) as Connector;
    const outcome = (await instance(a, lost).book(TINY_FIRM, await request())) as BookingFailure;
    expect(outcome.code).toBe('booking-pending');
    const saga = await sagaOf(outcome.bookingId!);
    expect(saga).toMatchObject({ state: 'unknown', owner_instance: a.instanceId });
    return outcome.bookingId!;
  }

  it('recovers its own unknown saga without holding the tenant lease', async () => {
    const h = await setUp();
    const a = leasesOf('instance-a', { holds: false, live: ['instance-a', 'instance-b'] });
    const id = await lostWriteAnswerOn(a);
    h.clock.advanceSeconds(10);
    // Instance b holds the lease but a is alive: a's saga is a's to finish.
    await instance(leasesOf('instance-b', { holds: true, live: ['instance-a', 'instance-b'] })).recover();
    expect((await sagaOf(id))?.state).toBe('unknown');
    // a, without the lease, recovers its own.
    await instance(a).recover();
    expect((await sagaOf(id))?.state).toBe('committed');
  });

  it("leaves a live instance's saga alone when neither holding the lease nor owning it", async () => {
    const h = await setUp();
    const a = leasesOf('instance-a', { holds: false, live: ['instance-a', 'instance-b', 'instance-c'] });
    const id = await lostWriteAnswerOn(a);
    h.clock.advanceSeconds(10);
    await instance(leasesOf('instance-c', { holds: false, live: ['instance-a', 'instance-c'] })).recover();
    expect((await sagaOf(id))?.state).toBe('unknown');
  });

  it("takes over a dead instance's saga on the lease holder", async () => {
    const h = await setUp();
    const id = await lostWriteAnswerOn(leasesOf('instance-a', { holds: false, live: ['instance-a'] }));
    h.clock.advanceSeconds(10);
    // instance-a is gone (no longer live): the holder finishes its saga.
    await instance(leasesOf('instance-b', { holds: true, live: ['instance-b'] })).recover();
    expect((await sagaOf(id))?.state).toBe('committed');
  });
});
