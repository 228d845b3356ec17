/**
 * An Idempotency-Key whose process died while its request ran (issues 10 and 11): the key is bound to its booking
 * saga from the claim on, so a replay answers what became of that saga instead of `409 idempotency-key-in-flight`
 * until the claim's lease runs out (and then, possibly, `slot-taken` while the first booking stands). A process
 * that died before recording a saga sent nothing, so the replay books.
 *
 * The death is the claim's owner naming a process that no longer runs (as after a restart: same instance, another
 * start); the scale-out campaign kills real processes with SIGKILL.
 */
import type { Appointment, Bundle } from '@medplum/fhirtypes';
import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/store/content-hash.js';
import { testStoreFactories } from '../support/test-stores.js';
import { TINY_FIRM } from '../support/tiny-firm.js';
import {
  expectFailure,
  fhirRequest,
  findMonday,
  gateCreates,
  monday1030,
  parameters,
  useBookingFacade,
  type BookingFacade,
} from '../booking/support/booking-facade.js';

/** A process of this instance that is gone (claims name `{instance}/{nonce}`; the facade's instance is `local`). */
const DEAD_PROCESS = 'local/a-process-that-was-killed';

const keyRecord = (h: BookingFacade, key: string) =>
  h.store.db
    .selectFrom('idempotency_records')
    .selectAll()
    .where('idempotency_key', '=', key)
    .executeTakeFirstOrThrow();

describe.each(testStoreFactories)('Idempotency-Key of a process that died ($name)', (factory) => {
  const facade = useBookingFacade(factory, { holdSeconds: 300 });

  it('answers the saga the key is bound to: booking-pending while it runs, then the booking, booked once', async () => {
    const h = facade();
    const { writing, open } = gateCreates(h);
    const key = randomUUID();
    const headers = { 'idempotency-key': key };
    const body = await monday1030(h);
    const first = fhirRequest<Appointment>(h, 'POST', 'Appointment', { body, headers });
    await writing;
    const claim = await keyRecord(h, key);
    expect(claim.state).toBe('in-flight');
    expect(claim.saga_id).toEqual(expect.any(String));
    // Its process dies with the write sent: only the saga (and recovery) can tell how it ends.
    await h.store.db
      .updateTable('idempotency_records')
      .set({ owner: DEAD_PROCESS })
      .where('idempotency_key', '=', key)
      .execute();

    const pending = await fhirRequest(h, 'POST', 'Appointment', { body, headers });
    expectFailure(pending, 202, 'booking-pending');
    expect(pending.headers.get('location')).toMatch(new RegExp(`/Appointment/${claim.saga_id}$`));
    expect(pending.headers.get('x-booking-id')).toBe(claim.saga_id);

    open();
    expect((await first).status).toBe(201);
    const replay = await fhirRequest<Appointment>(h, 'POST', 'Appointment', { body, headers });
    expect(replay.status, JSON.stringify(replay.body)).toBe(201);
    expect(replay.body.id).toBe((await first).body.id);
    expect(h.upstreamAt('2026-11-23T10:30', { includeCancelled: true })).toHaveLength(1);
    expect((await keyRecord(h, key)).status).toBe(201);
  });

  it('books on a replay when the process died before recording a saga (nothing was sent)', async () => {
    const h = facade();
    const key = randomUUID();
    const body = await monday1030(h);
    // The claim a process left when it died validating the request: bound to a saga never recorded.
    const now = new Date();
    await h.store.db
      .insertInto('idempotency_records')
      .values({
        tenant_id: TINY_FIRM,
        client_id: '-',
        idempotency_key: key,
        fingerprint: createHash('sha256')
          .update(`POST\n/${TINY_FIRM}/Appointment\n${canonicalJson(body)}`)
          .digest('hex'),
        state: 'in-flight',
        status: null,
        response: null,
        created_at: now.toISOString(),
        expires_at: new Date(now.getTime() + 3_600_000).toISOString(),
        saga_id: randomUUID(),
        owner: DEAD_PROCESS,
      })
      .execute();

    const answer = await fhirRequest<Appointment>(h, 'POST', 'Appointment', {
      body,
      headers: { 'idempotency-key': key },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(h.upstreamAt('2026-11-23T10:30')).toHaveLength(1);
    expect(await keyRecord(h, key)).toMatchObject({ state: 'completed', status: 201 });
  });

  it('answers the hold a $hold made before its process died, not slot-taken against that very hold', async () => {
    const h = facade();
    const proposal = (await findMonday(h)).entry?.[0]?.resource as Appointment;
    const key = randomUUID();
    const hold = () =>
      fhirRequest<Bundle>(h, 'POST', 'Appointment/$hold', {
        body: parameters({
          name: 'appointment-reference',
          valueReference: { reference: `Appointment/${proposal.id}` },
        }),
        headers: { 'idempotency-key': key },
      });
    const first = await hold();
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const holdId = first.body.entry?.[0]?.resource?.id;
    // The key was bound to the hold before it was made …
    expect((await keyRecord(h, key)).saga_id).toBe(holdId);
    // … and its process dies after making the hold, before storing the answer.
    await h.store.db
      .updateTable('idempotency_records')
      .set({ state: 'in-flight', status: null, response: null, owner: DEAD_PROCESS })
      .where('idempotency_key', '=', key)
      .execute();

    const replay = await hold();
    expect(replay.status, JSON.stringify(replay.body)).toBe(200);
    expect(replay.body.entry?.[0]?.resource).toMatchObject({ id: holdId, status: 'pending' });
    expect(replay.headers.get('expires')).toBe(first.headers.get('expires'));
    expect(await keyRecord(h, key)).toMatchObject({ state: 'completed', status: 200 });
  });

  it('still answers 409 while the process that claimed the key is alive', async () => {
    const h = facade();
    const { writing, open } = gateCreates(h);
    const headers = { 'idempotency-key': randomUUID() };
    const body = await monday1030(h);
    const first = fhirRequest<Appointment>(h, 'POST', 'Appointment', { body, headers });
    await writing;
    expectFailure(
      await fhirRequest(h, 'POST', 'Appointment', { body, headers }),
      409,
      'idempotency-key-in-flight',
    );
    open();
    expect((await first).status).toBe(201);
  });
});
