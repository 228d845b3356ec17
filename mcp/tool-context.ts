/**
 * What every tool call gets: the tenant and the authenticated client of the MCP request, the facade as a
 * {@link FhirCaller}, the clock, and the check that the client holds the scopes of the FHIR interactions the tool
 * performs (issue 13: "each tool requires the scopes of the FHIR interactions it performs"). The check runs before
 * the tool does anything, so a refusal is one clear tool error naming the missing scope, never half a booking;
 * the facade checks again on every interaction it is asked for.
 */
import { DateTime } from 'luxon';
import { missingPermissions, operationPermissions, scopeFor } from '../src/auth/smart-scopes.js';
import type { ClientConfig, TenantConfig } from '../src/config.js';
import type { FhirCaller } from './fhir-caller.js';
import { ToolError } from './tool-error.js';

export interface ToolContext {
  tenant: TenantConfig;
  client: ClientConfig;
  fhir: FhirCaller;
  now(): Date;
}

/** A resource type and the SMART permission letters (`rs`, `cu`, …) a tool needs on it. */
export type ScopeNeed = readonly [resourceType: string, letters: string];

/** @throws ToolError naming every scope the client lacks for `needs`. */
export function requireScopes(ctx: ToolContext, tool: string, needs: readonly ScopeNeed[]): void {
  const missing = needs.flatMap(([type, letters]) => {
    const lacking = missingPermissions(ctx.client.scopes, type, operationPermissions(letters));
    return lacking.length === 0 ? [] : [scopeFor(type, lacking)];
  });
  if (missing.length > 0) {
    throw new ToolError(
      `${tool} needs scope ${missing.join(' and ')}, which this client has not been granted; ask the practice's administrator.`,
    );
  }
}

/** `Tuesday, December 8 at 2:30 PM`, in `zone`. */
export function spokenTime(instant: Date | string, zone: string): string {
  const d = typeof instant === 'string' ? DateTime.fromISO(instant) : DateTime.fromJSDate(instant);
  return d.setZone(zone).setLocale('en-US').toFormat("cccc, LLLL d 'at' h:mm a");
}
