import { describe, expect, it } from 'vitest';
import {
  IDEMPOTENCY_RETENTION_MS,
  IN_FLIGHT_LEASE_MS,
  claimIdempotencyKey,
  completeIdempotencyKey,
  forgetIdempotencyKey,
  purgeExpiredIdempotencyRecords,
  type IdempotencyScope,
} from '../../src/booking/idempotency-store.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

const T0 = new Date('2026-11-20T15:00:00Z');
const later = (ms: number) => new Date(T0.getTime() + ms);
const scope = (overrides: Partial<IdempotencyScope> = {}): IdempotencyScope => ({
  tenantId: 'tiny',
  clientId: 'agent',
  key: 'key-0123456789abcdef',
  ...overrides,
});

describe.each(testStoreFactories)('idempotency records ($name)', (factory) => {
  const db = useTestStore(factory);

  it('lets exactly one of concurrent claims of a key win; the others see it in flight', async () => {
    const store = db().store;
    const claims = await Promise.all(
      Array.from({ length: 10 }, () => claimIdempotencyKey(store, scope(), 'fp', T0)),
    );
    expect(claims.filter((c) => c.kind === 'claimed')).toHaveLength(1);
    expect(claims.filter((c) => c.kind === 'in-flight')).toHaveLength(9);
  });

  it('replays the completed response, refuses another fingerprint, and keeps clients and tenants apart', async () => {
    const store = db().store;
    expect(await claimIdempotencyKey(store, scope(), 'fp', T0)).toEqual({ kind: 'claimed' });
    await completeIdempotencyKey(store, scope(), {
      status: 201,
      headers: { ETag: 'W/"1"' },
      body: { id: 'a' },
    });
    expect(await claimIdempotencyKey(store, scope(), 'fp', later(1000))).toEqual({
      kind: 'replay',
      response: { status: 201, headers: { ETag: 'W/"1"' }, body: { id: 'a' } },
    });
    expect(await claimIdempotencyKey(store, scope(), 'other', later(1000))).toEqual({ kind: 'mismatch' });
    expect(await claimIdempotencyKey(store, scope({ clientId: 'someone-else' }), 'fp', T0)).toEqual({
      kind: 'claimed',
    });
    expect(await claimIdempotencyKey(store, scope({ tenantId: 'other' }), 'fp', T0)).toEqual({
      kind: 'claimed',
    });
  });

  it('frees a forgotten key, an abandoned in-flight claim after its lease, and an expired record', async () => {
    const store = db().store;
    await claimIdempotencyKey(store, scope(), 'fp', T0);
    await forgetIdempotencyKey(store, scope());
    expect(await claimIdempotencyKey(store, scope(), 'other', T0)).toEqual({ kind: 'claimed' });
    expect(await claimIdempotencyKey(store, scope(), 'other', later(IN_FLIGHT_LEASE_MS - 1))).toEqual({
      kind: 'in-flight',
    });
    expect(await claimIdempotencyKey(store, scope(), 'other', later(IN_FLIGHT_LEASE_MS))).toEqual({
      kind: 'claimed',
    });
    await completeIdempotencyKey(store, scope(), { status: 201, headers: {} });
    const expiry = later(IN_FLIGHT_LEASE_MS + IDEMPOTENCY_RETENTION_MS);
    expect(await claimIdempotencyKey(store, scope(), 'third', expiry)).toEqual({ kind: 'claimed' });
  });

  it('purges expired records of every tenant', async () => {
    const store = db().store;
    await claimIdempotencyKey(store, scope(), 'fp', T0);
    await claimIdempotencyKey(store, scope({ tenantId: 'other' }), 'fp', later(3600_000));
    expect(await purgeExpiredIdempotencyRecords(store, later(IDEMPOTENCY_RETENTION_MS))).toBe(1);
    const left = await store.db.selectFrom('idempotency_records').select('tenant_id').execute();
    expect(left).toEqual([{ tenant_id: 'other' }]);
  });
});
