/**
 * `GET [base]/[type]/[id]` (https://hl7.org/fhir/R4/http.html#read): the current version with its ETag and
 * Last-Modified; 404 for an id the tenant never had, 410 for a deleted resource, 304 when `If-None-Match` names
 * the current version. A type with further search sources (computed Slots) is also read from them.
 */
import type { ResourceType } from '@medplum/fhirtypes';
import { readResource } from '../../src/store/resource-store.js';
import type { FhirRequestContext } from '../access.js';
import { FhirError, notFound } from '../operation-outcome.js';
import type { ResourceDefinition } from '../resources/resource-definition.js';
import { FHIR_ID } from '../search/search-values.js';
import { audited, type InteractionDeps, type InteractionResult } from './interaction-deps.js';
import { matchesIfNoneMatch, versionHeaders } from './resource-headers.js';

export interface ReadRequest {
  id: string;
  ifNoneMatch: string | undefined;
}

export function read(
  ctx: FhirRequestContext,
  deps: InteractionDeps,
  definition: ResourceDefinition,
  request: ReadRequest,
): Promise<InteractionResult> {
  const type = definition.type;
  return audited(ctx, deps, 'read', type, async () => {
    const { id } = request;
    if (!FHIR_ID.test(id)) throw notFound(`${type}/${id}`);
    let stored = await readResource(ctx.store, ctx.tenant.id, type as ResourceType, id);
    if (!stored) {
      for (const source of deps.sources.of(type)) {
        const resource = await source.read?.(ctx, id);
        if (resource) return { status: 200, body: resource, resourceIds: [id] };
      }
      // A booking in flight may have committed between the two reads: its appointment is in the store by now.
      stored = await readResource(ctx.store, ctx.tenant.id, type as ResourceType, id);
      if (!stored) throw notFound(`${type}/${id}`);
    }
    if (stored.deleted) throw gone(type, id);
    const headers = versionHeaders(stored);
    if (matchesIfNoneMatch(request.ifNoneMatch, stored.versionId))
      return { status: 304, headers, resourceIds: [id] };
    return { status: 200, body: stored.resource, headers, resourceIds: [id] };
  });
}

/** 410 Gone: the resource existed and was deleted (https://hl7.org/fhir/R4/http.html#read). */
export function gone(type: string, id: string): FhirError {
  return FhirError.of(410, 'deleted', `${type}/${id} has been deleted`);
}
