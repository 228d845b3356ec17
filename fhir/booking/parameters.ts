/**
 * Values of the `Parameters` bodies of operations (https://hl7.org/fhir/R4/parameters.html) as plain values.
 * Names, cardinality and types are checked first, against each operation's OperationDefinition
 * (`readOperationParameters` of fhir/operations/operation-definition.ts); errors are 400s whose `expression`
 * names the parameter.
 */
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { FhirError } from '../operation-outcome.js';

/** The parameters of a `Parameters` body; 400 for anything else. */
export function parametersOf(body: unknown): ParametersParameter[] {
  if (
    typeof body !== 'object' ||
    body === null ||
    (body as { resourceType?: unknown }).resourceType !== 'Parameters'
  ) {
    throw FhirError.of(400, 'invalid', 'the body must be a Parameters resource', {
      expression: 'Parameters',
    });
  }
  const parameters = (body as Parameters).parameter ?? [];
  if (!Array.isArray(parameters)) {
    throw FhirError.of(400, 'structure', 'Parameters.parameter must be an array', {
      expression: 'Parameters.parameter',
    });
  }
  return parameters;
}

/** Every parameter called one of `names`, in order. */
export function named(parameters: readonly ParametersParameter[], ...names: string[]): ParametersParameter[] {
  return parameters.filter((p) => typeof p.name === 'string' && names.includes(p.name));
}

/** The only parameter called one of `names`, if any; 400 when there are several. */
export function single(
  parameters: readonly ParametersParameter[],
  ...names: string[]
): ParametersParameter | undefined {
  const found = named(parameters, ...names);
  if (found.length > 1) {
    throw FhirError.of(400, 'invalid', `${names[0]} may be given once`, { expression: names[0] });
  }
  return found[0];
}

/** A parameter's value as text: string-like types, a Reference's `reference`, a Coding as `system|code`. */
export function textValue(parameter: ParametersParameter | undefined): string | undefined {
  if (!parameter) return undefined;
  const p = parameter;
  const text =
    p.valueString ??
    p.valueUri ??
    p.valueUrl ??
    p.valueCanonical ??
    p.valueCode ??
    p.valueId ??
    p.valueDateTime ??
    p.valueInstant ??
    p.valueDate ??
    p.valueReference?.reference ??
    (p.valueCoding?.code !== undefined
      ? `${p.valueCoding.system ? `${p.valueCoding.system}|` : ''}${p.valueCoding.code}`
      : undefined) ??
    (p.valueInteger !== undefined ? String(p.valueInteger) : undefined) ??
    (p.valuePositiveInt !== undefined ? String(p.valuePositiveInt) : undefined) ??
    (p.valueBoolean !== undefined ? String(p.valueBoolean) : undefined);
  return typeof text === 'string' ? text : undefined;
}

/** A CodeableConcept-valued parameter as `system|code` tokens; other values as one token. */
export function tokenValues(parameter: ParametersParameter): string[] {
  if (parameter.valueCodeableConcept) {
    return (parameter.valueCodeableConcept.coding ?? []).flatMap((c) =>
      c.code ? [`${c.system ? `${c.system}|` : ''}${c.code}`] : [],
    );
  }
  const text = textValue(parameter);
  return text === undefined ? [] : [text];
}
