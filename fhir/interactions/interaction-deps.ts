/**
 * What every interaction needs besides its request, and the one wrapper that makes each of them check access
 * before doing anything and write an audit record after (DESIGN.md section 7): every outcome is audited, errors
 * included, and a response is only sent once its audit record is written, so PHI is never returned unaudited.
 */
import type { Logger } from '../../src/logger.js';
import type { AccessControl, AuditSink, FhirRequestContext, Interaction } from '../access.js';
import type { FhirResponse } from '../fhir-request.js';
import { FhirError } from '../operation-outcome.js';
import type { SearchSources } from '../search/search-page.js';

export interface InteractionDeps {
  access: AccessControl;
  audit: AuditSink;
  sources: SearchSources;
  logger: Logger;
  /** `{public base URL}/fhir/{tenant}` for the request's tenant. */
  baseUrl(ctx: FhirRequestContext): string;
}

/** What an interaction answers: a {@link FhirResponse} (without a body for 304 Not Modified). */
export type InteractionResult = FhirResponse;

/** An interaction's answer and what the audit trail keeps of it. */
export interface AuditedResult extends InteractionResult {
  /** Every resource returned (matches and includes). */
  resourceIds: string[];
  /** Names of the parameters used, never their values. */
  parameters?: string[];
}

/** Authorizes `interaction` on `resourceType`, runs it, and audits the outcome whatever it is. */
export async function audited(
  ctx: FhirRequestContext,
  deps: InteractionDeps,
  interaction: Interaction,
  resourceType: string,
  run: () => Promise<AuditedResult>,
): Promise<InteractionResult> {
  let result: AuditedResult;
  try {
    deps.access.authorize(ctx, resourceType, interaction);
    result = await run();
  } catch (error) {
    const status = error instanceof FhirError ? error.status : 500;
    try {
      await deps.audit.record(ctx, { action: interaction, resourceType, resourceIds: [], status });
    } catch (auditError) {
      // The request fails either way; its own error is the one to report.
      deps.logger.error(
        { err: auditError, requestId: ctx.requestId },
        'audit record of a failed request not written',
      );
    }
    throw error;
  }
  await deps.audit.record(ctx, {
    action: interaction,
    resourceType,
    resourceIds: result.resourceIds,
    status: result.status,
    ...(result.parameters ? { parameters: result.parameters } : {}),
  });
  return { status: result.status, body: result.body, headers: result.headers };
}
