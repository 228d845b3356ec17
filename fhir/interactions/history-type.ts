/**
 * `GET [base]/[type]/_history` (https://hl7.org/fhir/R4/http.html#history): every version of every resource of
 * the type, newest first, deletions included, keyset-paged.
 */
import type { FhirRequestContext } from '../access.js';
import type { ResourceDefinition } from '../resources/resource-definition.js';
import { historyResult, parseHistoryParams } from '../search/history-query.js';
import { practiceZone } from '../search/practice-zone.js';
import { audited, type InteractionDeps, type InteractionResult } from './interaction-deps.js';

export interface TypeHistoryRequest {
  params: ReadonlyArray<readonly [string, string]>;
  strict: boolean;
}

export function historyType(
  ctx: FhirRequestContext,
  deps: InteractionDeps,
  definition: ResourceDefinition,
  request: TypeHistoryRequest,
): Promise<InteractionResult> {
  const type = definition.type;
  return audited(ctx, deps, 'history-type', type, async () => {
    const zone = request.params.some(([name]) => name === '_since') ? await practiceZone(ctx) : 'UTC';
    const params = parseHistoryParams(request.params, { strict: request.strict, zone: () => zone });
    const { bundle, resourceIds } = await historyResult(
      { ctx, resourceType: type },
      params,
      deps.baseUrl(ctx),
      `${type}/_history`,
    );
    return { status: 200, body: bundle, resourceIds, parameters: params.parameterNames };
  });
}
