import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { capabilityStatement } from '../../fhir/capability-statement.js';
import { SUPPORTED_RESOURCES } from '../../fhir/resources/supported-resources.js';
import { bookingCapabilities } from '../../fhir/routes/booking-routes.js';
import { expectValidFhir } from '../support/fhir-validators.js';
import { testStoreFactories } from '../support/test-stores.js';
import { fhirRequest, useBookingFacade } from '../booking/support/booking-facade.js';

function statement(): CapabilityStatement {
  return capabilityStatement({
    baseUrl: 'http://example.test/fhir/tiny',
    tenantName: 'Tiny',
    softwareVersion: 'test',
    date: '2026-11-20T15:00:00Z',
    resources: SUPPORTED_RESOURCES,
    contributions: bookingCapabilities,
  });
}

const entry = (type: string): CapabilityStatementRestResource =>
  statement().rest?.[0]?.resource?.find((r) => r.type === type) as CapabilityStatementRestResource;

describe('the CapabilityStatement with the booking routes', () => {
  it('stays valid R4 and advertises the writes, conditional create, JSON Patch and the operations by canonical', () => {
    const cs = statement();
    expectValidFhir(cs);
    expect(cs.patchFormat).toEqual(['application/json-patch+json']);
    expect(cs.rest?.[0]?.documentation).toMatch(/Idempotency-Key .*24 hours/);
    const appointment = entry('Appointment');
    expect(appointment.interaction?.map((i) => i.code)).toEqual(
      expect.arrayContaining(['read', 'search-type', 'create', 'update', 'patch']),
    );
    expect(appointment.conditionalCreate).toBe(true);
    expect(appointment.operation).toEqual([
      expect.objectContaining({
        name: 'find',
        definition: 'https://profiles.ihe.net/ITI/Scheduling/OperationDefinition/appointment-find',
      }),
      expect.objectContaining({
        name: 'hold',
        definition: 'https://profiles.ihe.net/ITI/Scheduling/OperationDefinition/appointment-hold',
      }),
      expect.objectContaining({
        name: 'book',
        definition: 'https://profiles.ihe.net/ITI/Scheduling/OperationDefinition/appointment-book',
      }),
    ]);
    const patient = entry('Patient');
    expect(patient.interaction?.map((i) => i.code)).toContain('create');
    expect(patient.operation).toEqual([
      expect.objectContaining({
        name: 'match',
        definition: 'http://hl7.org/fhir/OperationDefinition/Patient-match',
      }),
    ]);
    // Types the booking routes do not write stay read-only.
    expect(entry('Practitioner').interaction?.map((i) => i.code)).not.toContain('create');
  });

  it('leaves the statement as it was without contributions', () => {
    const plain = capabilityStatement({
      baseUrl: 'http://example.test/fhir/tiny',
      tenantName: 'Tiny',
      softwareVersion: 'test',
      date: '2026-11-20T15:00:00Z',
      resources: SUPPORTED_RESOURCES,
    });
    expect(plain.patchFormat).toBeUndefined();
    expect(plain.rest?.[0]?.resource?.find((r) => r.type === 'Appointment')?.operation).toBeUndefined();
  });
});

describe.each(testStoreFactories)(
  'every advertised booking interaction and operation is served ($name)',
  (factory) => {
    const facade = useBookingFacade(factory);

    it('answers each of them (a refusal of an empty request, never 404 or 405)', async () => {
      const h = facade();
      for (const type of ['Appointment', 'Patient']) {
        const advertised = entry(type);
        for (const { code } of advertised.interaction ?? []) {
          const request: Record<string, [string, string, unknown, string?]> = {
            create: ['POST', type, {}],
            update: ['PUT', `${type}/x`, {}],
            patch: ['PATCH', `${type}/x`, [], 'application/json-patch+json'],
          };
          const call = request[code];
          if (!call) continue;
          const answer = await fhirRequest(h, call[0], call[1], { body: call[2], contentType: call[3] });
          expect([400, 422, 428], `${code} ${type}: ${answer.status}`).toContain(answer.status);
        }
        for (const operation of advertised.operation ?? []) {
          const answer = await fhirRequest(h, 'POST', `${type}/$${operation.name}`, {
            body: { resourceType: 'Parameters' },
          });
          expect([400, 422], `${type}/$${operation.name}: ${answer.status}`).toContain(answer.status);
        }
      }
    });
  },
);
