/**
 * The actors `$find` is asked about (IHE ITI-115; standards.md 1.4): "practitioner, organization,
 * location-reference, patient-reference are Reference (identifier-based logical references allowed)". A value
 * is a literal reference (`Practitioner/123`, an absolute URL under this server, a bare id) or an identifier
 * (`valueReference.identifier` in the Parameters form, `practitioner:identifier=system|value` or
 * `practitioner.identifier=…` in the GET form). Each is resolved to the ids of the tenant's live resources;
 * one that resolves to nothing is a 422 `not-found` naming it, never a dropped filter — a client asking for one
 * doctor by NPI must never be offered another doctor's times.
 */
import type { Identifier, ResourceType } from '@medplum/fhirtypes';
import { readResource } from '../../src/store/resource-store.js';
import { matchingIds } from '../../src/store/search-query.js';
import type { FhirRequestContext } from '../access.js';
import { parseReference } from '../booking/appointment-input.js';
import { FhirError } from '../operation-outcome.js';

/** One asked-for actor, as given. */
export type ActorValue = { reference: string } | { identifier: Pick<Identifier, 'system' | 'value'> };

/** `system|value` (or a bare value) as an identifier. */
export function identifierOf(token: string): Pick<Identifier, 'system' | 'value'> {
  const bar = token.indexOf('|');
  return bar < 0
    ? { value: token }
    : { system: token.slice(0, bar) || undefined, value: token.slice(bar + 1) };
}

/** How a value is named in errors and in paging links. */
export function describeActor(value: ActorValue): string {
  if ('reference' in value) return value.reference;
  const { system, value: v } = value.identifier;
  return system ? `${system}|${v ?? ''}` : (v ?? '');
}

/**
 * The ids `values` stand for, in order, without repeats; 400 for a value that is no reference of `type`, 422
 * `not-found` (naming it, at `parameter`) for one that names nothing the tenant has.
 */
export async function resolveActors(
  ctx: FhirRequestContext,
  type: 'Practitioner' | 'Location' | 'Patient',
  parameter: string,
  values: readonly ActorValue[],
  base: string,
): Promise<string[]> {
  const ids: string[] = [];
  for (const value of values) {
    const found =
      'reference' in value
        ? await byReference(ctx, type, parameter, value.reference, base)
        : await byIdentifier(ctx, type, parameter, value.identifier);
    if (found.length === 0) {
      throw FhirError.of(422, 'not-found', `${parameter} ${describeActor(value)} names no known ${type}`, {
        expression: parameter,
      });
    }
    for (const id of found) if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}

async function byReference(
  ctx: FhirRequestContext,
  type: string,
  parameter: string,
  value: string,
  base: string,
): Promise<string[]> {
  const ref = parseReference(value, base);
  let id: string;
  if (ref) {
    if (ref.type !== type) throw invalid(parameter, `${parameter} must reference a ${type}`);
    id = ref.id;
  } else if (/^[A-Za-z0-9\-.]{1,64}$/.test(value)) {
    id = value;
  } else {
    throw invalid(parameter, `${parameter} must be a reference like ${type}/{id}, or an identifier`);
  }
  const stored = await readResource(ctx.store, ctx.tenant.id, type as ResourceType, id);
  return stored && !stored.deleted ? [id] : [];
}

function byIdentifier(
  ctx: FhirRequestContext,
  type: string,
  parameter: string,
  identifier: Pick<Identifier, 'system' | 'value'>,
): Promise<string[]> {
  const value = identifier.value?.trim();
  if (!value) throw invalid(parameter, `${parameter}: an identifier needs a value`);
  return matchingIds(
    ctx.store,
    { tenantId: ctx.tenant.id, resourceType: type },
    {
      op: 'token',
      param: 'identifier',
      where: {
        op: 'compare',
        field: 'value',
        comparison: '=',
        value: identifier.system ? `${identifier.system}|${value}` : value,
      },
    },
  );
}

function invalid(parameter: string, text: string): FhirError {
  return FhirError.of(400, 'invalid', text, { expression: parameter });
}
