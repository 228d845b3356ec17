import type { Schedule, Slot } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import {
  dateCondition,
  instantRange,
  parseDateSearchValue,
  type DateSearchValue,
} from '../../../fhir/search/date-search.js';
import { matchesCondition, virtualRow } from '../../../src/store/search-condition.js';

const NEW_YORK = 'America/New_York';
const value = (raw: string): DateSearchValue => {
  const parsed = parseDateSearchValue(raw);
  if (!parsed) throw new Error(`not a date: ${raw}`);
  return parsed;
};

describe('date search values', () => {
  it('reads a zone-less day as the local calendar day, 25 hours long on the autumn DST change', () => {
    expect(instantRange(value('2026-11-01'), NEW_YORK)).toEqual({
      start: '2026-11-01T04:00:00.000Z',
      end: '2026-11-02T05:00:00.000Z',
    });
    expect(instantRange(value('2026-03-08'), NEW_YORK)).toEqual({
      start: '2026-03-08T05:00:00.000Z',
      end: '2026-03-09T04:00:00.000Z',
    });
  });

  it('gives each precision its range, and keeps an explicit zone', () => {
    expect(instantRange(value('2026'), 'UTC')).toEqual({
      start: '2026-01-01T00:00:00.000Z',
      end: '2027-01-01T00:00:00.000Z',
    });
    expect(instantRange(value('2026-02'), 'UTC').end).toBe('2026-03-01T00:00:00.000Z');
    expect(instantRange(value('2026-11-24T10:00'), NEW_YORK)).toEqual({
      start: '2026-11-24T15:00:00.000Z',
      end: '2026-11-24T15:01:00.000Z',
    });
    expect(instantRange(value('2026-11-24T10:00:00+01:00'), NEW_YORK)).toEqual({
      start: '2026-11-24T09:00:00.000Z',
      end: '2026-11-24T09:00:01.000Z',
    });
    // An unencoded + arrives as a space.
    expect(value('ge2026-11-24T10:00:00 01:00')).toMatchObject({ prefix: 'ge', zoned: true });
  });

  it('refuses what is not a FHIR date', () => {
    for (const raw of ['2026-13-01', '2026-02-30', '24/11/2026', '2026-11-24T25:00', 'xx2026', '']) {
      expect(parseDateSearchValue(raw), raw).toBeUndefined();
    }
  });
});

describe('date prefixes against points and periods', () => {
  const slot = (start: string): Slot => ({
    resourceType: 'Slot',
    id: 's',
    schedule: { reference: 'Schedule/x' },
    status: 'free',
    start,
    end: start,
  });
  const holds = (prefix: string, raw: string, target: Slot) =>
    matchesCondition(
      virtualRow(target),
      dateCondition(value(`${prefix}${raw}`).prefix, instantRange(value(raw), 'UTC'), {
        kind: 'instant',
        column: 'period_start',
      }),
    );

  it('treats an instant as a point: inside the day is eq, the day after is gt and sa', () => {
    const noon = slot('2026-11-24T12:00:00Z');
    const table: Array<[string, boolean]> = [
      ['eq', true],
      ['ne', false],
      ['gt', false],
      ['lt', false],
      ['ge', true],
      ['le', true],
      ['sa', false],
      ['eb', false],
    ];
    for (const [prefix, expected] of table) expect(holds(prefix, '2026-11-24', noon), prefix).toBe(expected);
    expect(holds('gt', '2026-11-23', noon)).toBe(true);
    expect(holds('sa', '2026-11-23', noon)).toBe(true);
    expect(holds('eb', '2026-11-25', noon)).toBe(true);
    expect(holds('lt', '2026-11-25', noon)).toBe(true);
    // The first instant of the next day is not in this day.
    expect(holds('eq', '2026-11-24', slot('2026-11-25T00:00:00Z'))).toBe(false);
    expect(holds('gt', '2026-11-24', slot('2026-11-25T00:00:00Z'))).toBe(true);
  });

  it('treats a missing Period end as open, and a Period missing both ends as no value', () => {
    const horizon = (start?: string, end?: string): Schedule => ({
      resourceType: 'Schedule',
      id: 'h',
      actor: [{ reference: 'Practitioner/p' }],
      planningHorizon: { start, end },
    });
    const period = { kind: 'period', start: 'period_start', end: 'period_end' } as const;
    const check = (prefix: string, raw: string, schedule: Schedule) => {
      // Schedule periods are not stored as columns yet; give the row the columns the store would write.
      const row = {
        ...virtualRow(schedule),
        period_start: schedule.planningHorizon?.start ?? null,
        period_end: schedule.planningHorizon?.end ?? null,
      };
      return matchesCondition(
        row,
        dateCondition(value(`${prefix}${raw}`).prefix, instantRange(value(raw), 'UTC'), period),
      );
    };
    const openEnded = horizon('2026-11-01T00:00:00.000Z');
    expect(check('gt', '2030', openEnded)).toBe(true);
    expect(check('eq', '2026-11', openEnded)).toBe(false);
    expect(check('lt', '2026-11-02', openEnded)).toBe(true);
    expect(check('sa', '2026-10', openEnded)).toBe(true);
    expect(check('ne', '2026', horizon())).toBe(false);
    expect(check('eq', '2026', horizon())).toBe(false);
    expect(check('eq', '2026-11', horizon('2026-11-02T00:00:00.000Z', '2026-11-03T00:00:00.000Z'))).toBe(
      true,
    );
  });
});
