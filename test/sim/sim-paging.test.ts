import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimPage, SimPatient } from '../../src/sim/sim-types.js';
import type { SimHarness } from './sim-harness.js';
import { startSim } from './sim-harness.js';
import { tinyFirm } from '../support/tiny-firm.js';

const PATIENTS = 450;

/** The tiny firm with 450 patients, listed out of id order to prove the sim sorts. */
function crowdedFirm() {
  const data = tinyFirm();
  const template = data.patients[0] as SimPatient;
  data.patients = [];
  for (let id = PATIENTS; id >= 1; id--) {
    data.patients.push({
      ...template,
      id,
      mrn: `RFM${String(id).padStart(6, '0')}`,
      lastName: `Patient${id}`,
    });
  }
  return data;
}

describe('sim paging', () => {
  let h: SimHarness;
  beforeAll(async () => {
    h = await startSim({ data: crowdedFirm() });
  });
  afterAll(async () => {
    await h.stop();
  });

  const page = async (query: string) => {
    const answer = await h.api<SimPage<SimPatient>>('GET', `/patients?${query}`);
    expect(answer.status).toBe(200);
    return answer.body;
  };

  it('answers 50 items by default, sorted by id, with the total', async () => {
    const first = await page('');
    expect(first.page).toBe(1);
    expect(first.pageSize).toBe(50);
    expect(first.total).toBe(PATIENTS);
    expect(first.items.map((p) => p.id)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('caps pageSize at 200 and says so in the envelope', async () => {
    const big = await page('pageSize=500');
    expect(big.pageSize).toBe(200);
    expect(big.items).toHaveLength(200);
    expect((await page('pageSize=200')).items).toHaveLength(200);
  });

  it('pages without overlap or gaps, the last page partial, past the end empty', async () => {
    const pages = await Promise.all([1, 2, 3].map((n) => page(`pageSize=200&page=${n}`)));
    expect(pages.map((p) => p.items.length)).toEqual([200, 200, 50]);
    const ids = pages.flatMap((p) => p.items.map((item) => item.id));
    expect(ids).toEqual(Array.from({ length: PATIENTS }, (_, i) => i + 1));
    const beyond = await page('pageSize=200&page=4');
    expect(beyond).toEqual({ items: [], page: 4, pageSize: 200, total: PATIENTS });
  });

  it('counts the total of the filtered result, not of the table', async () => {
    const filtered = await page('lastName=patient4&pageSize=5');
    // Patient4, Patient40–49 and Patient400–450.
    expect(filtered.total).toBe(1 + 10 + 51);
    expect(filtered.items.map((p) => p.id)).toEqual([4, 40, 41, 42, 43]);
  });

  it('answers 400 naming the parameter for a page or pageSize that is not a positive whole number', async () => {
    for (const [query, field] of [
      ['page=abc', 'page'],
      ['page=0', 'page'],
      ['page=1.5', 'page'],
      ['pageSize=-1', 'pageSize'],
      ['pageSize=0', 'pageSize'],
      ['page=1&page=2', 'page'],
    ] as const) {
      const answer = await h.api('GET', `/patients?${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.body).toMatchObject({ error: 'invalid_request', field });
    }
    expect((await h.api('GET', '/appointments?page=x')).body).toMatchObject({ field: 'page' });
  });
});
