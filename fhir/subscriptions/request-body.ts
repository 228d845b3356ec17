/**
 * The bodies the Subscription endpoints accept (https://hl7.org/fhir/R4/http.html#mime-type): a FHIR JSON
 * resource, already read and bounded by the facade's JSON body parser. Another media type is a 415, a missing
 * body or one of the wrong resource type a 400.
 */
import { validateWrite } from '../write-validation.js';
import type { Resource } from '@medplum/fhirtypes';
import { bodyIs, hasContent, type FhirRequest } from '../fhir-request.js';
import { FhirError } from '../operation-outcome.js';

const JSON_TYPES = ['application/fhir+json', 'application/json'];

/** The body as a resource of `resourceType`, or undefined when the request has none. */
export function optionalResourceBody<T extends Resource>(
  request: Pick<FhirRequest, 'headers' | 'body'>,
  resourceType: T['resourceType'],
): T | undefined {
  const body: unknown = request.body;
  if (body === undefined || body === null) {
    // The JSON parser leaves the body alone when it has another media type.
    if (hasContent(request) && bodyIs(request, JSON_TYPES) === false) {
      throw FhirError.of(415, 'not-supported', `send the ${resourceType} as application/fhir+json`);
    }
    return undefined;
  }
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw FhirError.of(400, 'invalid', `the request body must be a ${resourceType} resource`);
  }
  const type = (body as { resourceType?: unknown }).resourceType;
  if (type !== resourceType) {
    throw FhirError.of(
      400,
      'invalid',
      `the request body must be a ${resourceType} resource, not ${typeof type === 'string' ? type : 'something without a resourceType'}`,
      { expression: 'resourceType' },
    );
  }
  return body as T;
}

/** The body as a resource of `resourceType`; a 400 when there is none. */
export function resourceBody<T extends Resource>(request: FhirRequest, resourceType: T['resourceType']): T {
  const resource = optionalResourceBody<T>(request, resourceType);
  if (!resource) throw FhirError.of(400, 'required', `the request needs a ${resourceType} resource body`);
  validateWrite(resource);
  return resource;
}

/** The one value of `name` (of `readOperationInputs` in fhir/operations/operation-definition.ts), or undefined; a 400 when it was given more than once. */
export function singleInput(inputs: Map<string, string[]>, name: string): string | undefined {
  const values = inputs.get(name) ?? [];
  if (values.length > 1)
    throw FhirError.of(400, 'invalid', `${name} may be given only once`, { expression: name });
  return values[0];
}

/** Every value of `name`, comma-separated lists split (query-string style). */
export function listInput(inputs: Map<string, string[]>, name: string): string[] | undefined {
  const values = inputs.get(name);
  return values?.flatMap((v) => v.split(',')).map((v) => v.trim());
}

/** A non-negative integer input (`eventsSinceNumber`), or undefined. */
export function integerInput(
  inputs: Map<string, string[]>,
  name: string,
  max = 2 ** 31 - 1,
): number | undefined {
  const value = singleInput(inputs, name);
  if (value === undefined) return undefined;
  if (!/^\d{1,10}$/.test(value) || Number(value) > max) {
    throw FhirError.of(400, 'value', `${name} must be a whole number from 0 to ${max}`, { expression: name });
  }
  return Number(value);
}
