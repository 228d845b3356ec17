/**
 * What every FHIR handler knows about the request it serves, and the two seams through which access control and
 * the audit trail reach the facade (DESIGN.md section 7). Implementations: `fhir/auth-middleware.ts` and
 * `src/audit/`; handlers only call these interfaces.
 */
import type { ReferenceData } from '../src/availability/reference-data.js';
import type { ScopedInteraction } from '../src/auth/smart-scopes.js';
import type { ClientConfig, TenantConfig } from '../src/config.js';
import type { Store } from '../src/store/database.js';

/** FHIR interactions as SMART scopes see them: the one union lives in `src/auth/smart-scopes.ts`. */
export type Interaction = ScopedInteraction;

export interface FhirRequestContext {
  tenant: TenantConfig;
  store: Store;
  /** The authenticated client; undefined only for public interactions (`metadata`). */
  client: ClientConfig | undefined;
  /** Correlates log lines and audit records of one request. */
  requestId: string;
  /**
   * The tenant's Schedules and Locations, read (freshness-checked) at most once for this request however many
   * parts of it ask (issue 16); absent where a context is built by hand.
   */
  referenceData?: () => Promise<ReferenceData>;
  /** `FhirRequest.admission`: a request refused by the rate limit leaves no audit record. */
  admission?: Promise<unknown>;
}

export interface AccessControl {
  /** Throws a 403 `insufficient_scope` FhirError unless the client's scopes grant `interaction` on `resourceType`. */
  authorize(ctx: FhirRequestContext, resourceType: string, interaction: Interaction): void;
  /** Whether the client may see resources of this type at all (filters `_include` / `_revinclude`). */
  canRead(ctx: FhirRequestContext, resourceType: string): boolean;
}

/** One PHI access or write, as the audit trail records it: ids and parameter names, never values. */
export interface AuditRecord {
  action: Interaction;
  resourceType: string;
  /** Ids of the resources returned or written (included ones too). */
  resourceIds: string[];
  /** HTTP status of the answer. */
  status: number;
  /** Names of the search parameters used (values may be PHI and are not kept). */
  parameters?: string[];
}

export interface AuditSink {
  record(ctx: FhirRequestContext, record: AuditRecord): Promise<void>;
}
