/** Capabilities of an upstream FHIR server from configuration and its CapabilityStatement (issue 12 item 2). */
import type { CapabilityStatement } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { resolveCapabilities } from '../../../src/connectors/fhir/fhir-capabilities.js';

const statement = (types: string[]): CapabilityStatement => ({
  resourceType: 'CapabilityStatement',
  status: 'active',
  date: '2026-11-20',
  kind: 'instance',
  fhirVersion: '4.0.1',
  format: ['json'],
  rest: [{ mode: 'server', resource: types.map((type) => ({ type: type as 'Slot' })) }],
});

describe('FHIR upstream capabilities', () => {
  it('computes availability from hours only for a server that lists no Slot and working hours to use', () => {
    const noSlots = statement(['Appointment', 'Schedule']);
    expect(resolveCapabilities({}, noSlots, { workingHoursConfigured: true }).availability).toBe('hours');
    // Without hours there is nothing to compute from: Slots are tried (and the operator told by the failures).
    expect(resolveCapabilities({}, noSlots, { workingHoursConfigured: false }).availability).toBe('slots');
    expect(
      resolveCapabilities({}, statement(['Appointment', 'Slot']), { workingHoursConfigured: true })
        .availability,
    ).toBe('slots');
    // A hidden statement says nothing; configuration always wins.
    expect(resolveCapabilities({}, undefined, { workingHoursConfigured: true }).availability).toBe('slots');
    expect(
      resolveCapabilities({ availability: 'hours' }, statement(['Slot']), { workingHoursConfigured: true })
        .availability,
    ).toBe('hours');
  });
});
