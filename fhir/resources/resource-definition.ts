/**
 * What the facade knows about one resource type: the interactions it serves, its search parameters and how each
 * maps onto the store (columns of `resources`, rows of `search_tokens`), its sort keys and its `_include` /
 * `_revinclude` paths. The router, the search engine and the CapabilityStatement are all generated from these
 * definitions, so what the server advertises is what it does (reliability.md section 3, API9).
 *
 * @see https://hl7.org/fhir/R4/search.html
 */
import type { Reference, Resource, ResourceType } from '@medplum/fhirtypes';

/** Interactions as the CapabilityStatement names them (`CapabilityStatement.rest.resource.interaction.code`). */
export type TypeInteraction = 'read' | 'vread' | 'search-type' | 'history-instance' | 'history-type';

/** FHIR search parameter types this facade implements. */
export type SearchParamType = 'token' | 'string' | 'date' | 'reference';

/** Columns of `resources` a search may filter or sort on. */
export type RowColumn =
  | 'id'
  | 'last_updated'
  | 'period_start'
  | 'period_end'
  | 'status'
  | 'ref_patient'
  | 'ref_practitioner'
  | 'ref_location'
  | 'ref_schedule';

/**
 * How the search value of a token parameter is normalised before it is compared with stored tokens, mirroring
 * `src/store/search-tokens.ts`: `phone` keeps digits only, `email` lower-cases, `telecom` does whichever fits.
 */
export type TokenNormaliser = 'none' | 'phone' | 'email' | 'telecom';

/** Where a search parameter's values live in the store. */
export type ParamTarget =
  /** `Resource.id`. */
  | { kind: 'id' }
  /** Token rows `system|code` and `code` of `search_tokens` under `param`. */
  | { kind: 'token'; param: string; normalise: TokenNormaliser; implicitSystem?: string }
  /** A code held in a column, from a value set with one system (`Appointment.status`). */
  | {
      kind: 'column-token';
      column: RowColumn;
      /** The code system of every stored code; undefined for booleans, which have none. */
      system?: string;
      /** The stored form of a searched code (`true` → `active`); undefined: the code cannot match. */
      toStored?: (code: string) => string | undefined;
      /** Codes accepted; others are a 400 (a boolean parameter given `maybe`). */
      codes?: readonly string[];
    }
  /** Folded (case- and accent-insensitive) text tokens of `search_tokens` under `param`. */
  | { kind: 'text'; param: string }
  /**
   * Text the store has no tokens for, matched by folding it here over the tenant's live rows of this type; only
   * for types with few rows (Location), bounded by `SCAN_TEXT_MAX_ROWS`.
   */
  | { kind: 'scan-text'; extract: (resource: Resource) => string[] }
  /** An instant in a column (`Appointment.start`, `meta.lastUpdated`): a point in time. */
  | { kind: 'instant'; column: RowColumn }
  /** A Period in two columns; a missing start or end is open-ended. */
  | { kind: 'period'; start: RowColumn; end: RowColumn }
  /** A calendar date (`YYYY-MM-DD`) in `search_tokens` under `param` (`Patient.birthDate`). */
  | { kind: 'date-token'; param: string }
  /** References as `Type/id` rows of `search_tokens` under `param`. */
  | { kind: 'reference-token'; param: string }
  /** A reference to one type whose id is held in a column (`Slot.schedule` → `ref_schedule`). */
  | { kind: 'reference-column'; column: RowColumn }
  /**
   * A reference the store has neither column nor tokens for, matched as the exact relative reference text
   * `"reference":"Type/{id}"` inside the stored JSON.
   */
  | { kind: 'reference-json' }
  /**
   * A reference held by the resource another one refers to: the row's `column` holds the id of a `resourceType`
   * resource whose `Type/id` reference tokens under `param` include the value (Slot `practitioner`: the Slot's
   * Schedule has the Practitioner among its actors). In-memory sources resolve it first (`referenced-rows.ts`).
   */
  | { kind: 'referenced-reference'; column: RowColumn; resourceType: ResourceType; param: string };

/** One search parameter, as the CapabilityStatement advertises it and the search engine applies it. */
export interface SearchParamDefinition {
  /** The parameter's code (`birthdate`). */
  name: string;
  type: SearchParamType;
  /** Canonical URL of the R4 SearchParameter it implements. */
  definition: string;
  /** What it matches, for `CapabilityStatement.rest.resource.searchParam.documentation`. */
  documentation: string;
  target: ParamTarget;
  /** Reference parameters: the resource types the reference may point at. */
  targetTypes?: readonly ResourceType[];
}

/** A sort key: a `resources` column, or the one token of a parameter that sorts a resource (its longest name). */
export type SortExpression =
  { kind: 'column'; column: RowColumn } | { kind: 'token'; param: string; pick: 'longest' | 'lowest' };

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

/** Canonical URL of an R4 SearchParameter by its id (`Patient-name`). */
export function r4SearchParameter(id: string): string {
  return `http://hl7.org/fhir/SearchParameter/${id}`;
}

/**
 * Canonical URL of a search parameter Switchboard defines itself (Slot `practitioner`), for parameters R4 lacks;
 * the CapabilityStatement's documentation of each says what it matches.
 */
export function switchboardSearchParameter(id: string): string {
  return `https://switchboard.health/fhir/SearchParameter/${id}`;
}
