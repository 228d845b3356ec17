/**
 * `GET [base]/[type]/[id]/_history` (https://hl7.org/fhir/R4/http.html#history): every version of one resource,
 * newest first, deletions included; 404 for an id the tenant never had.
 */
import type { ResourceType } from '@medplum/fhirtypes';
import { readResource } from '../../src/store/resource-store.js';
import type { FhirRequestContext } from '../access.js';
import { notFound } from '../operation-outcome.js';
import type { ResourceDefinition } from '../resources/resource-definition.js';
import { historyResult, parseHistoryParams } from '../search/history-query.js';
import { practiceZone } from '../search/practice-zone.js';
import { FHIR_ID } from '../search/search-values.js';
import { audited, type InteractionDeps, type InteractionResult } from './interaction-deps.js';

export interface InstanceHistoryRequest {
  id: string;
  params: ReadonlyArray<readonly [string, string]>;
  strict: boolean;
}

export function historyInstance(
  ctx: FhirRequestContext,
  deps: InteractionDeps,
  definition: ResourceDefinition,
  request: InstanceHistoryRequest,
): Promise<InteractionResult> {
  const type = definition.type;
  return audited(ctx, deps, 'history-instance', type, async () => {
    const { id } = request;
    if (!FHIR_ID.test(id) || !(await readResource(ctx.store, ctx.tenant.id, type as ResourceType, id)))
      throw notFound(`${type}/${id}`);
    const zone = request.params.some(([name]) => name === '_since') ? await practiceZone(ctx) : 'UTC';
    const params = parseHistoryParams(request.params, { strict: request.strict, zone: () => zone });
    const { bundle, resourceIds } = await historyResult(
      { ctx, resourceType: type, id },
      params,
      deps.baseUrl(ctx),
      `${type}/${encodeURIComponent(id)}/_history`,
    );
    return { status: 200, body: bundle, resourceIds, parameters: params.parameterNames };
  });
}
