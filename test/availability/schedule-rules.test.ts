import { readFileSync } from 'node:fs';
import type { Schedule } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import {
  APPOINTMENT_DURATION_EXTENSION_URL,
  appointmentTypeExtensions,
  readScheduleRules,
  WORKING_HOURS_EXTENSION_URL,
  workingHoursExtension,
} from '../../src/availability/schedule-rules.js';
import { computeFreeSlots } from '../../src/availability/slot-calculator.js';
import { instantToWallTime, wallTimeToInstant } from '../../src/wall-time.js';
import { expectValidFhir } from '../support/fhir-validators.js';

const SYSTEM = 'urn:switchboard:demo:appointment-type';
const golden = (name: string): Schedule =>
  JSON.parse(
    readFileSync(new URL(`../../fixtures/sim-mapping/expected/${name}.json`, import.meta.url), 'utf8'),
  ) as Schedule;

function schedule(extension: Schedule['extension'], serviceType: Schedule['serviceType']): Schedule {
  return {
    resourceType: 'Schedule',
    id: 's1',
    active: true,
    actor: [{ reference: 'Practitioner/p1' }],
    extension,
    serviceType,
  };
}
const followUp = {
  extension: appointmentTypeExtensions({ minutes: 15, newPatientOnly: false }),
  coding: [{ system: SYSTEM, code: 'follow-up', display: 'Follow-up' }],
  text: 'Follow-up',
};

describe('schedule rules carried as extensions', () => {
  it("reads back the weekly windows and type rules the sim mapping wrote on Dr. Johnson's schedule", () => {
    const rules = readScheduleRules(golden('schedule-johnson-main-street'));
    expect(rules.windows).toEqual([
      { weekday: 1, start: '08:00', end: '12:00', typeCodes: null },
      { weekday: 1, start: '13:00', end: '17:00', typeCodes: null },
      { weekday: 2, start: '13:00', end: '17:00', typeCodes: ['new-patient'] },
      { weekday: 3, start: '08:00', end: '12:00', typeCodes: null },
    ]);
    expect(rules.types.map((t) => [t.code, t.minutes, t.newPatientOnly, t.system])).toEqual([
      ['annual-physical', 30, false, SYSTEM],
      ['new-patient', 45, true, SYSTEM],
      ['follow-up', 15, false, SYSTEM],
      ['sick-visit', 20, false, SYSTEM],
    ]);
  });

  it('computes slots from a mapped Schedule alone (wall times in the Location zone)', () => {
    const rules = readScheduleRules(golden('schedule-chen-evanston-restricted'));
    const zone = 'America/Chicago';
    const slots = computeFreeSlots(
      { scheduleId: 's1', zone, busy: [], ...rules },
      {
        from: wallTimeToInstant('2026-11-30T00:00', zone),
        to: wallTimeToInstant('2026-12-05T00:00', zone),
        now: wallTimeToInstant('2026-11-20T00:00', zone),
        minimumNoticeMinutes: 0,
        horizonDays: 30,
      },
    );
    const summary = new Set(
      slots.map(
        (s) =>
          `${instantToWallTime(new Date(s.start), zone).slice(0, 10)} ${s.serviceType?.map((c) => c.coding?.[0]?.code).join('+')}`,
      ),
    );
    // Thursday: follow-up and procedure consult; Friday: procedure consult only.
    expect([...summary].sort()).toEqual([
      '2026-12-03 follow-up',
      '2026-12-03 procedure-consult',
      '2026-12-04 procedure-consult',
    ]);
    expect(slots[0]?.start).toBe('2026-12-03T09:00:00-06:00');
  });

  it('writes "until midnight" as 00:00:00 and reads it back as 24:00, in valid FHIR', () => {
    const s = schedule(
      [workingHoursExtension({ weekday: 6, start: '18:00', end: '24:00' }, null)],
      [followUp],
    );
    expectValidFhir(s);
    expect(readScheduleRules(s).windows).toEqual([
      { weekday: 6, start: '18:00', end: '24:00', typeCodes: null },
    ]);
  });

  it('narrows a window whose codings name no type of the schedule to nothing, never to everything', () => {
    const s = schedule(
      [
        workingHoursExtension({ weekday: 1, start: '08:00', end: '12:00' }, [
          { system: 'other', code: 'follow-up' },
        ]),
      ],
      [followUp],
    );
    expect(readScheduleRules(s).windows).toEqual([
      { weekday: 1, start: '08:00', end: '12:00', typeCodes: [] },
    ]);
  });

  it('skips malformed windows and types without a duration rather than guessing', () => {
    const window = (day: string, start: string, end: string) => ({
      url: WORKING_HOURS_EXTENSION_URL,
      extension: [
        { url: 'day-of-week', valueCode: day },
        { url: 'start', valueTime: start },
        { url: 'end', valueTime: end },
      ],
    });
    const s = schedule(
      [
        window('mon', '08:00:00', '12:00:00'),
        window('xyz', '08:00:00', '12:00:00'),
        window('tue', '12:00:00', '08:00:00'),
        window('wed', '8:00', '12:00:00'),
      ],
      [
        followUp,
        { coding: [{ system: SYSTEM, code: 'no-duration' }] },
        {
          extension: [
            {
              url: APPOINTMENT_DURATION_EXTENSION_URL,
              valueDuration: { value: 1, unit: 'h', system: 'http://unitsofmeasure.org', code: 'h' },
            },
          ],
          coding: [{ system: SYSTEM, code: 'hour-long' }],
        },
      ],
    );
    const rules = readScheduleRules(s);
    expect(rules.windows.map((w) => w.weekday)).toEqual([1]);
    expect(rules.types.map((t) => [t.code, t.minutes])).toEqual([
      ['follow-up', 15],
      ['hour-long', 60],
    ]);
  });

  it('refuses to write a window that is not a weekday or a clock time', () => {
    expect(() => workingHoursExtension({ weekday: 8, start: '08:00', end: '09:00' }, null)).toThrow(
      RangeError,
    );
    expect(() => workingHoursExtension({ weekday: 1, start: '8:00', end: '09:00' }, null)).toThrow(
      RangeError,
    );
    expect(() => workingHoursExtension({ weekday: 1, start: '08:00', end: '25:00' }, null)).toThrow(
      RangeError,
    );
  });
});
