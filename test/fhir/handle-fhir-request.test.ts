import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import type { FhirRequest } from '../../fhir/fhir-request.js';
import { expectValidFhir } from '../support/fhir-validators.js';
import { testStoreFactories } from '../support/test-stores.js';
import { useSyncedFacade } from './support/fhir-http.js';

// The facade without HTTP: what another transport in the process (the agent interface) calls.
describe.each(testStoreFactories)('handleFhirRequest without HTTP ($name)', (factory) => {
  const facade = useSyncedFacade(factory);
  const request = (path: string, query: Array<[string, string]> = []): FhirRequest => ({
    method: 'GET',
    tenant: facade().tenant,
    path,
    query,
    headers: {},
    client: { id: 'agent', tokenSha256: '', scopes: ['system/*.rs'], tenants: [facade().tenant] },
    requestId: 'agent-request-1',
  });

  it('searches: a searchset Bundle, audited under the request id', async () => {
    const f = facade();
    const response = await f.handler.handleFhirRequest(request('Patient', [['name', 'lee']]));
    expect(response.status).toBe(200);
    expect(response.headers?.['X-Request-Id']).toBe('agent-request-1');
    const bundle = response.body as Bundle<Patient>;
    expectValidFhir(bundle);
    expect(bundle.type).toBe('searchset');
    expect(bundle.entry?.map((e) => e.resource?.name?.[0]?.family)).toContain('Lee');
    expect(f.audit.at(-1)).toMatchObject({ action: 'search', resourceType: 'Patient', status: 200 });
  });

  it('reads: the resource with its ETag, the same as over HTTP', async () => {
    const f = facade();
    const search = await f.handler.handleFhirRequest(request('Patient', [['name', 'lee']]));
    const patient = (search.body as Bundle<Patient>).entry?.[0]?.resource as Patient;
    const response = await f.handler.handleFhirRequest(request(`Patient/${patient.id}`));
    expect(response.status).toBe(200);
    expect(response.headers?.ETag).toBe('W/"1"');
    expect(response.body).toEqual(patient);
    const overHttp = await fetch(`${f.base}/Patient/${patient.id}`);
    expect(await overHttp.json()).toEqual(response.body);
  });

  it('answers errors as OperationOutcome responses, never by throwing', async () => {
    const f = facade();
    const unknownId = await f.handler.handleFhirRequest(request('Patient/no-such-patient'));
    expect(unknownId.status).toBe(404);
    expect((unknownId.body as OperationOutcome).issue?.[0]?.code).toBe('not-found');
    expect(unknownId.headers?.['X-Request-Id']).toBe('agent-request-1');

    const unknownType = await f.handler.handleFhirRequest(request('Medication'));
    expect(unknownType.status).toBe(404);
    expect((unknownType.body as OperationOutcome).issue?.[0]?.code).toBe('not-supported');

    const badParameter = await f.handler.handleFhirRequest({
      ...request('Patient', [['birthdate', 'not-a-date']]),
      headers: { prefer: 'handling=strict' },
    });
    expect(badParameter.status).toBe(400);
    expectValidFhir(badParameter.body as OperationOutcome);

    const otherTenant = await f.handler.handleFhirRequest({
      ...request('Patient'),
      client: { id: 'elsewhere', tokenSha256: '', scopes: ['system/*.rs'], tenants: ['other'] },
    });
    expect(otherTenant.status).toBe(404);

    f.access.forbidden.add('Practitioner');
    try {
      const forbidden = await f.handler.handleFhirRequest(request('Practitioner'));
      expect(forbidden.status).toBe(403);
      expect(f.audit.at(-1)).toMatchObject({ action: 'search', resourceType: 'Practitioner', status: 403 });
    } finally {
      f.access.forbidden.delete('Practitioner');
    }
  });
});
