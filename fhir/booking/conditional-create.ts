/**
 * Conditional create (https://hl7.org/fhir/R4/http.html#ccreate; standards.md 3.4): `If-None-Exist` holds the
 * query part of a search (`identifier=http://sys|123`). No match → create; one → no create, 200 with the match;
 * more → 412. The query is parsed like a search under `Prefer: handling=strict` (an unknown parameter is a 400, as
 * silently ignoring it would widen the condition), and needs at least one criterion.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { FhirRequestContext } from '../access.js';
import type { InteractionDeps } from '../interactions/interaction-deps.js';
import { FhirError } from '../operation-outcome.js';
import type { ResourceDefinition } from '../resources/resource-definition.js';
import { criteriaCondition } from '../search/criteria-builder.js';
import { practiceZone } from '../search/practice-zone.js';
import { searchPage } from '../search/search-page.js';
import { parseSearch } from '../search/search-parser.js';

/** The one resource matching `If-None-Exist`, undefined when there is none (or no header); 412 for several. */
export async function conditionalMatch(
  ctx: FhirRequestContext,
  deps: InteractionDeps,
  definition: ResourceDefinition,
  header: string | undefined,
): Promise<(Resource & { id: string }) | undefined> {
  if (header === undefined) return undefined;
  const query = header.trim().replace(/^\?/, '');
  const params = [...new URLSearchParams(query)].filter(([name]) => !name.startsWith('_'));
  if (params.length === 0) {
    throw FhirError.of(400, 'invalid', 'If-None-Exist needs search criteria, like identifier=system|value', {
      detailCode: 'if-none-exist-invalid',
    });
  }
  const parsed = parseSearch(definition, params, { strict: true });
  const zone = parsed.needsZone ? await practiceZone(ctx) : 'UTC';
  const rows = await searchPage(deps.sources.of(definition.type), {
    ctx,
    definition,
    search: parsed,
    condition: criteriaCondition(parsed.criteria, zone),
    zone,
    sort: parsed.sort,
    position: undefined,
    limit: 2,
  });
  if (rows.length > 1) {
    throw FhirError.of(412, 'multiple-matches', `If-None-Exist matches more than one ${definition.type}`, {
      detailCode: 'if-none-exist-multiple',
    });
  }
  return rows[0]?.resource;
}
