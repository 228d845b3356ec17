/**
 * Access control and audit of `$operations` (DESIGN.md section 7). `audited` authorizes with
 * `access.authorize(ctx, type, 'operation')`, which cannot know what an operation needs; this hands it the
 * operation's documented permissions instead: `SmartAccessControl.authorizeOperation` when the access control has
 * it (the app's), else the plain interactions those permissions stand for (c → create, r → read, u → update,
 * d → delete, s → search), so any `AccessControl` works.
 */
import type { Permission } from '../../src/auth/smart-scopes.js';
import { operationPermissions } from '../../src/auth/smart-scopes.js';
import type { AccessControl, FhirRequestContext, Interaction } from '../access.js';
import type { SmartAccessControl } from '../auth-middleware.js';
import {
  audited,
  type AuditedResult,
  type InteractionDeps,
  type InteractionResult,
} from '../interactions/interaction-deps.js';

const INTERACTION_OF: Record<Permission, Interaction> = {
  c: 'create',
  r: 'read',
  u: 'update',
  d: 'delete',
  s: 'search',
};

/**
 * Authorizes `$name` on `resourceType` for the permission letters it documents (`'cu'` for `$book`), runs it, and
 * audits the outcome (action `operation`) whatever it is.
 */
export function auditedOperation(
  ctx: FhirRequestContext,
  deps: InteractionDeps,
  resourceType: string,
  name: string,
  letters: string,
  run: () => Promise<AuditedResult>,
): Promise<InteractionResult> {
  const required = operationPermissions(letters);
  const access = deps.access as AccessControl & Partial<Pick<SmartAccessControl, 'authorizeOperation'>>;
  const operationAccess: AccessControl = {
    authorize(c, type, interaction) {
      if (interaction !== 'operation') {
        access.authorize(c, type, interaction);
      } else if (access.authorizeOperation) {
        access.authorizeOperation(c, type, name, required);
      } else {
        for (const letter of required) access.authorize(c, type, INTERACTION_OF[letter]);
      }
    },
    canRead: (c, type) => access.canRead(c, type),
  };
  return audited(ctx, { ...deps, access: operationAccess }, 'operation', resourceType, run);
}
