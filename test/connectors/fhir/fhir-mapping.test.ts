/**
 * Upstream FHIR → Switchboard FHIR mapping against golden files (fixtures/fhir-mapping/) and both validators
 * (issue 12 item 4). `UPDATE_GOLDEN=1 npx vitest run test/connectors/fhir/fhir-mapping.test.ts` rewrites the
 * expected files; review the diff by eye, since they are the spec.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Appointment, Location, Patient, Practitioner, Resource, Schedule } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import type { SyncedResourceType } from '../../../src/connectors/connector.js';
import { createFhirMappingContext } from '../../../src/connectors/fhir/fhir-mapping-context.js';
import {
  appointmentRefs,
  mapAppointment,
  mapLocation,
  mapPatient,
  mapPractitioner,
  mapSchedule,
} from '../../../src/connectors/fhir/fhir-mapping.js';
import type { FhirWorkingWindow } from '../../../src/config-fhir-connector.js';
import { readScheduleRules } from '../../../src/availability/schedule-rules.js';
import { expectValidFhir } from '../../support/fhir-validators.js';

const ROOT = join(import.meta.dirname, '../../../fixtures/fhir-mapping');
const UPSTREAM = join(ROOT, 'upstream');
const EXPECTED = join(ROOT, 'expected');
const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === '1';

/** FHIR ids `<kind>-<12 hex of sha256("demo-fhir/<Kind>/<upstream id>")>`: stable, and no upstream id inside. */
const resolve = (type: SyncedResourceType, upstreamId: string) =>
  `${type.toLowerCase()}-${createHash('sha256').update(`demo-fhir/${type}/${upstreamId}`).digest('hex').slice(0, 12)}`;

const ctxInput: Parameters<typeof createFhirMappingContext>[0] = {
  tenantId: 'demo-fhir',
  zone: 'America/New_York',
  resolve,
  appointmentTypes: [
    {
      system: 'urn:vendor:appointment-type',
      code: 'FU',
      as: 'follow-up',
      display: 'Follow-up Visit',
      minutes: 15,
      newPatientOnly: false,
    },
    {
      system: 'urn:vendor:appointment-type',
      code: 'NP',
      as: 'new-patient',
      display: 'New Patient Visit',
      minutes: 45,
      newPatientOnly: true,
    },
  ],
};
const ctx = createFhirMappingContext(ctxInput);

const MAPPERS: Record<string, (r: Resource) => Resource> = {
  Patient: (r) => mapPatient(r as Patient, r.id ?? '', ctx),
  Practitioner: (r) => mapPractitioner(r as Practitioner, r.id ?? '', ctx),
  Location: (r) => mapLocation(r as Location, r.id ?? '', 'America/New_York', ctx),
  Schedule: (r) => mapSchedule(r as Schedule, r.id ?? '', ctx),
  Appointment: (r) => mapAppointment(r as Appointment, r.id ?? '', ctx),
};

const read = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));
const files = readdirSync(UPSTREAM)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('upstream FHIR → Switchboard FHIR golden files', () => {
  it('has an expected file for every upstream file', () => {
    if (!UPDATE_GOLDEN) expect(readdirSync(EXPECTED).sort()).toEqual(files);
  });

  for (const file of files) {
    it(`maps ${file} to the expected valid FHIR R4, with no upstream id left`, () => {
      const upstream = read(join(UPSTREAM, file)) as Resource;
      const actual = JSON.parse(JSON.stringify(MAPPERS[upstream.resourceType]?.(upstream))) as Resource;
      const expectedPath = join(EXPECTED, file);
      if (UPDATE_GOLDEN) {
        mkdirSync(EXPECTED, { recursive: true });
        writeFileSync(expectedPath, `${JSON.stringify(actual, null, 2)}\n`);
      }
      expect(
        existsSync(expectedPath),
        `${expectedPath} missing; run with UPDATE_GOLDEN=1 and review it`,
      ).toBe(true);
      expect(actual).toStrictEqual(read(expectedPath));
      expectValidFhir(actual);
      const text = JSON.stringify(actual);
      for (const id of [
        '48213',
        'PR-0042',
        'L7',
        'S-42-7',
        'A-9000',
        'RelatedPerson',
        'example-ema',
        'urn:vendor',
      ]) {
        expect(text, `${id} leaked`).not.toContain(id);
      }
    });
  }

  it('gives a Schedule its configured working hours with each window’s types, and none with hours but no windows', () => {
    const upstream = read(join(UPSTREAM, 'schedule-mapped-and-unmapped-types.json')) as Schedule;
    const window = { practitioner: 'PR-0042', location: 'L7', weekday: 2 };
    const withHours = (availability: 'slots' | 'hours', workingHours: FhirWorkingWindow[]) =>
      mapSchedule(
        upstream,
        upstream.id ?? '',
        createFhirMappingContext({ ...ctxInput, availability, workingHours }),
      );
    const hours = withHours('hours', [
      { ...window, start: '13:00', end: '17:00', appointmentTypes: ['new-patient', 'follow-up'] },
      { ...window, start: '08:00', end: '12:00' },
      { ...window, practitioner: 'someone-else', start: '08:00', end: '18:00' },
    ]);
    expectValidFhir(hours);
    expect(readScheduleRules(hours).windows).toEqual([
      { weekday: 2, start: '08:00', end: '12:00', typeCodes: null },
      { weekday: 2, start: '13:00', end: '17:00', typeCodes: ['follow-up', 'new-patient'] },
    ]);
    expect(hours.comment).toBe('Bookable time computed from the configured working hours');
    expect(readScheduleRules(withHours('hours', [])).windows).toEqual([]);
    // Slots without configured hours: the whole week, the upstream's Slots say the rest.
    expect(readScheduleRules(withHours('slots', [])).windows).toHaveLength(7);
  });

  it('lists only the patient, practitioner and location an appointment points at', () => {
    const upstream = read(
      join(UPSTREAM, 'appointment-cerner-absolute-refs-marker-in-comment.json'),
    ) as Appointment;
    expect(appointmentRefs(upstream)).toEqual([
      { resourceType: 'Patient', upstreamId: '48213' },
      { resourceType: 'Practitioner', upstreamId: 'PR-0042' },
      { resourceType: 'Location', upstreamId: 'L7' },
    ]);
  });
});
