import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { healthOf } from '../../sync/sync-health.js';

const sync = parseConfig({
  tenants: [
    { id: 't', connector: { kind: 'sim', baseUrl: 'http://x', firm: 'f', username: 'u', password: 'p' } },
  ],
}).tenants[0]!.sync;
const now = new Date('2026-11-20T15:00:00Z');
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000).toISOString();

describe('healthOf', () => {
  it('is fresh within three intervals of the last success', () => {
    expect(healthOf({ lastSuccessAt: ago(5), consecutiveFailures: 0 }, 2, sync, now)).toBe('fresh');
  });
  it('is lagging past three intervals, or before any success', () => {
    expect(healthOf({ lastSuccessAt: ago(7), consecutiveFailures: 0 }, 2, sync, now)).toBe('lagging');
    expect(healthOf({ lastSuccessAt: null, consecutiveFailures: 0 }, 2, sync, now)).toBe('lagging');
  });
  it('is failing after three consecutive failures, whatever the last success', () => {
    expect(healthOf({ lastSuccessAt: ago(1), consecutiveFailures: 2 }, 2, sync, now)).toBe('fresh');
    expect(healthOf({ lastSuccessAt: ago(1), consecutiveFailures: 3 }, 2, sync, now)).toBe('failing');
  });
});
