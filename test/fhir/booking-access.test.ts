import { describe, expect, it } from 'vitest';
import type { AuditRecord, FhirRequestContext } from '../../fhir/access.js';
import { createAccessControl } from '../../fhir/auth-middleware.js';
import { auditedOperation } from '../../fhir/booking/operation-access.js';
import type { InteractionDeps } from '../../fhir/interactions/interaction-deps.js';
import { FhirError } from '../../fhir/operation-outcome.js';
import { createLogger } from '../../src/logger.js';
import { testStoreFactories } from '../support/test-stores.js';
import { expectFailure, fhirRequest, useBookingFacade } from '../booking/support/booking-facade.js';

function depsWith(records: AuditRecord[]): InteractionDeps {
  return {
    access: createAccessControl(),
    audit: {
      record(_ctx, record) {
        records.push(record);
        return Promise.resolve();
      },
    },
    sources: { of: () => [] },
    logger: createLogger('silent'),
    baseUrl: () => 'http://example.test/fhir/tiny',
  };
}

function ctxWith(scopes: string[]): FhirRequestContext {
  return {
    tenant: { id: 'tiny' } as FhirRequestContext['tenant'],
    store: {} as FhirRequestContext['store'],
    client: { id: 'agent', scopes } as unknown as FhirRequestContext['client'],
    requestId: 'r1',
  };
}

describe('operations are authorized by the permissions they document, and audited', () => {
  it('lets $book run with Appointment.cu and audits it as an operation', async () => {
    const records: AuditRecord[] = [];
    const result = await auditedOperation(
      ctxWith(['system/Appointment.cu']),
      depsWith(records),
      'Appointment',
      '$book',
      'cu',
      () => Promise.resolve({ status: 200, resourceIds: ['a1'] }),
    );
    expect(result.status).toBe(200);
    expect(records).toEqual([
      { action: 'operation', resourceType: 'Appointment', resourceIds: ['a1'], status: 200 },
    ]);
  });

  it('refuses $book with only Appointment.rs: 403 insufficient_scope naming system/Appointment.cu, audited', async () => {
    const records: AuditRecord[] = [];
    let ran = false;
    const refused = await auditedOperation(
      ctxWith(['system/Appointment.rs']),
      depsWith(records),
      'Appointment',
      '$book',
      'cu',
      () => {
        ran = true;
        return Promise.resolve({ status: 200, resourceIds: [] });
      },
    ).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FhirError);
    expect((refused as FhirError).status).toBe(403);
    expect((refused as FhirError).headers['WWW-Authenticate']).toContain('system/Appointment.cu');
    expect(ran).toBe(false);
    expect(records).toEqual([
      { action: 'operation', resourceType: 'Appointment', resourceIds: [], status: 403 },
    ]);
  });
});

describe.each(testStoreFactories)('booking routes under the facade’s access control ($name)', (factory) => {
  const facade = useBookingFacade(factory);

  it('refuses every booking write and operation on a type the client may not touch, before doing anything', async () => {
    const h = facade();
    h.access.forbidden.add('Appointment');
    h.access.forbidden.add('Patient');
    const before = h.sync.sim.state('tiny').appointments.length;
    for (const [method, path, body] of [
      ['POST', 'Appointment', { resourceType: 'Appointment' }],
      ['PUT', 'Appointment/x', { resourceType: 'Appointment', id: 'x' }],
      ['POST', 'Appointment/$find', { resourceType: 'Parameters' }],
      ['POST', 'Appointment/$hold', { resourceType: 'Parameters' }],
      ['POST', 'Appointment/$book', { resourceType: 'Parameters' }],
      ['POST', 'Patient', { resourceType: 'Patient' }],
      ['POST', 'Patient/$match', { resourceType: 'Parameters' }],
    ] as const) {
      expectFailure(await fhirRequest(h, method, path, { body }), 403);
    }
    expect(h.sync.sim.state('tiny').appointments).toHaveLength(before);
    expect(h.audit.filter((r) => r.status === 403)).toHaveLength(7);
  });
});
