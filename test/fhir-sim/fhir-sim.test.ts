/**
 * The FHIR records-system simulator's own contract (issue 12): firm-scoped base and token endpoint, the proprietary
 * simulator's fault fields, the Slot window limit, no conflict checking, commit-then-fail, quirks and reset.
 */
import type { Appointment, Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFhirSimHarness, type FhirSimHarness } from '../connectors/fhir/fhir-sim-harness.js';

let h: FhirSimHarness;
let token: string;
beforeEach(async () => {
  h = await startFhirSimHarness();
  token = await login();
});
afterEach(async () => {
  await h.stop();
});

async function login(form: Record<string, string> = {}): Promise<string> {
  const response = await fetch(h.sim.tokenUrl('tiny'), {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'password',
      username: 'switchboard',
      password: 'demo-password',
      ...form,
    }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

const fhir = (path: string, init: RequestInit = {}) =>
  fetch(`${h.sim.fhirBase('tiny')}/${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', ...init.headers },
  });

const control = (path: string, body: unknown) =>
  fetch(`${h.sim.url}/_sim/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

const visit = (start: string): Appointment => ({
  resourceType: 'Appointment',
  status: 'booked',
  start,
  end: new Date(Date.parse(start) + 15 * 60_000).toISOString(),
  participant: [
    { actor: { reference: 'Patient/1' }, status: 'accepted' },
    { actor: { reference: 'Practitioner/1' }, status: 'accepted' },
  ],
});

describe('FHIR records-system simulator', () => {
  it('publishes no Slots when told (quirk noSlots): Slot answers 404 naming it, and metadata lists none', async () => {
    const slots = 'Slot?start=ge2026-11-23T00:00:00Z&start=lt2026-11-24T00:00:00Z';
    expect((await fhir(slots)).status).toBe(200);
    expect((await control('quirks', { noSlots: true })).status).toBe(200);
    const refused = await fhir(slots);
    expect(refused.status).toBe(404);
    const outcome = (await refused.json()) as OperationOutcome;
    expect(outcome.issue[0]).toMatchObject({ code: 'not-supported', expression: ['Slot'] });
    expect((await fhir('Slot/1-1-202611231530')).status).toBe(404);
    const metadata = (await (await fetch(`${h.sim.fhirBase('tiny')}/metadata`)).json()) as {
      rest: Array<{ resource: Array<{ type: string }> }>;
    };
    expect(metadata.rest[0]?.resource.map((r) => r.type)).not.toContain('Slot');
    expect((await control('quirks', { noSlots: 'yes' })).status).toBe(400);
    expect((await control('reset', {})).status).toBe(200);
    token = await login();
    expect((await fhir(slots)).status).toBe(200);
  });

  it('serves metadata openly and everything else only with a live token of its firm', async () => {
    expect((await fetch(`${h.sim.fhirBase('tiny')}/metadata`)).status).toBe(200);
    const anonymous = await fetch(`${h.sim.fhirBase('tiny')}/Patient`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('Bearer');
    expect(((await anonymous.json()) as OperationOutcome).issue[0]?.code).toBe('login');
    const refused = await fetch(h.sim.tokenUrl('tiny'), {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', username: 'switchboard', password: 'wrong' }),
    });
    expect([refused.status, ((await refused.json()) as { error: string }).error]).toEqual([
      400,
      'invalid_grant',
    ]);
    expect((await fhir('Patient')).status).toBe(200);
    h.simClock.advanceSeconds(301);
    expect((await fhir('Patient')).status).toBe(401);
  });

  it('refuses a Slot search without both bounds or wider than its window, naming Slot.start', async () => {
    for (const query of ['start=ge2026-11-23', 'start=ge2026-11-23&start=lt2026-12-23']) {
      const response = await fhir(`Slot?${query}`);
      expect(response.status).toBe(400);
      expect(((await response.json()) as OperationOutcome).issue[0]?.expression).toEqual(['Slot.start']);
    }
    const ok = await fhir('Slot?start=ge2026-11-23&start=lt2026-11-24');
    expect(((await ok.json()) as Bundle).total).toBeGreaterThan(0);
  });

  it('books the same time twice without a word (no conflict checking)', async () => {
    for (let i = 0; i < 2; i++) {
      const response = await fhir('Appointment', {
        method: 'POST',
        body: JSON.stringify(visit('2026-11-23T15:00:00Z')),
      });
      expect(response.status).toBe(201);
      expect(response.headers.get('location')).toMatch(/\/firm\/tiny\/fhir\/Appointment\//);
    }
  });

  it('takes the proprietary simulator fault fields, refuses unknown ones, and answers an outage with 503', async () => {
    expect((await control('faults', { latencyMs: 0, errorRate: 0, down: false })).status).toBe(200);
    expect((await control('faults', { downn: true })).status).toBe(400);
    expect((await control('quirks', { cancelFreesSlot: true })).status).toBe(400);
    await control('faults', { down: true });
    const down = await fhir('Patient');
    expect(down.status).toBe(503);
    expect(((await down.json()) as OperationOutcome).resourceType).toBe('OperationOutcome');
  });

  it('commits a write and then drops the connection when commitThenFailRate says so', async () => {
    await control('faults', { commitThenFailRate: 1 });
    const sent = await fhir('Appointment', {
      method: 'POST',
      body: JSON.stringify(visit('2026-11-23T16:00:00Z')),
    }).catch((e: unknown) => e);
    expect(sent).toBeInstanceOf(Error);
    await control('faults', { commitThenFailRate: 0 });
    const found = (await (
      await fhir('Appointment?date=ge2026-11-23T16:00:00Z&date=lt2026-11-23T16:01:00Z')
    ).json()) as Bundle;
    expect(found.total).toBe(1);
  });

  it('answers 429 with Retry-After, or without it when that quirk is on', async () => {
    await control('faults', { rateLimitPerMinute: 1 });
    await fhir('Patient');
    const limited = await fhir('Patient');
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '60']);
    await control('quirks', { omitRetryAfter: true });
    const bare = await fhir('Patient');
    expect([bare.status, bare.headers.get('retry-after')]).toEqual([429, null]);
  });

  it('restores the seed, faults and quirks on reset', async () => {
    await fhir('Appointment', { method: 'POST', body: JSON.stringify(visit('2026-11-23T16:00:00Z')) });
    await control('quirks', { slotSearchMaxDays: 1 });
    expect((await control('reset', {})).status).toBe(200);
    token = await login();
    const found = (await (
      await fhir('Appointment?date=ge2026-11-23T16:00:00Z&date=lt2026-11-23T16:01:00Z')
    ).json()) as Bundle;
    expect(found.total).toBe(0);
    expect(h.sim.quirks.get().slotSearchMaxDays).toBe(7);
  });
});
