/**
 * Every `$operation` of the facade carries its OperationDefinition (https://hl7.org/fhir/R4/operationdefinition.html)
 * as data: served at `OperationDefinition/{id}`, linked from the CapabilityStatement by its canonical `url`, and
 * the source from which {@link readOperationInputs} reads and checks a request's inputs (names, cardinality,
 * primitive types), so what an operation accepts and what it advertises cannot drift apart.
 */
import type {
  OperationDefinition,
  OperationDefinitionParameter,
  Parameters,
  ParametersParameter,
} from '@medplum/fhirtypes';
import { parametersOf } from '../booking/parameters.js';
import type { FhirRequest } from '../fhir-request.js';
import { FhirError } from '../operation-outcome.js';
import { optionalResourceBody } from '../subscriptions/request-body.js';

/** Base of the canonical URLs of Switchboard's own operations. */
export const SWITCHBOARD_OPERATIONS = 'https://switchboard.health/fhir/OperationDefinition/';

/** One parameter as written in an operation file; `documentation` is required so every input is explained. */
export interface OperationParameterSpec {
  name: string;
  use: 'in' | 'out';
  min: number;
  /** `'1'`, `'*'` or another whole number as text. */
  max: string;
  /** A FHIR data type or resource type; absent for a parameter made of `part`s. */
  type?: string;
  searchType?: OperationDefinitionParameter['searchType'];
  documentation: string;
  part?: readonly OperationParameterSpec[];
}

/** An OperationDefinition as written in an operation file. */
export interface OperationSpec {
  id: string;
  url: string;
  name: string;
  title: string;
  code: string;
  resource: readonly string[];
  system: boolean;
  type: boolean;
  instance: boolean;
  /** Whether the operation changes anything (`affectsState`): then it is POST only. */
  affectsState: boolean;
  description: string;
  /** Canonical this definition narrows (the IHE or backport original), if any. */
  base?: string;
  parameter: readonly OperationParameterSpec[];
}

/** The OperationDefinition resource of `spec`, as served. */
export function operationDefinition(spec: OperationSpec): OperationDefinition {
  return {
    resourceType: 'OperationDefinition',
    id: spec.id,
    url: spec.url,
    name: spec.name,
    title: spec.title,
    status: 'active',
    kind: 'operation',
    publisher: 'Switchboard',
    description: spec.description,
    affectsState: spec.affectsState,
    code: spec.code,
    ...(spec.base ? { base: spec.base } : {}),
    resource: [...spec.resource] as OperationDefinition['resource'],
    system: spec.system,
    type: spec.type,
    instance: spec.instance,
    parameter: spec.parameter.map(definitionParameter),
  };
}

function definitionParameter(spec: OperationParameterSpec): OperationDefinitionParameter {
  return {
    name: spec.name,
    use: spec.use,
    min: spec.min,
    max: spec.max,
    documentation: spec.documentation,
    ...(spec.type ? { type: spec.type as OperationDefinitionParameter['type'] } : {}),
    ...(spec.searchType ? { searchType: spec.searchType } : {}),
    ...(spec.part ? { part: spec.part.map(definitionParameter) } : {}),
  };
}

/** The CapabilityStatement entry of an operation: its code and canonical. */
export function capabilityOperation(
  spec: OperationSpec,
  documentation?: string,
): { name: string; definition: string; documentation?: string } {
  return { name: spec.code, definition: spec.url, ...(documentation ? { documentation } : {}) };
}

/** Primitive types whose text form is checked here; others are taken as they come. */
const PRIMITIVE_FORMS: Readonly<Record<string, RegExp>> = {
  integer: /^-?\d{1,10}$/,
  unsignedInt: /^\d{1,10}$/,
  positiveInt: /^\d{1,10}$/,
  boolean: /^(true|false)$/,
};

/**
 * The `in` parameters of a request (https://hl7.org/fhir/R4/operations.html#request): the query string, then the
 * `Parameters` body of a POST, each value in its text form. Checked against `spec`: an unknown name, a value of
 * the wrong primitive type, a parameter given more often than `max` or less than `min` is a 400 whose
 * `expression` names the parameter. `_format` and `_pretty` belong to HTTP and are skipped. `only` narrows the
 * accepted names (R4 cannot say that a parameter is for the type-level call only).
 */
export function readOperationInputs(
  spec: OperationSpec,
  request: Pick<FhirRequest, 'method' | 'query' | 'body' | 'headers'>,
  options: { only?: readonly string[] } = {},
): Map<string, string[]> {
  const inputs = spec.parameter.filter(
    (p) => p.use === 'in' && (options.only === undefined || options.only.includes(p.name)),
  );
  const known = inputs.map((p) => p.name);
  const values = new Map<string, string[]>();
  const add = (name: string, value: string) => {
    if (name === '_format' || name === '_pretty') return;
    if (!known.includes(name)) {
      throw FhirError.of(
        400,
        'not-supported',
        `unknown parameter ${name}; this operation takes ${known.length > 0 ? known.join(', ') : 'none'}`,
        { expression: name },
      );
    }
    values.set(name, [...(values.get(name) ?? []), value]);
  };
  for (const [name, value] of request.query) add(name, value);
  const body =
    request.method === 'POST' ? optionalResourceBody<Parameters>(request, 'Parameters') : undefined;
  for (const parameter of body?.parameter ?? []) add(parameter.name, primitiveValue(parameter));
  for (const parameter of inputs) {
    const given = values.get(parameter.name) ?? [];
    if (given.length < parameter.min) {
      throw FhirError.of(400, 'required', `${parameter.name} is required`, { expression: parameter.name });
    }
    if (parameter.max !== '*' && given.length > Number(parameter.max)) {
      const times = parameter.max === '1' ? 'only once' : `at most ${parameter.max} times`;
      throw FhirError.of(400, 'invalid', `${parameter.name} may be given ${times}`, {
        expression: parameter.name,
      });
    }
    const form = parameter.type ? PRIMITIVE_FORMS[parameter.type] : undefined;
    if (form && given.some((value) => !form.test(value))) {
      throw FhirError.of(400, 'value', `${parameter.name} must be a valid ${parameter.type ?? ''}`, {
        expression: parameter.name,
      });
    }
  }
  return values;
}

/** How a `Parameters` entry carries a value of these declared types; other types are taken as they come. */
const VALUE_OF: Readonly<Record<string, (p: ParametersParameter) => unknown>> = {
  boolean: (p) => p.valueBoolean,
  integer: (p) => p.valueInteger ?? p.valuePositiveInt ?? p.valueUnsignedInt,
  string: (p) => p.valueString,
};

/**
 * The `in` parameters of a `Parameters` body that `spec` defines, in body order, checked: a body that is not
 * Parameters, a required parameter missing, one given more often than `max`, or a value not of the declared type
 * (a resource of another type; a boolean or integer of none) is a 400 whose `expression` names it. Names `spec`
 * does not define are left out, as operations of IHE and R4 tolerate inputs they do not use.
 */
export function readOperationParameters(spec: OperationSpec, body: unknown): ParametersParameter[] {
  const inputs = new Map(spec.parameter.filter((p) => p.use === 'in').map((p) => [p.name, p]));
  const given = parametersOf(body).filter((p) => typeof p.name === 'string' && inputs.has(p.name));
  for (const parameter of inputs.values()) {
    const values = given.filter((p) => p.name === parameter.name);
    const { name, type = '' } = parameter;
    if (values.length < parameter.min) {
      throw FhirError.of(400, 'required', `${name} is required`, { expression: name });
    }
    if (parameter.max !== '*' && values.length > Number(parameter.max)) {
      throw FhirError.of(400, 'invalid', `${name} may be given only once`, { expression: name });
    }
    const valueOf = VALUE_OF[type];
    const isResource = /^[A-Z]/.test(type) && !DATA_TYPES.has(type);
    for (const value of values) {
      if (isResource && value.resource?.resourceType !== type) {
        throw FhirError.of(400, 'invalid', `${name} must be a ${type} resource`, { expression: name });
      }
      if (valueOf && valueOf(value) === undefined) {
        throw FhirError.of(400, 'invalid', `${name} must be a${type === 'integer' ? 'n' : ''} ${type}`, {
          expression: name,
        });
      }
    }
  }
  return given;
}

/** Complex data types an operation parameter may have (https://hl7.org/fhir/R4/datatypes.html); the rest are resources. */
const DATA_TYPES = new Set([
  'Address',
  'Attachment',
  'CodeableConcept',
  'Coding',
  'ContactPoint',
  'HumanName',
  'Identifier',
  'Period',
  'Quantity',
  'Reference',
]);

function primitiveValue(parameter: ParametersParameter): string {
  const value =
    parameter.valueString ??
    parameter.valueCode ??
    parameter.valueId ??
    parameter.valueUri ??
    parameter.valueCanonical ??
    parameter.valueInteger ??
    parameter.valueUnsignedInt ??
    parameter.valuePositiveInt ??
    parameter.valueDecimal;
  if (value === undefined) {
    throw FhirError.of(400, 'invalid', `parameter ${parameter.name} needs a primitive value`, {
      expression: parameter.name,
    });
  }
  return String(value);
}

/** An `in` parameter of an {@link OperationSpec}. */
export function inParameter(
  name: string,
  cardinality: `${number}..${string}`,
  type: string,
  documentation: string,
): OperationParameterSpec {
  const [min = '0', max = '1'] = cardinality.split('..');
  return { name, use: 'in', min: Number(min), max, type, documentation };
}

/** An `out` parameter of an {@link OperationSpec}; `type` undefined for one made of `part`s. */
export function outParameter(
  name: string,
  cardinality: `${number}..${string}`,
  type: string | undefined,
  documentation: string,
  part?: readonly OperationParameterSpec[],
): OperationParameterSpec {
  const [min = '0', max = '1'] = cardinality.split('..');
  return {
    name,
    use: 'out',
    min: Number(min),
    max,
    documentation,
    ...(type ? { type } : {}),
    ...(part ? { part } : {}),
  };
}
