import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimBlock, SimTemplate } from '../../src/sim/sim-types.js';
import type { SimHarness } from './sim-harness.js';
import { startSim } from './sim-harness.js';
import { tinyFirm } from '../support/tiny-firm.js';

describe('sim reference data', () => {
  let h: SimHarness;
  beforeAll(async () => {
    h = await startSim();
  });
  afterAll(async () => {
    await h.stop();
  });

  const ids = (rows: Array<{ id: number }>) => rows.map((r) => r.id);

  it('lists providers, locations and appointment types as plain arrays with the contract fields', async () => {
    const providers = await h.api<unknown[]>('GET', '/providers');
    expect(providers.status).toBe(200);
    expect(providers.body).toEqual(tinyFirm().providers);
    expect(Object.keys(providers.body[0] as object).sort()).toEqual(
      ['active', 'firstName', 'id', 'lastName', 'npi', 'specialty'].sort(),
    );
    const locations = await h.api<Array<{ timezone: string }>>('GET', '/locations');
    expect(locations.body).toEqual(tinyFirm().locations);
    expect(locations.body.every((l) => l.timezone === 'America/New_York')).toBe(true);
    const types = await h.api('GET', '/appointment-types');
    expect(types.body).toEqual(tinyFirm().appointmentTypes);
  });

  it('lists every template, or one provider’s with ?providerId=', async () => {
    const all = await h.api<SimTemplate[]>('GET', '/templates');
    expect(ids(all.body)).toEqual([1, 2, 3, 4]);
    const mine = await h.api<SimTemplate[]>('GET', '/templates?providerId=2');
    expect(ids(mine.body)).toEqual([3, 4]);
    expect(mine.body[0]).toEqual({
      id: 3,
      providerId: 2,
      locationId: 2,
      weekday: 1,
      start: '09:00',
      end: '17:00',
    });
  });

  it('lists blocks overlapping [from, to), excluding ones that only touch the edges', async () => {
    const week = await h.api<SimBlock[]>('GET', '/blocks?from=2026-11-22T00:00&to=2026-11-29T00:00');
    expect(ids(week.body)).toEqual([2, 3]);
    // The vacation ends exactly at 2026-11-21T00:00 and Thanksgiving starts exactly at 2026-11-26T00:00.
    const between = await h.api<SimBlock[]>('GET', '/blocks?from=2026-11-21T00:00&to=2026-11-26T00:00');
    expect(ids(between.body)).toEqual([3]);
    const partial = await h.api<SimBlock[]>('GET', '/blocks?from=2026-11-20T23:59:59&to=2026-11-23T12:00:01');
    expect(ids(partial.body)).toEqual([1, 3]);
  });

  it('with ?providerId= keeps that provider’s blocks and the practice-wide ones', async () => {
    const p1 = await h.api<SimBlock[]>('GET', '/blocks?providerId=1');
    expect(ids(p1.body)).toEqual([1, 2]);
    const p2 = await h.api<SimBlock[]>(
      'GET',
      '/blocks?providerId=2&from=2026-11-01T00:00&to=2026-12-01T00:00',
    );
    expect(ids(p2.body)).toEqual([2, 3]);
  });

  it('answers 400 naming the parameter for a malformed wall time or id', async () => {
    const badFrom = await h.api('GET', '/blocks?from=2026-11-22');
    expect(badFrom.status).toBe(400);
    expect(badFrom.body).toMatchObject({ error: 'invalid_request', field: 'from' });
    const badOffset = await h.api('GET', '/blocks?to=2026-11-22T00:00Z');
    expect(badOffset.body).toMatchObject({ error: 'invalid_request', field: 'to' });
    const badDay = await h.api('GET', '/blocks?from=2026-02-30T00:00');
    expect(badDay.body).toMatchObject({ error: 'invalid_request', field: 'from' });
    const badId = await h.api('GET', '/templates?providerId=abc');
    expect(badId.status).toBe(400);
    expect(badId.body).toMatchObject({ error: 'invalid_request', field: 'providerId' });
  });

  it('answers 404 JSON for an unknown endpoint', async () => {
    const answer = await h.api('GET', '/prescriptions');
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ error: 'not_found' });
  });
});
