import { describe, expect, it } from 'vitest';
import { toUtcIso } from '../../../src/store/search-parameters/column-values.js';
import { searchColumnsFor } from '../../../src/store/search-parameters/index-rows.js';

describe('searchColumnsFor', () => {
  it('reads schedule actors and status', () => {
    expect(
      searchColumnsFor({
        resourceType: 'Schedule',
        active: true,
        actor: [{ reference: 'Practitioner/pr1' }, { reference: 'Location/l1' }],
      }),
    ).toMatchObject({ status: 'active', ref_practitioner: 'pr1', ref_location: 'l1', period_start: null });
  });

  it("stores a schedule's planning horizon as its period, a bare date covering its whole day", () => {
    const schedule = (start?: string, end?: string) =>
      searchColumnsFor({
        resourceType: 'Schedule',
        actor: [{ reference: 'Practitioner/pr1' }],
        planningHorizon: { start, end },
      });
    expect(schedule('2026-11-20T08:00:00-05:00', '2026-12-31')).toMatchObject({
      period_start: '2026-11-20T13:00:00.000Z',
      period_end: '2027-01-01T00:00:00.000Z',
    });
    expect(schedule('2026-11', '2026')).toMatchObject({
      period_start: '2026-11-01T00:00:00.000Z',
      period_end: '2027-01-01T00:00:00.000Z',
    });
    expect(schedule(undefined, '2026-02-30')).toMatchObject({ period_start: null, period_end: null });
  });

  it('leaves columns empty for resource types without search columns', () => {
    expect(Object.values(searchColumnsFor({ resourceType: 'Organization', name: 'x' }))).toEqual(
      Array.from({ length: 7 }, () => null),
    );
  });
});

describe('toUtcIso', () => {
  it('turns offset instants into sortable UTC text and refuses times without an offset', () => {
    expect(toUtcIso('2026-11-24T09:00:00-05:00')).toBe('2026-11-24T14:00:00.000Z');
    expect(toUtcIso('2026-11-24T14:00:00Z')).toBe('2026-11-24T14:00:00.000Z');
    expect(toUtcIso('2026-11-24T14:00')).toBeNull();
    expect(toUtcIso('not a date')).toBeNull();
    expect(toUtcIso(undefined)).toBeNull();
  });
});
