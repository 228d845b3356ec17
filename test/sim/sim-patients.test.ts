import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SimAppointment, SimPage, SimPatient } from '../../src/sim/sim-types.js';
import type { SimHarness } from './sim-harness.js';
import { ManualClock, patientBody, startSim } from './sim-harness.js';

describe('sim patients', () => {
  let h: SimHarness;
  beforeEach(async () => {
    // 15:04:05 UTC on 20 November 2026 is 10:04:05 in New York (EST).
    h = await startSim({ clock: new ManualClock('2026-11-20T15:04:05Z') });
  });
  afterEach(async () => {
    await h.stop();
  });

  const search = async (query: string) => {
    const answer = await h.api<SimPage<SimPatient>>('GET', `/patients?${query}`);
    expect(answer.status).toBe(200);
    return answer.body.items.map((p) => p.id);
  };

  it('finds patients by case-insensitive last-name prefix', async () => {
    expect(await search('lastName=smi')).toEqual([1, 2]);
    expect(await search('lastName=SMITH&firstName=jo')).toEqual([1, 2]);
    expect(await search('lastName=smithson')).toEqual([]);
  });

  it('matches names accent-insensitively in both directions', async () => {
    expect(await search('lastName=alvarez')).toEqual([3]);
    expect(await search('lastName=%C3%81LVAREZ-NU')).toEqual([3]); // "ÁLVAREZ-NU"
    expect(await search('firstName=zoe')).toEqual([4]);
    expect(await search('firstName=Zo%C3%AB')).toEqual([4]); // "Zoë"
    expect(await search('firstName=jos%C3%A9&lastName=%C3%A1lv')).toEqual([3]);
    expect(await search('firstName=mary-k')).toEqual([5]);
    expect(await search("lastName=o'b")).toEqual([4]);
  });

  it('tells the two John Smiths apart by exact date of birth', async () => {
    expect(await search('lastName=smith&firstName=john&dob=1985-06-30')).toEqual([2]);
    expect(await search('lastName=smith&dob=1985-06-29')).toEqual([]);
  });

  it('answers 400 for a malformed dob', async () => {
    for (const dob of ['1985-06-3', '1985-02-30', '06/30/1985']) {
      const answer = await h.api('GET', `/patients?dob=${encodeURIComponent(dob)}`);
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ error: 'invalid_request', field: 'dob' });
    }
  });

  it('compares phone numbers by their digits, with or without the US country code', async () => {
    expect(await search('phone=5185550001')).toEqual([1]);
    expect(await search(`phone=${encodeURIComponent('518.555.0001')}`)).toEqual([1]);
    expect(await search(`phone=${encodeURIComponent('+1 (518) 555-0001')}`)).toEqual([1]);
    expect(await search(`phone=${encodeURIComponent('(518) 555-0004')}`)).toEqual([4]);
    expect(await search('phone=518555')).toEqual([]);
    expect((await h.api('GET', '/patients?phone=abc')).body).toMatchObject({ field: 'phone' });
  });

  it('reads one patient by id and answers 404 for an unknown or non-numeric id', async () => {
    const one = await h.api<SimPatient>('GET', '/patients/3');
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: 3, mrn: 'RFM000003', firstName: 'José', lastName: 'Álvarez-Núñez' });
    expect((await h.api('GET', '/patients/99')).status).toBe(404);
    expect((await h.api('GET', '/patients/99')).body).toEqual({
      error: 'not_found',
      message: 'no such record',
    });
    expect((await h.api('GET', '/patients/abc')).status).toBe(404);
  });

  it('creates a patient with the next id, a new MRN and wall-time stamps from the clock', async () => {
    const created = await h.api<SimPatient>('POST', '/patients', patientBody());
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/firm/tiny/api/patients/6');
    expect(created.body).toEqual({
      id: 6,
      mrn: 'RFM000006',
      ...patientBody(),
      createdAt: '2026-11-20T10:04:05',
      modifiedAt: '2026-11-20T10:04:05',
    });
    const second = await h.api<SimPatient>(
      'POST',
      '/patients',
      patientBody({ firstName: 'Grace', phone: null }),
    );
    expect(second.body).toMatchObject({ id: 7, mrn: 'RFM000007', phone: null });
    expect((await h.api<SimPatient>('GET', '/patients/6')).body).toEqual(created.body);
  });

  it('treats left-out nullable fields as null', async () => {
    const created = await h.api<SimPatient>('POST', '/patients', {
      firstName: 'Nora',
      lastName: 'Quinn',
      dob: '2000-01-01',
      gender: 'unknown',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ phone: null, email: null, address: null });
  });

  it('rejects invalid patient writes with 400 naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [patientBody({ lastName: undefined }), 'lastName'],
      [patientBody({ firstName: '  ' }), 'firstName'],
      [patientBody({ dob: '1980-02-30' }), 'dob'],
      [patientBody({ dob: '2027-01-01' }), 'dob'],
      [patientBody({ gender: 'M' }), 'gender'],
      [patientBody({ email: 'not-an-email' }), 'email'],
      [patientBody({ address: { line1: '1 Road' } }), 'address.city'],
      [patientBody({ phone: 5185550000 }), 'phone'],
    ];
    for (const [body, field] of cases) {
      const answer = await h.api('POST', '/patients', body);
      expect(answer.status, field).toBe(400);
      expect(answer.body).toMatchObject({ error: 'invalid_request', field });
    }
    expect(h.sim.state('tiny').patients).toHaveLength(5);
  });

  it('answers 400 without a stack trace for a body that is not JSON', async () => {
    const response = await h.fetchFirm('/api/patients', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${(await h.login()).access_token}`,
        'content-type': 'application/json',
      },
      body: '{"firstName": ',
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ error: 'invalid_request', field: 'body' });
    expect(text).not.toMatch(/\bat \w|node_modules|SyntaxError/);
  });

  it('replaces a patient with PUT, keeping id, MRN and createdAt and bumping modifiedAt', async () => {
    h.clock.advanceSeconds(60);
    const updated = await h.api<SimPatient>(
      'PUT',
      '/patients/2',
      patientBody({ firstName: 'Johnny', lastName: 'Smith', dob: '1985-06-30', gender: 'male', email: null }),
    );
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      id: 2,
      mrn: 'RFM000002',
      firstName: 'Johnny',
      email: null,
      createdAt: '2026-10-02T09:00:00',
      modifiedAt: '2026-11-20T10:05:05',
    });
    expect((await h.api('PUT', '/patients/42', patientBody())).status).toBe(404);
    expect((await h.api('PUT', '/patients/2', patientBody({ gender: 'x' }))).status).toBe(400);
  });

  it('accepts a PUT of what was read (extra read-only fields are ignored)', async () => {
    const read = await h.api<SimPatient>('GET', '/patients/4');
    const answer = await h.api<SimPatient>('PUT', '/patients/4', {
      ...read.body,
      mrn: 'HACKED',
      phone: null,
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ id: 4, mrn: 'RFM000004', phone: null });
  });

  it('answers a patient’s history, past and future, sorted by start, in the paged envelope', async () => {
    const history = await h.api<SimPage<SimAppointment>>('GET', '/patients/1/history');
    expect(history.status).toBe(200);
    expect(history.body).toMatchObject({ page: 1, pageSize: 50, total: 3 });
    expect(history.body.items.map((a) => [a.id, a.start, a.status])).toEqual([
      [3, '2026-10-05T08:30', 'completed'],
      [1, '2026-11-23T09:00', 'scheduled'],
      [4, '2026-11-30T11:00', 'cancelled'],
    ]);
    const paged = await h.api<SimPage<SimAppointment>>('GET', '/patients/1/history?pageSize=2&page=2');
    expect(paged.body.items.map((a) => a.id)).toEqual([4]);
    expect((await h.api('GET', '/patients/5/history')).body).toMatchObject({ items: [], total: 0 });
    expect((await h.api('GET', '/patients/77/history')).status).toBe(404);
  });
});
