/**
 * Loads fixtures/sim-mapping/ and builds the deterministic mapping context the golden files were written with.
 * Layout: fixtures/sim-mapping/README.md.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSimMappingContext } from '../../../src/connectors/sim/sim-fhir-context.js';
import type { SimMappingContext, SimRefKind } from '../../../src/connectors/sim/sim-fhir-context.js';
import type {
  SimAppointment,
  SimAppointmentType,
  SimLocation,
  SimProvider,
  SimTemplate,
} from '../../../src/sim/sim-types.js';

export const FIXTURES = fileURLToPath(new URL('../../../fixtures/sim-mapping/', import.meta.url));
export const UPSTREAM = join(FIXTURES, 'upstream');
export const EXPECTED = join(FIXTURES, 'expected');

export function readJsonFile<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** `*.json` directly under `upstream/` (not `upstream/reference/`), sorted. */
export function upstreamFiles(): string[] {
  return readdirSync(UPSTREAM, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.json'))
    .map((e) => e.name)
    .sort();
}

function filesStartingWith<T>(prefix: string): T[] {
  return upstreamFiles()
    .filter((f) => f.startsWith(prefix))
    .map((f) => readJsonFile<T>(join(UPSTREAM, f)));
}

export interface ReferenceData {
  providers: SimProvider[];
  locations: SimLocation[];
  appointmentTypes: SimAppointmentType[];
  templates: SimTemplate[];
}

export function loadReferenceData(): ReferenceData {
  return {
    providers: filesStartingWith<SimProvider>('provider-'),
    locations: filesStartingWith<SimLocation>('location-'),
    appointmentTypes: readJsonFile<SimAppointmentType[]>(
      join(UPSTREAM, 'reference', 'appointment-types.json'),
    ),
    templates: readJsonFile<SimTemplate[]>(join(UPSTREAM, 'reference', 'templates.json')),
  };
}

/**
 * Opaque but stable FHIR ids (`patient-<12 hex>`): readable kind, no upstream number, same on every run.
 * The production ref comes from the store's id table; this only has to be deterministic.
 */
export function deterministicRef(kind: SimRefKind, upstreamId: number | string): string {
  const digest = createHash('sha256').update(`demo/${kind}/${upstreamId}`).digest('hex');
  return `${kind.toLowerCase()}-${digest.slice(0, 12)}`;
}

export function fixtureContext(reference: ReferenceData = loadReferenceData()): SimMappingContext {
  return createSimMappingContext({
    tenantId: 'demo',
    practiceZone: 'America/New_York',
    ref: deterministicRef,
    providers: reference.providers,
    locations: reference.locations,
    appointmentTypes: reference.appointmentTypes,
  });
}

/** An upstream appointment of the fixture firm (patient 1042 with provider 1 at location 1), with `overrides`. */
export function simAppointment(overrides: Partial<SimAppointment> = {}): SimAppointment {
  return {
    id: 9001,
    patientId: 1042,
    providerId: 1,
    locationId: 1,
    appointmentTypeId: 1,
    start: '2026-11-24T14:00',
    durationMinutes: 30,
    status: 'scheduled',
    notes: null,
    externalRef: null,
    createdAt: '2026-11-18T10:12:05',
    modifiedAt: '2026-11-18T10:12:05',
    ...overrides,
  };
}
