import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSimServer } from '../../src/sim/sim-server.js';
import type { SimAppointment, SimBlock, SimPatient } from '../../src/sim/sim-types.js';
import type { SimHarness } from './sim-harness.js';
import { appointmentBody, patientBody, startSim } from './sim-harness.js';
import { TINY_PASSWORD, TINY_USERNAME, tinyFirm } from '../support/tiny-firm.js';

describe('sim reset', () => {
  let h: SimHarness;
  beforeEach(async () => {
    h = await startSim({ rateLimitPerMinute: 10 });
  });
  afterEach(async () => {
    await h.stop();
  });

  const resetOverHttp = async () => {
    const response = await fetch(`${h.baseUrl}/_sim/reset`, { method: 'POST' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  };

  it('restores the seeded records and the id and MRN counters', async () => {
    const firstBooking = await h.api<SimAppointment>('POST', '/appointments', appointmentBody());
    const firstPatient = await h.api<SimPatient>('POST', '/patients', patientBody());
    await h.api('DELETE', '/appointments/1');
    await h.api('POST', '/appointments/2/cancel', { reason: 'x' });
    expect(h.sim.state('tiny')).not.toEqual(tinyFirm());

    await resetOverHttp();
    expect(h.sim.state('tiny')).toEqual(tinyFirm());
    h.forgetToken();
    const again = await h.api<SimAppointment>('POST', '/appointments', appointmentBody());
    expect(again.body.id).toBe(firstBooking.body.id);
    const patientAgain = await h.api<SimPatient>('POST', '/patients', patientBody());
    expect([patientAgain.body.id, patientAgain.body.mrn]).toEqual([
      firstPatient.body.id,
      firstPatient.body.mrn,
    ]);
  });

  it('revokes every token and clears faults and rate-limit windows', async () => {
    const grant = await h.login();
    for (let i = 0; i < 9; i++) await h.api('GET', '/providers', undefined, grant.access_token);
    expect((await h.api('GET', '/providers', undefined, grant.access_token)).status).toBe(429);
    h.sim.faults.set({ latencyMs: 1, errorRate: 0.5 });

    await resetOverHttp();
    expect(h.sim.faults.get()).toMatchObject({
      latencyMs: 0,
      errorRate: 0,
      rateLimitPerMinute: 10,
      down: false,
    });
    expect((await h.api('GET', '/providers', undefined, grant.access_token)).status).toBe(401);
    const refresh = await h.token({ grant_type: 'refresh_token', refresh_token: grant.refresh_token });
    expect(refresh.status).toBe(400);
    const fresh = await h.login();
    expect((await h.api('GET', '/providers', undefined, fresh.access_token)).status).toBe(200);
  });

  it('resets the same way from code, and exposes the live records', async () => {
    const block: SimBlock = {
      id: 9,
      providerId: 2,
      locationId: 2,
      start: '2026-11-24T15:00',
      end: '2026-11-24T16:00',
      reason: 'Extended lunch',
    };
    h.sim.state('tiny').blocks.push(block);
    expect((await h.api<SimBlock[]>('GET', '/blocks?providerId=2')).body).toContainEqual(block);
    h.sim.reset();
    expect(h.sim.state('tiny').blocks).toEqual(tinyFirm().blocks);
    expect(() => h.sim.state('nowhere')).toThrow(RangeError);
  });
});

describe('sim instances', () => {
  it('never mutate the seed they were given', async () => {
    const data = tinyFirm();
    const h = await startSim({ data });
    try {
      await h.api('POST', '/appointments', appointmentBody());
      await h.api('PUT', '/patients/1', patientBody());
      await h.api('DELETE', '/appointments/2');
      expect(data).toEqual(tinyFirm());
    } finally {
      await h.stop();
    }
  });

  it('run side by side in one process without sharing state', async () => {
    const [a, b] = await Promise.all([startSim(), startSim()]);
    try {
      expect(a.baseUrl).not.toBe(b.baseUrl);
      await a.api('POST', '/appointments', appointmentBody());
      a.sim.faults.set({ down: true });
      expect(a.sim.state('tiny').appointments).toHaveLength(5);
      expect(b.sim.state('tiny').appointments).toHaveLength(4);
      expect((await b.api('GET', '/providers')).status).toBe(200);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('start twice returns the same URL, url throws before start, stop is idempotent', async () => {
    const sim = createSimServer({
      firms: {
        tiny: { data: tinyFirm(), credentials: [{ username: TINY_USERNAME, password: TINY_PASSWORD }] },
      },
    });
    expect(() => sim.url).toThrow();
    const url = await sim.start();
    expect(await sim.start()).toBe(url);
    expect(sim.url).toBe(url);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await sim.stop();
    await sim.stop();
    expect(() => sim.url).toThrow();
  });

  it('refuses a firm whose time zone is unknown', () => {
    const data = { ...tinyFirm(), timezone: 'Mars/Olympus_Mons' };
    expect(() => createSimServer({ firms: { tiny: { data, credentials: [] } } })).toThrow(RangeError);
  });
});
