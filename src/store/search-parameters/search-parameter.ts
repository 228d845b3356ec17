/**
 * The shape of Switchboard's one search-parameter spec (DESIGN.md sections 3 and 8): each parameter declared once
 * with its FHIR type, its canonical definition, the documentation the CapabilityStatement shows, where its values
 * live in the index, and how those values are read from a resource. The store writes the index from it
 * (`index-rows.ts`); the facade's searches and CapabilityStatement read it (`fhir/resources/`). Medplum builds
 * its index rows from the SearchParameter definitions its search reads in the same way.
 *
 * @see https://hl7.org/fhir/R4/search.html
 */
import type { Resource, ResourceType } from '@medplum/fhirtypes';
import type { ResourcesTable } from '../schema.js';

/** FHIR search parameter types this facade implements. */
export type SearchParamType = 'token' | 'string' | 'date' | 'reference';

/** The search columns of one `resources` row, written from {@link ResourceSearchSpec.columns}. */
export type SearchColumns = Pick<
  ResourcesTable,
  | 'period_start'
  | 'period_end'
  | 'status'
  | 'ref_patient'
  | 'ref_practitioner'
  | 'ref_location'
  | 'ref_schedule'
>;

/** Columns of `resources` a search may filter or sort on: its id, last update and search columns. */
export type RowColumn = 'id' | 'last_updated' | keyof SearchColumns;

/**
 * How the search value of a token parameter is normalised before it is compared with stored tokens, as the
 * parameter's extractor normalised what it stored: `phone` keeps digits only, `email` lower-cases, `telecom` does
 * whichever fits.
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
   * Text the store has no tokens for, matched by folding it over the tenant's live rows of this type; only for
   * types with few rows, bounded by the facade's `SCAN_TEXT_MAX_ROWS`.
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
   * Schedule has the Practitioner among its actors).
   */
  | { kind: 'referenced-reference'; column: RowColumn; resourceType: ResourceType; param: string };

/**
 * Token values a resource has for one parameter, in order; `undefined` and `''` are skipped. Method syntax, so a
 * spec of one resource type (taking a `Patient`) is a spec of `Resource` too.
 */
export interface TokenExtractor<T extends Resource> {
  tokens(resource: T): ReadonlyArray<string | undefined>;
}

/** Values indexed in `search_tokens` under `name` that no advertised parameter reads (sorts, codes kept for later). */
export interface IndexedTokens<T extends Resource = Resource> extends TokenExtractor<T> {
  name: string;
}

/** One search parameter, as the CapabilityStatement advertises it, the search engine applies it and the index holds it. */
export interface SearchParamDefinition<T extends Resource = Resource> {
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
  /**
   * The values written to `search_tokens` under the target's `param` (else the parameter's name). Parameters read
   * from a column (`target` `column-token`, `instant`, `period`, `reference-column`) are written by
   * {@link ResourceSearchSpec.columns}, and need tokens only when something else reads them.
   */
  tokens?(resource: T): ReadonlyArray<string | undefined>;
}

/** Everything searchable of one resource type: its parameters, further indexed tokens and its search columns. */
export interface ResourceSearchSpec<T extends Resource = Resource> {
  resourceType: T['resourceType'];
  /** The parameters the facade serves, in CapabilityStatement order. */
  parameters: ReadonlyArray<SearchParamDefinition<T>>;
  /** Tokens indexed for sorts or not (yet) advertised. */
  indexedTokens: ReadonlyArray<IndexedTokens<T>>;
  /** The search columns of a row of this type; those not given are null. */
  columns(resource: T): Partial<SearchColumns>;
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
