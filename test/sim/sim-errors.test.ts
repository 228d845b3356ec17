import { describe, expect, it } from 'vitest';
import type { SimPatient } from '../../src/sim/sim-types.js';
import { startSim } from './sim-harness.js';

describe('sim error answers', () => {
  it('answers a bare JSON 500 for an unexpected handler error and reports it only to onError', async () => {
    const reported: unknown[] = [];
    const h = await startSim({ onError: (error) => reported.push(error) });
    try {
      // Corrupt the live records so the patient search throws.
      h.sim.state('tiny').patients.push(null as unknown as SimPatient);
      const response = await h.fetchFirm('/api/patients?lastName=smith', {
        headers: { authorization: `Bearer ${(await h.login()).access_token}` },
      });
      expect(response.status).toBe(500);
      const text = await response.text();
      expect(JSON.parse(text)).toEqual({ error: 'server_error', message: 'internal error' });
      expect(text).not.toMatch(/TypeError|\bat \w|\.ts:/);
      expect(reported).toHaveLength(1);
      expect(reported[0]).toBeInstanceOf(TypeError);
    } finally {
      await h.stop();
    }
  });

  it('answers 404 JSON outside the known paths', async () => {
    const h = await startSim();
    try {
      for (const path of ['/', '/firm', '/_sim/nothing', '/firm/tiny/oauth/authorize']) {
        const response = await fetch(`${h.baseUrl}${path}`);
        expect(response.status, path).toBe(404);
        expect(await response.json()).toMatchObject({ error: 'not_found' });
      }
    } finally {
      await h.stop();
    }
  });
});
