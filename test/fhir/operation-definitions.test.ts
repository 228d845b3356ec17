import type { Bundle, OperationDefinition, OperationOutcome } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { FhirError } from '../../fhir/operation-outcome.js';
import {
  operationDefinition,
  readOperationInputs,
  readOperationParameters,
  type OperationSpec,
} from '../../fhir/operations/operation-definition.js';
import { BOOKING_OPERATION_DEFINITIONS, bookingCapabilities } from '../../fhir/routes/booking-routes.js';
import { operationDefinitionRoutes } from '../../fhir/routes/operation-definition-routes.js';
import {
  SUBSCRIPTION_OPERATION_DEFINITIONS,
  subscriptionCapabilityResources,
} from '../../fhir/routes/subscription-routes.js';
import { expectValidFhir } from '../support/fhir-validators.js';
import { testStoreFactories } from '../support/test-stores.js';
import { fhirGet, useSyncedFacade } from './support/fhir-http.js';

const ALL = [...BOOKING_OPERATION_DEFINITIONS, ...SUBSCRIPTION_OPERATION_DEFINITIONS];

describe('the OperationDefinitions of the $operations', () => {
  it('are valid R4 OperationDefinitions for both validators, with every parameter documented', () => {
    expect(ALL.map((spec) => spec.code).sort()).toEqual(
      [
        'book',
        'dead-letters',
        'events',
        'find',
        'hold',
        'match',
        'redrive',
        'rotate-secret',
        'status',
      ].sort(),
    );
    for (const spec of ALL) {
      const definition = operationDefinition(spec);
      expectValidFhir(definition);
      expect(definition.kind).toBe('operation');
      for (const parameter of definition.parameter ?? []) {
        expect(parameter.documentation, `${spec.id} ${parameter.name}`).toBeTruthy();
        expect(parameter.use).toMatch(/^(in|out)$/);
      }
    }
  });

  it('are what the CapabilityStatement links, by canonical URL', () => {
    const linked = [
      ...bookingCapabilities.flatMap((c) => c.operations ?? []),
      ...subscriptionCapabilityResources().flatMap((r) => r.operation ?? []),
    ];
    expect(linked.map((o) => o.definition).sort()).toEqual(ALL.map((spec) => spec.url).sort());
    for (const operation of linked) {
      expect(ALL.find((spec) => spec.url === operation.definition)?.code).toBe(operation.name);
    }
  });
});

describe('readOperationInputs', () => {
  const spec: OperationSpec = {
    id: 'test-op',
    url: 'https://example.org/OperationDefinition/test-op',
    name: 'TestOp',
    title: 'Test',
    code: 'test',
    resource: ['Subscription'],
    system: false,
    type: true,
    instance: false,
    affectsState: false,
    description: 'A test operation.',
    parameter: [
      { name: 'needed', use: 'in', min: 1, max: '1', type: 'string', documentation: 'Required.' },
      { name: 'count', use: 'in', min: 0, max: '1', type: 'unsignedInt', documentation: 'A number.' },
      { name: 'many', use: 'in', min: 0, max: '*', type: 'code', documentation: 'Repeats.' },
      { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle', documentation: 'Out.' },
    ],
  };
  const read = (query: Array<[string, string]>, body?: unknown) =>
    readOperationInputs(spec, {
      method: body === undefined ? 'GET' : 'POST',
      query,
      body,
      headers: body === undefined ? {} : { 'content-type': 'application/fhir+json' },
    });
  const failure = (run: () => unknown): { status: number; outcome: OperationOutcome } => {
    try {
      run();
    } catch (error) {
      if (error instanceof FhirError) return { status: error.status, outcome: error.outcome };
      throw error;
    }
    throw new Error('expected a FhirError');
  };

  it('reads the query, then a Parameters body, in order', () => {
    const inputs = read(
      [
        ['needed', 'a'],
        ['many', 'x'],
        ['_format', 'json'],
      ],
      {
        resourceType: 'Parameters',
        parameter: [
          { name: 'many', valueCode: 'y' },
          { name: 'count', valueUnsignedInt: 3 },
        ],
      },
    );
    expect([...inputs]).toEqual([
      ['needed', ['a']],
      ['many', ['x', 'y']],
      ['count', ['3']],
    ]);
  });

  it('answers a 400 naming the parameter: unknown, missing, repeated, or of the wrong type', () => {
    for (const [query, status, code, expression] of [
      [
        [
          ['needed', 'a'],
          ['other', '1'],
        ],
        400,
        'not-supported',
        'other',
      ],
      [[['count', '1']], 400, 'required', 'needed'],
      [
        [
          ['needed', 'a'],
          ['needed', 'b'],
        ],
        400,
        'invalid',
        'needed',
      ],
      [
        [
          ['needed', 'a'],
          ['count', 'ten'],
        ],
        400,
        'value',
        'count',
      ],
      [
        [
          ['needed', 'a'],
          ['return', 'x'],
        ],
        400,
        'not-supported',
        'return',
      ],
    ] as const) {
      const answer = failure(() => read(query.map(([n, v]) => [n, v])));
      expect(answer.status).toBe(status);
      expect(answer.outcome.issue?.[0]?.code).toBe(code);
      expect(answer.outcome.issue?.[0]?.expression).toEqual([expression]);
    }
    const notParameters = failure(() => read([], { resourceType: 'Patient' }));
    expect(notParameters.outcome.issue?.[0]?.expression).toEqual(['resourceType']);
  });
});

describe('readOperationParameters', () => {
  const match = BOOKING_OPERATION_DEFINITIONS.find((spec) => spec.code === 'match') as OperationSpec;
  const patient = { resourceType: 'Patient', name: [{ family: 'Lee' }] };
  const failure = (body: unknown): OperationOutcome => {
    try {
      readOperationParameters(match, body);
    } catch (error) {
      if (error instanceof FhirError && error.status === 400) return error.outcome;
      throw error;
    }
    throw new Error('expected a 400');
  };

  it('keeps the parameters the definition names, in body order, and leaves others out', () => {
    const parameters = readOperationParameters(match, {
      resourceType: 'Parameters',
      parameter: [
        { name: 'count', valueInteger: 3 },
        { name: 'something-else', valueString: 'x' },
        { name: 'resource', resource: patient },
      ],
    });
    expect(parameters.map((p) => p.name)).toEqual(['count', 'resource']);
  });

  it('answers a 400 naming the parameter: missing, repeated, a resource or value of the wrong type', () => {
    const cases: Array<[unknown[], string, string]> = [
      [[{ name: 'count', valueInteger: 3 }], 'required', 'resource'],
      [
        [
          { name: 'resource', resource: patient },
          { name: 'resource', resource: patient },
        ],
        'invalid',
        'resource',
      ],
      [[{ name: 'resource', resource: { resourceType: 'Practitioner' } }], 'invalid', 'resource'],
      [
        [
          { name: 'resource', resource: patient },
          { name: 'onlyCertainMatches', valueString: 'yes' },
        ],
        'invalid',
        'onlyCertainMatches',
      ],
    ];
    for (const [parameter, code, expression] of cases) {
      const issue = failure({ resourceType: 'Parameters', parameter }).issue?.[0];
      expect(issue?.code, expression).toBe(code);
      expect(issue?.expression).toEqual([expression]);
    }
    expect(failure({ resourceType: 'Patient' }).issue?.[0]?.expression).toEqual(['Parameters']);
  });
});

describe.each(testStoreFactories)('OperationDefinition over HTTP ($name)', (factory) => {
  const facade = useSyncedFacade(factory, { routes: () => [operationDefinitionRoutes(ALL)] });

  it('serves each definition at OperationDefinition/{id} without a token, and lists them', async () => {
    for (const spec of ALL) {
      const answer = await fhirGet<OperationDefinition>(facade(), `OperationDefinition/${spec.id}`);
      expect(answer.status, spec.id).toBe(200);
      expect(answer.body).toEqual(operationDefinition(spec));
    }
    const list = await fhirGet<Bundle<OperationDefinition>>(facade(), 'OperationDefinition');
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(ALL.length);
    const one = await fhirGet<Bundle<OperationDefinition>>(
      facade(),
      `OperationDefinition?url=${encodeURIComponent(ALL[0]?.url ?? '')}`,
    );
    expect(one.body.entry?.map((e) => e.resource?.id)).toEqual([ALL[0]?.id]);
    expect((await fhirGet(facade(), 'OperationDefinition/no-such-operation')).status).toBe(404);
  });
});
