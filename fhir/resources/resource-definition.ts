/**
 * What the facade knows about one resource type: the interactions it serves, its search parameters (taken from
 * the one search-parameter spec the index is written from, `src/store/search-parameters/`), its sort keys and its
 * `_include` / `_revinclude` paths. The router, the search engine and the CapabilityStatement are all generated
 * from these definitions, so what the server advertises is what it does (reliability.md section 3, API9).
 *
 * @see https://hl7.org/fhir/R4/search.html
 */
import type { Reference, Resource, ResourceType } from '@medplum/fhirtypes';
import type { SearchParamDefinition } from '../../src/store/search-parameters/search-parameter.js';
import type { SortExpression } from '../../src/store/search-query.js';

/** Interactions as the CapabilityStatement names them (`CapabilityStatement.rest.resource.interaction.code`). */
export type TypeInteraction = 'read' | 'vread' | 'search-type' | 'history-instance' | 'history-type';

export type {
  ParamTarget,
  RowColumn,
  SearchParamDefinition,
  SearchParamType,
  TokenNormaliser,
} from '../../src/store/search-parameters/search-parameter.js';

export type { SortExpression } from '../../src/store/search-query.js';

/** A `_sort` parameter: one or more sort expressions, compared in turn. */
export interface SortDefinition {
  name: string;
  expressions: readonly SortExpression[];
}

/** An `_include` path (`Appointment:patient`): where references of a matched resource are found. */
export interface IncludeDefinition {
  /** The search parameter name (`patient`). */
  name: string;
  /** Resource types an included resource may have. */
  targetTypes: readonly ResourceType[];
  /** The literal references of `resource` this path follows. */
  references(resource: Resource): Array<Reference | undefined>;
}

/** A `_revinclude` path (`Slot:schedule` on a Schedule search): resources of `sourceType` that refer to a match. */
export interface RevIncludeDefinition {
  sourceType: ResourceType;
  /** A reference search parameter of `sourceType` pointing at this type. */
  param: string;
}

/** Everything the facade serves for one resource type. */
export interface ResourceDefinition {
  type: ResourceType;
  /** Why a client would use it; `CapabilityStatement.rest.resource.documentation`. */
  documentation: string;
  interactions: readonly TypeInteraction[];
  searchParams: readonly SearchParamDefinition[];
  sorts: readonly SortDefinition[];
  /** The sort when `_sort` is absent. */
  defaultSort: readonly SortedBy[];
  includes: readonly IncludeDefinition[];
  revIncludes: readonly RevIncludeDefinition[];
  /**
   * Top-level elements kept by `_summary=true`: the R4 summary elements plus the mandatory ones (a summary must
   * stay a valid resource), as the R4 StructureDefinition marks them.
   */
  summaryElements: readonly string[];
  /** Top-level elements with a minimum cardinality of 1; `_elements` and `_summary` always keep them. */
  mandatoryElements: readonly string[];
}

/** One entry of a sort order. */
export interface SortedBy {
  sort: SortDefinition;
  descending: boolean;
}

/** The search parameter called `name` of `definition`, if it has one. */
export function searchParamOf(
  definition: ResourceDefinition,
  name: string,
): SearchParamDefinition | undefined {
  return definition.searchParams.find((p) => p.name === name);
}
