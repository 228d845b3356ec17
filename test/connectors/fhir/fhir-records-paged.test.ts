/**
 * The FHIR connector's window read as a sync pass uses it (issue 16 item 5): appointments a Bundle at a time,
 * following `next` links only as the caller asks, and appointments and gap Slots with a source hash that stays put
 * while nothing changes and moves with anything their mapping reads (zone, appointment-type mapping).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UpstreamRecord } from '../../../src/connectors/connector.js';
import { startFhirSimHarness, type FhirSimHarness } from './fhir-sim-harness.js';

// Monday 2026-11-23 in America/New_York, as in the contract test: two appointments, gaps around open Slots.
const MONDAY = { from: new Date('2026-11-23T05:00:00Z'), to: new Date('2026-11-24T05:00:00Z') };

let h: FhirSimHarness;
beforeEach(async () => {
  h = await startFhirSimHarness();
});
afterEach(async () => {
  await h.stop();
});

const hashes = (records: readonly UpstreamRecord[]) =>
  new Map(records.map((r) => [r.upstreamId, r.sourceHash]));

describe('the FHIR connector’s window read', () => {
  it('hands out a Bundle at a time, following the next link only when asked for the next page', async () => {
    const connector = h.connector({ pageSize: 1 });
    const ids: string[][] = [];
    const callsAt: number[] = [];
    const pages = connector.appointmentPagesInWindow(MONDAY);
    for await (const page of pages) {
      callsAt.push(connector.upstreamCalls);
      ids.push(page.map((r) => r.upstreamId));
    }
    expect(ids.flat().sort()).toEqual(['1', '2']);
    expect(ids.map((page) => page.length)).toEqual([1, 1]);
    expect(callsAt[1]! - callsAt[0]!).toBe(1);
  });

  it('gives appointments and gap Slots a source hash that is the same on every read of unchanged data', async () => {
    const connector = h.connector();
    const appointments = await connector.appointmentsInWindow(MONDAY);
    const gaps = await connector.blocksInWindow(MONDAY);
    expect(appointments.length).toBe(2);
    expect(gaps.length).toBeGreaterThan(0);
    for (const r of [...appointments, ...gaps]) expect(r.sourceHash, r.upstreamId).toMatch(/^[\w-]{20,}$/);
    expect(hashes(await h.connector().appointmentsInWindow(MONDAY))).toEqual(hashes(appointments));
    expect(hashes(await h.connector().blocksInWindow(MONDAY))).toEqual(hashes(gaps));
  });

  it('changes the source hashes when the appointment-type mapping or the zone changes', async () => {
    const base = hashes(await h.connector().appointmentsInWindow(MONDAY));
    const baseGaps = hashes(await h.connector().blocksInWindow(MONDAY));
    const types = h.settings().appointmentTypes.map((t) => (t.code === 'FU' ? { ...t, minutes: 20 } : t));
    const retyped = hashes(await h.connector({ appointmentTypes: types }).appointmentsInWindow(MONDAY));
    const zoned = h.connector({}, { timezone: 'America/Chicago' });
    const rezoned = hashes(await zoned.appointmentsInWindow(MONDAY));
    for (const [id, hash] of base) {
      expect(retyped.get(id), id).not.toBe(hash);
      expect(rezoned.get(id), id).not.toBe(hash);
    }
    for (const [id, hash] of hashes(await zoned.blocksInWindow(MONDAY))) {
      expect(baseGaps.has(id) ? baseGaps.get(id) : undefined, id).not.toBe(hash);
    }
  });
});
