import type { Slot } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import {
  checkSlot,
  computeFreeSlots,
  formatSlotId,
  parseSlotId,
  SLOT_GRID_MINUTES,
  type AppointmentTypeRule,
  type BusyInterval,
  type FreeSlotQuery,
  type ScheduleAvailability,
  type WorkingWindow,
} from '../../src/availability/slot-calculator.js';
import { instantToWallTime, wallTimeToInstant } from '../../src/wall-time.js';
import { expectValidFhir } from '../support/fhir-validators.js';

const ZONE = 'America/New_York';
const SYSTEM = 'urn:switchboard:demo:appointment-type';
const SCHEDULE = '6f1d2c3b-4a59-4e8f-9a6b-2c5d8e1f0a37';

const type = (code: string, minutes: number, newPatientOnly = false): AppointmentTypeRule => ({
  system: SYSTEM,
  code,
  display: code,
  minutes,
  newPatientOnly,
});
const FU = type('follow-up', 15);
const AP = type('annual-physical', 30);
const PC = type('procedure-consult', 30);
const NP = type('new-patient', 45, true);

const window = (
  weekday: number,
  start: string,
  end: string,
  typeCodes: string[] | null = null,
): WorkingWindow => ({
  weekday,
  start,
  end,
  typeCodes,
});
const weekdays = (start: string, end: string, typeCodes: string[] | null = null): WorkingWindow[] =>
  [1, 2, 3, 4, 5].map((d) => window(d, start, end, typeCodes));

const at = (wall: string, zone = ZONE): Date => wallTimeToInstant(wall, zone);
const busy = (start: string, end: string, kind: BusyInterval['kind'] = 'taken'): BusyInterval => ({
  start: at(start),
  end: at(end),
  kind,
});

function schedule(overrides: Partial<ScheduleAvailability> = {}): ScheduleAvailability {
  return {
    scheduleId: SCHEDULE,
    zone: ZONE,
    windows: weekdays('08:00', '12:00'),
    types: [FU],
    busy: [],
    ...overrides,
  };
}

/** A query far from `now`, so notice and horizon stay out of the way unless a test sets them. */
function query(from: string, to: string, overrides: Partial<FreeSlotQuery> = {}): FreeSlotQuery {
  return {
    from: at(from),
    to: at(to),
    now: at('2026-11-01T00:00'),
    minimumNoticeMinutes: 0,
    horizonDays: 365,
    ...overrides,
  };
}

const wallStarts = (slots: Slot[], zone = ZONE): string[] =>
  slots.map((s) => instantToWallTime(new Date(s.start), zone));
const clocks = (slots: Slot[]): string[] => wallStarts(slots).map((w) => w.slice(11));
const minutesOf = (slot: Slot): number => (Date.parse(slot.end) - Date.parse(slot.start)) / 60_000;
const codesOf = (slot: Slot): string[] => (slot.serviceType ?? []).map((c) => c.coding?.[0]?.code ?? '');

describe('slot calculator: working hours and the grid', () => {
  it('offers a start every 15 minutes from the window start wherever the whole visit fits inside the window', () => {
    const slots = computeFreeSlots(
      schedule({ windows: [window(1, '08:00', '10:00')], types: [FU, NP] }),
      query('2026-11-23T00:00', '2026-11-24T00:00'),
    );
    const follow = slots.filter((s) => minutesOf(s) === 15);
    const newPatient = slots.filter((s) => minutesOf(s) === 45);
    expect(SLOT_GRID_MINUTES).toBe(15);
    expect(clocks(follow)).toEqual(['08:00', '08:15', '08:30', '08:45', '09:00', '09:15', '09:30', '09:45']);
    expect(clocks(newPatient)).toEqual(['08:00', '08:15', '08:30', '08:45', '09:00', '09:15']);
    expect(follow.every((s) => codesOf(s).join() === 'follow-up')).toBe(true);
    expect(newPatient.every((s) => codesOf(s).join() === 'new-patient')).toBe(true);
  });

  it('anchors the grid at the window start and never lets a visit span two adjacent windows', () => {
    const slots = computeFreeSlots(
      schedule({ windows: [window(1, '08:10', '09:00'), window(1, '09:00', '10:00')], types: [NP] }),
      query('2026-11-23T00:00', '2026-11-24T00:00'),
    );
    expect(clocks(slots)).toEqual(['08:10', '09:00', '09:15']);
    const grid = computeFreeSlots(
      schedule({ windows: [window(1, '08:10', '09:00')], types: [FU] }),
      query('2026-11-23T00:00', '2026-11-24T00:00'),
    );
    expect(clocks(grid)).toEqual(['08:10', '08:25', '08:40']);
  });

  it('offers nothing on days without a window, and reads the weekday in the schedule zone', () => {
    const slots = computeFreeSlots(
      schedule({ windows: [window(2, '08:00', '08:30')] }),
      query('2026-11-21T00:00', '2026-11-29T00:00'),
    );
    expect(wallStarts(slots)).toEqual(['2026-11-24T08:00', '2026-11-24T08:15']);
  });

  it('returns only starts within [from, to)', () => {
    const slots = computeFreeSlots(schedule(), query('2026-11-23T09:00', '2026-11-23T09:45'));
    expect(clocks(slots)).toEqual(['09:00', '09:15', '09:30']);
  });

  it('offers nothing on a closed local date', () => {
    const slots = computeFreeSlots(
      schedule({ closedDates: ['2026-11-26'] }),
      query('2026-11-25T00:00', '2026-11-28T00:00'),
    );
    expect([...new Set(wallStarts(slots).map((w) => w.slice(0, 10)))]).toEqual(['2026-11-25', '2026-11-27']);
  });
});

describe('slot calculator: busy time', () => {
  it('treats busy time as half-open, so back-to-back visits are offered', () => {
    const slots = computeFreeSlots(
      schedule({
        windows: [window(1, '08:00', '10:00')],
        types: [AP],
        busy: [busy('2026-11-23T08:30', '2026-11-23T09:00')],
      }),
      query('2026-11-23T00:00', '2026-11-24T00:00'),
    );
    expect(clocks(slots)).toEqual(['08:00', '09:00', '09:15', '09:30']);
  });

  it('never offers a slot overlapping a block, an appointment or a hold, whatever its length', () => {
    const intervals = [
      busy('2026-11-23T08:20', '2026-11-23T08:40', 'taken'),
      busy('2026-11-23T10:00', '2026-11-23T11:00', 'unavailable'),
    ];
    const slots = computeFreeSlots(
      schedule({ types: [FU, AP, NP], busy: intervals }),
      query('2026-11-23T00:00', '2026-11-24T00:00'),
    );
    expect(slots.length).toBeGreaterThan(0);
    for (const slot of slots) {
      for (const b of intervals) {
        const overlap = Date.parse(slot.start) < b.end.getTime() && b.start.getTime() < Date.parse(slot.end);
        expect(overlap, `${slot.id} overlaps busy time`).toBe(false);
      }
    }
    expect(clocks(slots.filter((s) => minutesOf(s) === 15))).toEqual([
      '08:00',
      '08:45',
      '09:00',
      '09:15',
      '09:30',
      '09:45',
      '11:00',
      '11:15',
      '11:30',
      '11:45',
    ]);
  });

  it('merges overlapping busy intervals given in any order', () => {
    const slots = computeFreeSlots(
      schedule({
        types: [FU],
        busy: [
          busy('2026-11-23T09:00', '2026-11-23T11:00'),
          busy('2026-11-23T08:15', '2026-11-23T09:30'),
          busy('2026-11-23T08:30', '2026-11-23T08:45'),
        ],
      }),
      query('2026-11-23T00:00', '2026-11-24T00:00'),
    );
    expect(clocks(slots)).toEqual(['08:00', '11:00', '11:15', '11:30', '11:45']);
  });
});

describe('slot calculator: notice and horizon', () => {
  it('offers nothing before now plus the minimum notice', () => {
    const slots = computeFreeSlots(
      schedule(),
      query('2026-11-23T00:00', '2026-11-24T00:00', {
        now: at('2026-11-23T08:05'),
        minimumNoticeMinutes: 60,
      }),
    );
    expect(clocks(slots)[0]).toBe('09:15');
  });

  it('never offers a slot in the past, even with no notice', () => {
    const slots = computeFreeSlots(
      schedule(),
      query('2026-11-20T00:00', '2026-11-24T00:00', { now: at('2026-11-23T10:07'), minimumNoticeMinutes: 0 }),
    );
    expect(wallStarts(slots)[0]).toBe('2026-11-23T10:15');
  });

  it('offers starts only before the same wall time horizonDays local days after now', () => {
    const slots = computeFreeSlots(
      schedule(),
      query('2026-11-23T00:00', '2026-12-31T00:00', {
        now: at('2026-11-23T09:00'),
        minimumNoticeMinutes: 0,
        horizonDays: 2,
      }),
    );
    const starts = wallStarts(slots);
    expect(starts[0]).toBe('2026-11-23T09:00');
    expect(starts[starts.length - 1]).toBe('2026-11-25T08:45');
  });

  it('counts the horizon in local days across the autumn change (08:00 + 2 days is 08:00)', () => {
    const slots = computeFreeSlots(
      schedule({ windows: [1, 2, 3, 4, 5, 6, 7].map((d) => window(d, '07:00', '09:00')) }),
      query('2026-10-31T00:00', '2026-11-05T00:00', {
        now: at('2026-10-31T08:00'),
        minimumNoticeMinutes: 0,
        horizonDays: 2,
      }),
    );
    const starts = wallStarts(slots);
    expect(starts[starts.length - 1]).toBe('2026-11-02T07:45');
  });

  it('respects the schedule planning horizon', () => {
    const slots = computeFreeSlots(
      schedule({ planningHorizon: { start: at('2026-11-24T00:00'), end: at('2026-11-25T00:00') } }),
      query('2026-11-23T00:00', '2026-11-28T00:00'),
    );
    expect([...new Set(wallStarts(slots).map((w) => w.slice(0, 10)))]).toEqual(['2026-11-24']);
  });
});

describe('slot calculator: daylight saving time', () => {
  const everyDay = (start: string, end: string) => [1, 2, 3, 4, 5, 6, 7].map((d) => window(d, start, end));

  it.each([
    [
      'autumn, 2026-11-01',
      '2026-10-31',
      ['2026-10-31T12:00:00.000Z', '2026-11-01T13:00:00.000Z', '2026-11-02T13:00:00.000Z'],
    ],
    [
      'spring, 2027-03-14',
      '2027-03-13',
      ['2027-03-13T13:00:00.000Z', '2027-03-14T12:00:00.000Z', '2027-03-15T12:00:00.000Z'],
    ],
  ])('keeps 08:00 local at 08:00 across the %s change', (_label, firstDay, utc) => {
    const slots = computeFreeSlots(
      schedule({ windows: everyDay('08:00', '08:15') }),
      query(`${firstDay}T00:00`, '2027-12-31T00:00', { now: at(`${firstDay}T00:00`), horizonDays: 3 }),
    );
    expect(slots.map((s) => new Date(s.start).toISOString())).toEqual(utc);
    expect(clocks(slots)).toEqual(['08:00', '08:00', '08:00']);
    expect(slots.map((s) => s.start.slice(-6))).toEqual(
      firstDay === '2026-10-31' ? ['-04:00', '-05:00', '-05:00'] : ['-05:00', '-04:00', '-04:00'],
    );
  });

  it('skips grid times inside the spring gap and keeps visits at their elapsed length', () => {
    const slots = computeFreeSlots(
      schedule({ windows: [window(7, '01:00', '04:00')], types: [AP] }),
      query('2027-03-14T00:00', '2027-03-15T00:00', { now: at('2027-03-01T00:00') }),
    );
    expect(clocks(slots)).toEqual(['01:00', '01:15', '01:30', '01:45', '03:00', '03:15', '03:30']);
    const last = slots.find((s) => clocks([s])[0] === '01:30');
    expect([last?.start, last?.end]).toEqual(['2027-03-14T01:30:00-05:00', '2027-03-14T03:00:00-04:00']);
  });

  it('offers the repeated autumn hour once, at its first pass', () => {
    const slots = computeFreeSlots(
      schedule({ windows: [window(7, '00:30', '02:30')], types: [FU] }),
      query('2026-11-01T00:00', '2026-11-02T00:00', { now: at('2026-10-01T00:00') }),
    );
    expect(slots.map((s) => s.start)).toEqual([
      '2026-11-01T00:30:00-04:00',
      '2026-11-01T00:45:00-04:00',
      '2026-11-01T01:00:00-04:00',
      '2026-11-01T01:15:00-04:00',
      '2026-11-01T01:30:00-04:00',
      '2026-11-01T01:45:00-04:00',
      '2026-11-01T02:00:00-05:00',
      '2026-11-01T02:15:00-05:00',
    ]);
    // 01:45 EDT + 15 elapsed minutes is 01:00 EST: the slot is contiguous in real time.
    expect(slots[5]?.end).toBe('2026-11-01T01:00:00-05:00');
  });
});

describe('slot calculator: appointment types', () => {
  const typed = schedule({
    types: [FU, AP, NP],
    windows: [
      window(1, '08:00', '12:00', ['follow-up', 'annual-physical']),
      window(2, '13:00', '17:00', ['new-patient', 'follow-up']),
    ],
  });
  const week = query('2026-11-23T00:00', '2026-11-30T00:00');

  it('offers a type only in the windows that allow it (new-patient visits only in their window)', () => {
    const slots = computeFreeSlots(typed, week);
    const byCode = (code: string) => wallStarts(slots.filter((s) => codesOf(s).includes(code)));
    expect(byCode('new-patient').every((w) => w.startsWith('2026-11-24T') && w.slice(11) >= '13:00')).toBe(
      true,
    );
    expect(byCode('new-patient')).toHaveLength(14);
    expect(byCode('annual-physical').every((w) => w.startsWith('2026-11-23T'))).toBe(true);
    expect(new Set(byCode('follow-up').map((w) => w.slice(0, 10)))).toEqual(
      new Set(['2026-11-23', '2026-11-24']),
    );
  });

  it('lasts exactly its type duration', () => {
    for (const slot of computeFreeSlots(typed, week)) {
      const minutes = minutesOf(slot);
      expect(codesOf(slot).map((c) => [FU, AP, NP].find((t) => t.code === c)?.minutes)).toEqual(
        codesOf(slot).map(() => minutes),
      );
    }
  });

  it('filters by type without changing what a slot says', () => {
    const both = schedule({ types: [AP, PC], windows: [window(1, '08:00', '09:00')] });
    const all = computeFreeSlots(both, week);
    const filtered = computeFreeSlots(both, { ...week, typeCodes: ['procedure-consult'] });
    expect(filtered).toEqual(all);
    expect(codesOf(all[0] as Slot)).toEqual(['annual-physical', 'procedure-consult']);
    expect(computeFreeSlots(both, { ...week, typeCodes: ['follow-up'] })).toEqual([]);
  });

  it('builds one valid FHIR Slot per schedule, start and duration', () => {
    const slots = computeFreeSlots(typed, week);
    expect(new Set(slots.map((s) => s.id)).size).toBe(slots.length);
    const first = slots[0] as Slot;
    expect(first).toEqual({
      resourceType: 'Slot',
      id: `${SCHEDULE}.202611231300.15`,
      serviceType: [
        { coding: [{ system: SYSTEM, code: 'follow-up', display: 'follow-up' }], text: 'follow-up' },
      ],
      schedule: { reference: `Schedule/${SCHEDULE}` },
      status: 'free',
      start: '2026-11-23T08:00:00-05:00',
      end: '2026-11-23T08:15:00-05:00',
    });
    for (const slot of slots) expectValidFhir(slot);
  });
});

describe('slot ids', () => {
  it('are deterministic and decode to schedule, UTC start and minutes', () => {
    const a = computeFreeSlots(schedule({ types: [FU, NP] }), query('2026-11-23T00:00', '2026-11-24T00:00'));
    const b = computeFreeSlots(schedule({ types: [NP, FU] }), query('2026-11-23T00:00', '2026-11-24T00:00'));
    expect(a.map((s) => s.id)).toEqual(b.map((s) => s.id));
    for (const slot of a) {
      const parsed = parseSlotId(slot.id ?? '');
      expect(parsed).toEqual({ scheduleId: SCHEDULE, start: new Date(slot.start), minutes: minutesOf(slot) });
      expect(formatSlotId(SCHEDULE, new Date(slot.start), minutesOf(slot))).toBe(slot.id);
      expect((slot.id ?? '').length).toBeLessThanOrEqual(64);
    }
  });

  it('round-trip schedule ids that contain dots and dashes', () => {
    const id = formatSlotId('a.b-c', new Date('2026-11-01T05:30:00Z'), 45);
    expect(id).toBe('a.b-c.202611010530.45');
    expect(parseSlotId(id)).toEqual({
      scheduleId: 'a.b-c',
      start: new Date('2026-11-01T05:30:00Z'),
      minutes: 45,
    });
  });

  it.each([
    ['no parts', 'abc'],
    ['a month 13', 'abc.202613011200.30'],
    ['25 o’clock', 'abc.202611012500.30'],
    ['zero minutes', 'abc.202611011200.0'],
    ['a leading zero', 'abc.202611011200.030'],
    ['an illegal character', 'a_b.202611011200.30'],
    ['more than 64 characters', `${'x'.repeat(50)}.202611011200.30`],
  ])('parseSlotId rejects %s', (_label, id) => {
    expect(parseSlotId(id)).toBeUndefined();
  });

  it('refuse to build an id that would not be a legal FHIR id', () => {
    expect(() => formatSlotId('x'.repeat(50), new Date('2026-11-01T05:30:00Z'), 30)).toThrow(RangeError);
    expect(() => formatSlotId('abc', new Date('2026-11-01T05:30:30Z'), 30)).toThrow(RangeError);
  });
});

describe('checkSlot', () => {
  const rules = { now: at('2026-11-20T10:00'), minimumNoticeMinutes: 60, horizonDays: 30 };
  const typed = schedule({
    types: [FU, AP, PC, NP],
    windows: [
      ...weekdays('08:00', '12:00', ['follow-up', 'annual-physical', 'procedure-consult']),
      window(2, '13:00', '17:00'),
    ],
    busy: [
      busy('2026-11-23T09:00', '2026-11-23T09:30', 'taken'),
      busy('2026-11-23T10:00', '2026-11-23T11:00', 'unavailable'),
    ],
    closedDates: ['2026-11-26'],
  });
  const check = (wall: string, typeCode: string, minutes?: number) =>
    checkSlot(typed, rules, {
      start: at(wall),
      typeCode,
      minutes: minutes ?? [FU, AP, PC, NP].find((t) => t.code === typeCode)?.minutes ?? 0,
    });

  it('answers free with the Slot a search returns', () => {
    const result = check('2026-11-23T08:30', 'annual-physical');
    const searched = computeFreeSlots(typed, {
      ...rules,
      from: at('2026-11-23T08:30'),
      to: at('2026-11-23T08:31'),
    });
    expect(result).toEqual({ free: true, slot: searched.find((s) => minutesOf(s) === 30) });
    expect(codesOf(searched.find((s) => minutesOf(s) === 30) as Slot)).toEqual([
      'annual-physical',
      'procedure-consult',
    ]);
  });

  it.each([
    ['slot-taken', 'an overlapping booking', '2026-11-23T09:15', 'follow-up', undefined],
    ['slot-taken', 'a booking starting inside it', '2026-11-23T08:45', 'annual-physical', undefined],
    ['provider-unavailable', 'a block', '2026-11-23T10:30', 'follow-up', undefined],
    ['provider-unavailable', 'a closed day', '2026-11-26T08:00', 'follow-up', undefined],
    ['outside-hours', 'the lunch gap', '2026-11-23T12:00', 'follow-up', undefined],
    ['outside-hours', 'a visit running past the window', '2026-11-23T11:45', 'annual-physical', undefined],
    ['outside-hours', 'a weekend', '2026-11-28T09:00', 'follow-up', undefined],
    ['type-not-offered', 'a type not allowed in the window', '2026-11-23T08:00', 'new-patient', undefined],
    ['type-not-offered', 'a type the schedule does not offer', '2026-11-23T08:00', 'sick-visit', 20],
    ['wrong-duration', 'a length that is not the type’s', '2026-11-23T08:00', 'follow-up', 30],
    ['off-grid', 'a start off the grid', '2026-11-23T08:05', 'follow-up', undefined],
    ['in-the-past', 'a time in the past', '2026-11-19T09:00', 'follow-up', undefined],
    ['too-soon', 'a time within the minimum notice', '2026-11-20T10:45', 'follow-up', undefined],
    ['beyond-horizon', 'a time past the horizon', '2026-12-21T09:00', 'follow-up', undefined],
  ])('answers %s for %s', (reason, _label, wall, typeCode, minutes) => {
    expect(check(wall, typeCode, minutes)).toMatchObject({ free: false, reason });
  });

  it('accepts a new-patient visit in its window, back to back with a booking', () => {
    const withBooking = { ...typed, busy: [busy('2026-11-24T13:00', '2026-11-24T13:45')] };
    expect(
      checkSlot(withBooking, rules, { start: at('2026-11-24T13:45'), minutes: 45, typeCode: 'new-patient' }),
    ).toMatchObject({ free: true, slot: { id: `${SCHEDULE}.202611241845.45` } });
  });
});
