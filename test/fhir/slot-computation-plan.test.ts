/**
 * What the computed slot source computes for a search: narrow queries stay narrow (one practitioner's week is a
 * week of that practitioner's schedules, not the practice's whole horizon), and nothing is computed when no free
 * Slot can match. Whether the narrowed computation still finds every matching slot is checked over HTTP in
 * slot-availability.test.ts (narrow searches equal the wide one filtered).
 */
import { describe, expect, it } from 'vitest';
import { planSlotComputation } from '../../fhir/search/computed-slot-source.js';
import { criteriaCondition } from '../../fhir/search/criteria-builder.js';
import { and, type Condition } from '../../src/store/search-condition.js';
import { parseSearch } from '../../fhir/search/search-parser.js';
import { slotDefinition } from '../../fhir/resources/slot.js';

const ZONE = 'America/New_York';
const NOW = new Date('2026-11-20T15:00:00Z');
const DAY = 24 * 60 * 60_000;
/** Now plus the 60 minutes of notice. */
const EARLIEST = new Date('2026-11-20T16:00:00Z');

/** The plan for a query string; `resolved` stands for the ids `practitioner` / `location` resolved to. */
function plan(query: string, resolved?: Condition) {
  const parsed = parseSearch(slotDefinition, [...new URLSearchParams(query)], { strict: true });
  const condition = criteriaCondition(parsed.criteria, ZONE);
  return planSlotComputation(parsed.criteria, resolved ? and([condition, resolved]) : condition, {
    zone: ZONE,
    now: NOW,
    minimumNoticeMinutes: 60,
    horizonDays: 90,
  });
}

describe('planSlotComputation', () => {
  it('computes from now plus the notice to the horizon (and a day for DST) when no start is given', () => {
    expect(plan('')).toEqual({ from: EARLIEST, to: new Date(NOW.getTime() + 91 * DAY) });
    expect(plan('status=free&start=ne2026-11-24')).toEqual(plan(''));
  });

  it('narrows the window to the start criteria, read in the practice zone', () => {
    expect(plan('start=ge2026-11-30&start=lt2026-12-07')).toMatchObject({
      from: new Date('2026-11-30T05:00:00Z'),
      to: new Date('2026-12-07T05:00:00Z'),
    });
    expect(plan('start=2026-11-24')).toMatchObject({
      from: new Date('2026-11-24T05:00:00Z'),
      to: new Date('2026-11-25T05:00:00Z'),
    });
    expect(plan('start=gt2026-11-24T10:00Z&start=le2026-11-24T12:00Z')).toMatchObject({
      from: new Date('2026-11-24T10:01:00Z'),
      to: new Date('2026-11-24T12:01:00Z'),
    });
    expect(plan('start=2026-11-24,2026-11-30')).toMatchObject({
      from: new Date('2026-11-24T05:00:00Z'),
      to: new Date('2026-12-01T05:00:00Z'),
    });
    expect(plan('start=ge2020-01-01')?.from).toEqual(EARLIEST);
  });

  it('computes nothing for a window before now or past the horizon', () => {
    expect(plan('start=lt2026-11-20')).toBeUndefined();
    expect(plan('start=lt2026-11-20T16:00:00Z')).toBeUndefined(); // within the notice
    expect(plan('start=ge2027-03-01')).toBeUndefined();
    expect(plan('start=ge2026-12-01&start=lt2026-11-30')).toBeUndefined();
  });

  it('narrows to the schedules named, and to those a practitioner or location resolved to', () => {
    expect(plan('schedule=Schedule/b,a')?.scheduleIds).toEqual(['a', 'b']);
    expect(plan('schedule=a&schedule=b')).toBeUndefined();
    const resolved: Condition = { op: 'in', field: 'ref_schedule', values: ['s1', 's2'] };
    expect(plan('practitioner=p1&start=ge2026-11-30&start=lt2026-12-07', resolved)).toEqual({
      from: new Date('2026-11-30T05:00:00Z'),
      to: new Date('2026-12-07T05:00:00Z'),
      scheduleIds: ['s1', 's2'],
    });
    expect(plan('schedule=s2', resolved)?.scheduleIds).toEqual(['s2']);
    expect(plan('', { op: 'in', field: 'ref_schedule', values: [] })).toBeUndefined();
    expect(plan('schedule:missing=false')?.scheduleIds).toBeUndefined();
  });

  it('narrows to the schedules and times of the slot ids asked for', () => {
    expect(plan('_id=sched-b.202612011500.30,sched-a.202611301400.15')).toEqual({
      from: new Date('2026-11-30T14:00:00Z'),
      to: new Date('2026-12-01T15:01:00Z'),
      scheduleIds: ['sched-a', 'sched-b'],
    });
    expect(plan('_id=not-a-slot-id')).toBeUndefined();
    expect(plan('_id:not=sched-a.202611301400.15')).toEqual(plan(''));
  });

  it('narrows to the appointment types of a plain service-type criterion', () => {
    expect(plan('service-type=NP,urn:types|FU')?.serviceTypeCodes).toEqual(['NP', 'urn:types|FU']);
    expect(plan('service-type=urn:types|')?.serviceTypeCodes).toEqual(['urn:types|']);
    expect(plan('service-type:not=NP')?.serviceTypeCodes).toBeUndefined();
    expect(plan('service-type=|NP')?.serviceTypeCodes).toBeUndefined();
  });

  it('computes nothing when the status asked for is not free', () => {
    expect(plan('status=free')).toBeDefined();
    expect(plan('status=free,busy')).toBeDefined();
    expect(plan('status:not=busy-unavailable')).toBeDefined();
    expect(plan('status=busy-unavailable')).toBeUndefined();
    expect(plan('status:not=free')).toBeUndefined();
    expect(plan('status:missing=true')).toBeUndefined();
    expect(plan('status=http://example.org/other|free')).toBeUndefined();
  });
});
