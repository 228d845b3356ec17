/**
 * `GET [base]/[type]/[id]/_history/[vid]` (https://hl7.org/fhir/R4/http.html#vread): one version with its ETag
 * and Last-Modified; 404 when the version does not exist, 410 when it is a deletion.
 */
import type { ResourceType } from '@medplum/fhirtypes';
import { readVersion } from '../../src/store/resource-store.js';
import type { FhirRequestContext } from '../access.js';
import { notFound } from '../operation-outcome.js';
import type { ResourceDefinition } from '../resources/resource-definition.js';
import { FHIR_ID } from '../search/search-values.js';
import { audited, type InteractionDeps, type InteractionResult } from './interaction-deps.js';
import { gone } from './read.js';
import { versionHeaders } from './resource-headers.js';

export interface VreadRequest {
  id: string;
  versionId: string;
}

export function vread(
  ctx: FhirRequestContext,
  deps: InteractionDeps,
  definition: ResourceDefinition,
  request: VreadRequest,
): Promise<InteractionResult> {
  const type = definition.type;
  return audited(ctx, deps, 'vread', type, async () => {
    const { id, versionId } = request;
    const what = `${type}/${id}/_history/${versionId}`;
    if (!FHIR_ID.test(id) || !/^[1-9]\d{0,9}$/.test(versionId)) throw notFound(what);
    const stored = await readVersion(ctx.store, ctx.tenant.id, type as ResourceType, id, Number(versionId));
    if (!stored) throw notFound(what);
    if (stored.deleted) throw gone(type, `${id}/_history/${versionId}`);
    return { status: 200, body: stored.resource, headers: versionHeaders(stored), resourceIds: [id] };
  });
}
