/**
 * The simulated records system → FHIR R4 mapping, against golden files (fixtures/sim-mapping/) and both validators.
 * `UPDATE_GOLDEN=1 npx vitest run test/connectors/sim` rewrites the expected files; review the diff by eye, since
 * they are the spec.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Settings } from 'luxon';
import { afterEach, describe, expect, it } from 'vitest';
import { readScheduleRules } from '../../../src/availability/schedule-rules.js';
import { mapBlock, mapTemplate } from '../../../src/connectors/sim/sim-fhir-availability.js';
import {
  createSimMappingContext,
  defaultSystems,
  formatCorrelationMarker,
  isDefaultCorrelationMarker,
} from '../../../src/connectors/sim/sim-fhir-context.js';
import {
  mapAppointment,
  mapLocation,
  mapPatient,
  mapProvider,
  mapSchedule,
  SIM_APPOINTMENT_STATUS_MAP,
} from '../../../src/connectors/sim/sim-fhir-mapping.js';
import { SIM_APPOINTMENT_STATUSES } from '../../../src/sim/sim-types.js';
import type {
  SimAppointment,
  SimBlock,
  SimLocation,
  SimPatient,
  SimProvider,
  SimTemplate,
} from '../../../src/sim/sim-types.js';
import { expectValidFhir, fhirErrors } from '../../support/fhir-validators.js';
import {
  deterministicRef,
  EXPECTED,
  fixtureContext,
  loadReferenceData,
  simAppointment as appointment,
  readJsonFile,
  UPSTREAM,
  upstreamFiles,
} from './sim-mapping-fixtures.js';

const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === '1';
const reference = loadReferenceData();
const ctx = fixtureContext(reference);

function provider(id: number): SimProvider {
  const p = reference.providers.find((x) => x.id === id);
  if (!p) throw new Error(`fixture provider ${id} missing`);
  return p;
}
function location(id: number): SimLocation {
  const l = reference.locations.find((x) => x.id === id);
  if (!l) throw new Error(`fixture location ${id} missing`);
  return l;
}

/** Which mapper an upstream file goes through, by file-name prefix; `fhir` outputs are also validated. */
const MAPPERS: { prefix: string; fhir: boolean; map: (input: unknown) => unknown }[] = [
  { prefix: 'patient-', fhir: true, map: (p) => mapPatient(p as SimPatient, ctx) },
  { prefix: 'provider-', fhir: true, map: (p) => mapProvider(p as SimProvider, ctx) },
  { prefix: 'location-', fhir: true, map: (l) => mapLocation(l as SimLocation, ctx) },
  {
    prefix: 'schedule-',
    fhir: true,
    map: (input) => {
      const { providerId, locationId } = input as { providerId: number; locationId: number };
      return mapSchedule(
        provider(providerId),
        location(locationId),
        reference.appointmentTypes,
        reference.templates,
        ctx,
      );
    },
  },
  { prefix: 'appointment-', fhir: true, map: (a) => mapAppointment(a as SimAppointment, ctx) },
  { prefix: 'block-', fhir: false, map: (b) => mapBlock(b as SimBlock, ctx) },
  { prefix: 'template-', fhir: false, map: (t) => mapTemplate(t as SimTemplate, ctx) },
];

// luxon seeds its guess of a zone's offset from the current clock; src/wall-time.ts must not inherit that.
const SUMMER_CLOCK = Date.parse('2026-07-01T12:00:00Z');
const WINTER_CLOCK = Date.parse('2026-12-01T12:00:00Z');
const realNow = Settings.now;
function setClock(ms: number): void {
  Settings.now = () => ms;
}

describe('sim → FHIR golden files', () => {
  const files = upstreamFiles();

  it('has a mapper for every upstream file and an upstream file for every expected file', () => {
    for (const f of files)
      expect(
        MAPPERS.some((m) => f.startsWith(m.prefix)),
        f,
      ).toBe(true);
    if (!UPDATE_GOLDEN) {
      expect(readdirSync(EXPECTED).sort()).toEqual(files);
    }
  });

  for (const file of files) {
    const mapper = MAPPERS.find((m) => file.startsWith(m.prefix));
    if (!mapper) continue;
    it(`maps ${file} to the expected ${mapper.fhir ? 'valid FHIR R4' : 'structure'}`, () => {
      const actual: unknown = JSON.parse(JSON.stringify(mapper.map(readJsonFile(join(UPSTREAM, file)))));
      const expectedPath = join(EXPECTED, file);
      if (UPDATE_GOLDEN) {
        mkdirSync(EXPECTED, { recursive: true });
        writeFileSync(expectedPath, `${JSON.stringify(actual, null, 2)}\n`);
      }
      expect(
        existsSync(expectedPath),
        `${expectedPath} missing; run with UPDATE_GOLDEN=1 and review it`,
      ).toBe(true);
      expect(actual).toStrictEqual(readJsonFile(expectedPath));
      if (mapper.fhir) expectValidFhir(actual);
    });
  }
});

describe('appointment status mapping', () => {
  // Written out rather than read from SIM_APPOINTMENT_STATUS_MAP, so a change to the table must change this too.
  const table = [
    ['scheduled', 'booked', 'needs-action'],
    ['confirmed', 'booked', 'accepted'],
    ['checked-in', 'checked-in', 'accepted'],
    ['completed', 'fulfilled', 'accepted'],
    ['cancelled', 'cancelled', 'accepted'],
    ['no-show', 'noshow', 'accepted'],
  ] as const;

  it('covers every upstream status', () => {
    expect(table.map(([s]) => s).sort()).toEqual([...SIM_APPOINTMENT_STATUSES].sort());
    expect(Object.keys(SIM_APPOINTMENT_STATUS_MAP).sort()).toEqual([...SIM_APPOINTMENT_STATUSES].sort());
  });

  it.each(table)(
    'maps %s to Appointment.status %s with the patient %s',
    (upstream, status, patientStatus) => {
      const mapped = mapAppointment(appointment({ status: upstream, cancelReason: 'Feeling better' }), ctx);
      expect(mapped.status).toBe(status);
      expect(
        mapped.participant.map((p) => [p.actor?.reference?.split('/')[0], p.status, p.required]),
      ).toEqual([
        ['Patient', patientStatus, 'required'],
        ['Practitioner', 'accepted', 'required'],
        ['Location', 'accepted', 'required'],
      ]);
      expect(mapped.cancelationReason).toEqual(
        upstream === 'cancelled' ? { text: 'Feeling better' } : undefined,
      );
      expectValidFhir(mapped);
    },
  );

  it('leaves cancelationReason out of a cancellation without a reason', () => {
    const mapped = mapAppointment(appointment({ status: 'cancelled', cancelReason: null }), ctx);
    expect(mapped).not.toHaveProperty('cancelationReason');
    expectValidFhir(mapped);
  });
});

describe('appointment instants', () => {
  afterEach(() => {
    Settings.now = realNow;
  });

  it.each([
    [
      'first Monday after the spring change',
      '2026-03-09T08:00',
      30,
      '2026-03-09T08:00:00-04:00',
      '2026-03-09T08:30:00-04:00',
    ],
    [
      'first Monday after the autumn change',
      '2026-11-02T08:00',
      30,
      '2026-11-02T08:00:00-05:00',
      '2026-11-02T08:30:00-05:00',
    ],
    [
      'an ordinary winter afternoon',
      '2026-11-24T14:00',
      45,
      '2026-11-24T14:00:00-05:00',
      '2026-11-24T14:45:00-05:00',
    ],
    [
      'a visit spanning the spring change (elapsed minutes)',
      '2026-03-08T01:30',
      60,
      '2026-03-08T01:30:00-05:00',
      '2026-03-08T03:30:00-04:00',
    ],
    [
      'a start inside the spring gap (moved forward)',
      '2026-03-08T02:30',
      30,
      '2026-03-08T03:30:00-04:00',
      '2026-03-08T04:00:00-04:00',
    ],
  ])(
    'writes %s with the zone offset at each instant',
    (_label, start, durationMinutes, fhirStart, fhirEnd) => {
      const mapped = mapAppointment(appointment({ start, durationMinutes }), ctx);
      expect([mapped.start, mapped.end, mapped.minutesDuration]).toEqual([
        fhirStart,
        fhirEnd,
        durationMinutes,
      ]);
    },
  );

  it("reads start in the location's zone and created in the practice zone", () => {
    const mapped = mapAppointment(
      appointment({
        locationId: 3,
        providerId: 4,
        start: '2026-11-20T09:00',
        createdAt: '2026-11-10T16:45:30',
      }),
      ctx,
    );
    expect([mapped.start, mapped.end, mapped.created]).toEqual([
      '2026-11-20T09:00:00-06:00',
      '2026-11-20T09:30:00-06:00',
      '2026-11-10T16:45:30-05:00',
    ]);
  });

  it('resolves the repeated autumn hour 01:30 to the earlier instant (EDT) and ends 30 elapsed minutes later', () => {
    setClock(SUMMER_CLOCK);
    const mapped = mapAppointment(appointment({ start: '2026-11-01T01:30' }), ctx);
    expect([mapped.start, mapped.end]).toEqual(['2026-11-01T01:30:00-04:00', '2026-11-01T01:00:00-05:00']);
  });

  it.each([
    ['summer', SUMMER_CLOCK],
    ['winter', WINTER_CLOCK],
  ])('resolves the repeated autumn hour the same way when the current date is in %s', (_season, clock) => {
    setClock(clock);
    const mapped = mapAppointment(appointment({ start: '2026-11-01T01:30' }), ctx);
    expect(mapped.start).toBe('2026-11-01T01:30:00-04:00');
  });
});

describe('appointment references and identifiers', () => {
  it('keeps display for practitioner and location but never for the patient', () => {
    const [patient, practitioner, loc] = mapAppointment(appointment(), ctx).participant;
    expect(patient?.actor).toEqual({ reference: `Patient/${deterministicRef('Patient', 1042)}` });
    expect(practitioner?.actor).toEqual({
      reference: `Practitioner/${deterministicRef('Practitioner', 1)}`,
      display: 'Dr. Sarah Johnson',
    });
    expect(loc?.actor?.display).toBe('Riverside Family Medicine – Main Street');
  });

  it('keeps a Switchboard correlation marker as an identifier and drops any other externalRef', () => {
    const marker = formatCorrelationMarker('7f3c9a2e-1b4d-4e8f-9a6b-2c5d8e1f0a37');
    expect(mapAppointment(appointment({ externalRef: marker }), ctx).identifier).toEqual([
      { system: 'urn:switchboard:demo:correlation', value: marker },
    ]);
    for (const other of ['PORTAL-88213', 'switchboard:', 'Switchboard: call back', '']) {
      expect(mapAppointment(appointment({ externalRef: other }), ctx), other).not.toHaveProperty(
        'identifier',
      );
    }
  });

  it('maps an appointment whose reference data is not synced yet, leaving out only what depends on it', () => {
    const mapped = mapAppointment(appointment({ providerId: 99, appointmentTypeId: 99 }), ctx);
    expect(mapped).not.toHaveProperty('appointmentType');
    expect(mapped).not.toHaveProperty('serviceType');
    expect(mapped.participant[1]?.actor).toEqual({
      reference: `Practitioner/${deterministicRef('Practitioner', 99)}`,
    });
    expectValidFhir(mapped);
  });

  it('takes FHIR ids only from ctx.ref', () => {
    const opaque = createSimMappingContext({
      tenantId: 'demo',
      practiceZone: 'America/New_York',
      ref: (kind) => `${kind}-opaque`,
      ...reference,
    });
    const mapped = mapAppointment(appointment(), opaque);
    expect(mapped.id).toBe('Appointment-opaque');
    expect(mapped.participant.map((p) => p.actor?.reference)).toEqual([
      'Patient/Patient-opaque',
      'Practitioner/Practitioner-opaque',
      'Location/Location-opaque',
    ]);
  });

  it('rejects a malformed wall time instead of guessing', () => {
    expect(() => mapAppointment(appointment({ start: '2026-11-24 14:00' }), ctx)).toThrow(RangeError);
  });
});

describe('identifier systems and markers', () => {
  it('scopes every system to the tenant', () => {
    expect(defaultSystems('north shore')).toEqual({
      mrn: 'urn:switchboard:north%20shore:mrn',
      appointmentType: 'urn:switchboard:north%20shore:appointment-type',
      correlation: 'urn:switchboard:north%20shore:correlation',
      specialty: 'urn:switchboard:north%20shore:specialty',
    });
  });

  it('recognises only markers it could have written', () => {
    expect(isDefaultCorrelationMarker(formatCorrelationMarker('abc-123'))).toBe(true);
    expect(() => formatCorrelationMarker('no spaces allowed')).toThrow(RangeError);
    expect(isDefaultCorrelationMarker('switchboard:has space')).toBe(false);
  });
});

describe('patients, practitioners, schedules', () => {
  const patient: SimPatient = readJsonFile(join(UPSTREAM, 'patient-accented-full.json'));

  it('omits telecom and address when the records system has none, and blank values count as none', () => {
    const mapped = mapPatient({ ...patient, phone: '  ', email: '', address: null }, ctx);
    expect(mapped).not.toHaveProperty('telecom');
    expect(mapped).not.toHaveProperty('address');
    expectValidFhir(mapped);
  });

  it('leaves qualification out for a provider without a specialty', () => {
    const mapped = mapProvider({ ...provider(1), specialty: '' }, ctx);
    expect(mapped).not.toHaveProperty('qualification');
    expectValidFhir(mapped);
  });

  it('offers only the types the templates allow, and none at a location without working hours', () => {
    const restricted = mapSchedule(
      provider(4),
      location(3),
      reference.appointmentTypes,
      reference.templates,
      ctx,
    );
    expect(restricted.serviceType?.map((c) => c.coding?.[0]?.code)).toEqual([
      'follow-up',
      'procedure-consult',
    ]);
    const none = mapSchedule(provider(1), location(3), reference.appointmentTypes, reference.templates, ctx);
    expect([none.active, none.serviceType, none.comment]).toEqual([false, undefined, undefined]);
    expectValidFhir(none);
  });

  it('carries each template as a working-hours extension and each type with its duration and new-patient rule', () => {
    const rules = readScheduleRules(
      mapSchedule(provider(4), location(3), reference.appointmentTypes, reference.templates, ctx),
    );
    expect(rules.windows).toEqual([
      { weekday: 4, start: '09:00', end: '12:00', typeCodes: ['follow-up', 'procedure-consult'] },
      { weekday: 5, start: '09:00', end: '12:00', typeCodes: ['procedure-consult'] },
    ]);
    expect(rules.types.map((t) => [t.code, t.minutes, t.newPatientOnly])).toEqual([
      ['follow-up', 15, false],
      ['procedure-consult', 30, false],
    ]);
  });

  it('leaves out a restricted template none of whose types the provider may be booked for', () => {
    const onlyOthers: SimTemplate = {
      id: 99,
      providerId: 1,
      locationId: 1,
      weekday: 4,
      start: '08:00',
      end: '12:00',
      appointmentTypeIds: [5],
    };
    const mapped = mapSchedule(
      provider(1),
      location(1),
      reference.appointmentTypes,
      [...reference.templates, onlyOthers],
      ctx,
    );
    expect(readScheduleRules(mapped).windows.map((w) => w.weekday)).toEqual([1, 1, 2, 3]);
    expect(mapped.serviceType?.map((c) => c.coding?.[0]?.code)).not.toContain('procedure-consult');
    expectValidFhir(mapped);
  });

  it('publishes a planning horizon when asked', () => {
    const planningHorizon = { start: '2026-11-21T00:00:00-05:00', end: '2026-12-21T00:00:00-05:00' };
    const mapped = mapSchedule(
      provider(1),
      location(1),
      reference.appointmentTypes,
      reference.templates,
      ctx,
      {
        planningHorizon,
      },
    );
    expect(mapped.planningHorizon).toEqual(planningHorizon);
    expectValidFhir(mapped);
  });
});

describe('blocks', () => {
  it('converts a practice-wide block across the autumn change to exact UTC instants', () => {
    const block: SimBlock = {
      id: 1,
      providerId: null,
      locationId: null,
      start: '2026-10-31T18:00',
      end: '2026-11-01T18:00',
      reason: 'Closed',
    };
    // 24 wall-clock hours that last 25 real hours.
    expect(mapBlock(block, ctx)).toEqual({
      practitionerFhirId: null,
      locationFhirId: null,
      start: '2026-10-31T22:00:00.000Z',
      end: '2026-11-01T23:00:00.000Z',
      reason: 'Closed',
    });
  });

  it("reads a location's block in that location's zone", () => {
    const block: SimBlock = {
      id: 2,
      providerId: 4,
      locationId: 3,
      start: '2026-03-09T12:00',
      end: '2026-03-09T13:00',
      reason: 'Lunch',
    };
    expect(mapBlock(block, ctx)).toMatchObject({
      practitionerFhirId: deterministicRef('Practitioner', 4),
      locationFhirId: deterministicRef('Location', 3),
      start: '2026-03-09T17:00:00.000Z',
      end: '2026-03-09T18:00:00.000Z',
    });
  });
});

describe('the validator helper', () => {
  it('reports errors from both validators, so a clean result means something', () => {
    const bad = { ...mapAppointment(appointment(), ctx), status: 'maybe', start: '2026-11-24 14:00', foo: 1 };
    const errors = fhirErrors(bad);
    expect(errors.some((e) => e.startsWith('[medplum]') && e.includes('instant'))).toBe(true);
    expect(errors.some((e) => e.startsWith('[fhir.js]') && e.includes('"maybe"'))).toBe(true);
    expect(errors.some((e) => e.includes('foo'))).toBe(true);
    expect(() => expectValidFhir(bad)).toThrow(/Appointment\/appointment-.* is not valid FHIR R4/);
  });
});
