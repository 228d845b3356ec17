/**
 * Authentication and authorization of FHIR requests (DESIGN.md sections 2 and 7; standards.md 7.3):
 * - {@link createAuthMiddleware}: who is calling. Every `/fhir/{tenant}/…` request except the public ones
 *   (`metadata`, SMART discovery) needs `Authorization: Bearer <token>` of a configured client bound to the tenant.
 * - {@link createAccessControl}: what the caller may do, from its SMART scopes, before any data access.
 *
 * Status codes follow RFC 6750 section 3.1: no credentials → 401 with a bare challenge; a bad token → 401
 * `invalid_token`; a valid token with too narrow a scope → 403 `insufficient_scope` naming the scope needed.
 * A valid client that is not bound to the addressed tenant gets the same 404 as an unknown tenant, so tenants it
 * may not use are invisible to it (standards.md 7.3 item 4, reliability.md section 3 API1).
 */
import type { Request, RequestHandler } from 'express';
import type { ClientRegistry } from '../src/auth/client-registry.js';
import { clientMayUseTenant } from '../src/auth/client-registry.js';
import type { Permission } from '../src/auth/smart-scopes.js';
import { missingPermissions, requiredPermissions, scopeFor, scopesAllow } from '../src/auth/smart-scopes.js';
import type { ClientConfig } from '../src/config.js';
import type { Logger } from '../src/logger.js';
import type { AccessControl, AuditSink, FhirRequestContext, Interaction } from './access.js';
import { FhirError, notFound, operationOutcome } from './operation-outcome.js';

/** The realm in `WWW-Authenticate` challenges. */
export const AUTH_REALM = 'switchboard';

/** Paths under `/fhir/{tenant}` that need no token (GET/HEAD only), compared case-insensitively. */
export const PUBLIC_FHIR_PATHS: readonly string[] = Object.freeze([
  '/metadata',
  '/.well-known/smart-configuration',
]);

const CLIENT = Symbol('switchboard.fhir.client');
type RequestWithClient = Request & { [CLIENT]?: ClientConfig };

/** The client {@link createAuthMiddleware} authenticated for this request; undefined on public paths. */
export function requestClient(req: Request): ClientConfig | undefined {
  return (req as RequestWithClient)[CLIENT];
}

export interface AuthMiddlewareOptions {
  clients: ClientRegistry;
  /** `realm` of the challenges; default {@link AUTH_REALM}. */
  realm?: string;
}

/**
 * Authenticates `/fhir/{tenant}/…` requests and attaches the client ({@link requestClient}). Mount it on the
 * tenant segment, after the unknown-tenant check, before body parsing and rate limiting:
 * `router.use('/:tenant', createAuthMiddleware({ clients }))`. (Mounted elsewhere, it takes the tenant from the
 * first path segment.) Throws {@link FhirError}s for the router's error renderer.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export function createAuthMiddleware(options: AuthMiddlewareOptions): RequestHandler {
  const realm = options.realm ?? AUTH_REALM;
  return (req, _res, next) => {
    void authenticateRequest(req).then(() => next(), next);
  };

  async function authenticateRequest(req: Request): Promise<void> {
    const { tenantId, rest } = tenantAndRest(req);
    if ((req.method === 'GET' || req.method === 'HEAD') && isPublicPath(rest)) return;
    const token = bearerToken(req.get('authorization'));
    if (token === undefined) {
      throw unauthorized(`Bearer realm="${realm}"`, 'this request needs an Authorization: Bearer token');
    }
    const client = token === null ? undefined : await options.clients.authenticate(token);
    if (!client) {
      throw unauthorized(
        `Bearer realm="${realm}", error="invalid_token", error_description="the access token is not valid"`,
        'the access token is not valid',
        'invalid_token',
      );
    }
    // Same answer as an unknown tenant: a client must not learn which other tenants exist.
    if (tenantId === undefined || !clientMayUseTenant(client, tenantId)) {
      throw notFound(`tenant ${tenantId ?? ''}`);
    }
    (req as RequestWithClient)[CLIENT] = client;
  }
}

export interface AccessControlOptions {
  /**
   * Where 403 denials are recorded (DESIGN.md section 7). `authorize` is synchronous, so the record is written in
   * the background; {@link SmartAccessControl.idle} waits for it. If the router records failed interactions
   * itself, leave this out or skip errors whose detail code is `insufficient_scope`.
   */
  audit?: AuditSink;
  /** Told when a denial could not be recorded. */
  logger?: Logger;
}

/** {@link AccessControl} from SMART scopes, plus operations and the background audit of denials. */
export interface SmartAccessControl extends AccessControl {
  /**
   * Authorizes an `$operation` on `resourceType` needing the permissions it documents
   * (`operationPermissions('cu')` for `$book`). Throws the same 403 as {@link AccessControl.authorize}.
   */
  authorizeOperation(
    ctx: FhirRequestContext,
    resourceType: string,
    operation: string,
    required: readonly Permission[],
  ): void;
  /** Resolves when every denial record started so far has been written (or failed). For shutdown and tests. */
  idle(): Promise<void>;
}

/**
 * Access control from the client's SMART scopes (standards.md 7.1, 7.3 item 2). `authorize(ctx, type,
 * 'operation')` has no way to know what the operation needs and so always throws: use `authorizeOperation`.
 *
 * @see https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html
 */
export function createAccessControl(options: AccessControlOptions = {}): SmartAccessControl {
  const pending = new Set<Promise<void>>();

  const recordDenial = (ctx: FhirRequestContext, action: string, resourceType: string): void => {
    if (!options.audit || !ctx.client) return;
    const write = options.audit
      // AuditRecord.action is an Interaction; an operation is recorded as `operation`, its name is in the log.
      .record(ctx, { action: action as Interaction, resourceType, resourceIds: [], status: 403 })
      .catch((err: unknown) => {
        options.logger?.error(
          { err, tenant: ctx.tenant.id, requestId: ctx.requestId },
          'could not record an access denial in the audit trail',
        );
      })
      .finally(() => pending.delete(write));
    pending.add(write);
  };

  const check = (
    ctx: FhirRequestContext,
    resourceType: string,
    interaction: Interaction,
    what: string,
    required: readonly Permission[],
  ): void => {
    const client = ctx.client;
    if (!client) {
      // The auth middleware guarantees a client on every non-public path; fail closed if it was bypassed.
      throw unauthorized(`Bearer realm="${AUTH_REALM}"`, 'this request needs an Authorization: Bearer token');
    }
    const missing = missingPermissions(client.scopes, resourceType, required);
    if (missing.length === 0) return;
    recordDenial(ctx, interaction, resourceType);
    const needed = scopeFor(resourceType, required);
    throw new FhirError(
      403,
      operationOutcome('forbidden', `${what} on ${resourceType} needs scope ${needed}`, {
        detailCode: 'insufficient_scope',
      }),
      { 'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${needed}"` },
    );
  };

  return {
    authorize(ctx, resourceType, interaction) {
      const required = requiredPermissions(interaction);
      if (!required) {
        throw new Error(
          `authorize(${resourceType}, ${interaction}): an operation's permissions are unknown here; use authorizeOperation`,
        );
      }
      check(ctx, resourceType, interaction, interaction, required);
    },
    authorizeOperation(ctx, resourceType, operation, required) {
      if (required.length === 0) throw new Error(`operation ${operation} declares no permissions`);
      check(ctx, resourceType, 'operation', operation, required);
    },
    canRead(ctx, resourceType) {
      return ctx.client !== undefined && scopesAllow(ctx.client.scopes, resourceType, 'read');
    },
    async idle() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}

/** `undefined`: no bearer credentials at all; `null`: a Bearer header whose token is malformed. */
function bearerToken(header: string | undefined): string | null | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer(?:[ ]+(.*))?$/i.exec(header.trim());
  if (!match) return undefined;
  const token = match[1]?.trim() ?? '';
  if (token === '') return undefined;
  return /\s/.test(token) ? null : token;
}

function tenantAndRest(req: Request): { tenantId: string | undefined; rest: string } {
  const param = (req.params as Record<string, string | undefined>).tenant;
  if (param !== undefined) return { tenantId: param, rest: req.path };
  const match = /^\/([^/]+)(\/.*)?$/.exec(req.path);
  return { tenantId: match?.[1], rest: match?.[2] ?? '/' };
}

function isPublicPath(rest: string): boolean {
  const path = rest.toLowerCase().replace(/\/+$/, '');
  return PUBLIC_FHIR_PATHS.includes(path);
}

/** `detailCode` only for a bad token: a request without credentials gets no error code (RFC 6750 section 3.1). */
function unauthorized(challenge: string, text: string, detailCode?: string): FhirError {
  return new FhirError(401, operationOutcome('login', text, { detailCode }), {
    'WWW-Authenticate': challenge,
  });
}
