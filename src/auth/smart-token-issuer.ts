/**
 * The token endpoint of SMART Backend Services v2 (standards.md 7.2; https://hl7.org/fhir/smart-app-launch/
 * backend-services.html, client-confidential-asymmetric.html; RFC 7523): `grant_type=client_credentials` with a
 * `private_key_jwt` client assertion, answered with a short-lived opaque bearer token.
 *
 * The assertion is checked with `jose` (no hand-rolled crypto): its header `alg` must be RS384 or ES384 (never
 * `none`, no HMAC) and its `kid` must name exactly one key of the client's configured JWKS whose `kty` fits the
 * alg; `iss` = `sub` = a configured client id with a JWKS, allowed on this tenant; `aud` = this tenant's token URL;
 * `exp` present, not past and at most five minutes ahead; `iat` and `nbf` not in the future (60 s leeway both
 * ways); `jti` present and never used before by this client — recorded in the store, so a replay is refused by
 * every instance on one database. Failures are `invalid_client` (401).
 *
 * Requested `scope`s must be `system/` scopes and are narrowed to what the client's configured scopes allow
 * (`system/*.cruds` asked of a client allowed `system/Appointment.rs` gets `system/Appointment.rs`); none left is
 * `invalid_scope`. The token (32 random bytes) is stored as its SHA-256 with the client, tenant and granted
 * scopes for {@link ACCESS_TOKEN_SECONDS}; the client registry accepts it on the FHIR and MCP facades alike.
 */
import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import type { ClientConfig } from '../config.js';
import type { Store } from '../store/database.js';
import { insertAccessToken, recordAssertionJti } from '../store/smart-tokens.js';
import { clientMayUseTenant } from './client-registry.js';
import { grantedPermissions, parseScope, scopeFor, type Permission } from './smart-scopes.js';

/** Lifetime of an issued access token (SMART: SHOULD NOT exceed five minutes). */
export const ACCESS_TOKEN_SECONDS = 300;
/** Clock skew allowed on `exp`, `iat` and `nbf`. */
export const CLOCK_SKEW_SECONDS = 60;
/** Longest assertion lifetime accepted (SMART: `exp` no more than five minutes in the future). */
const MAX_ASSERTION_SECONDS = 300;
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const ASSERTION_ALGORITHMS = ['RS384', 'ES384'] as const;
const KTY_OF: Readonly<Record<string, string>> = { RS384: 'RSA', ES384: 'EC' };

export interface TokenRequest {
  tenantId: string;
  /** This tenant's token endpoint URL: the only accepted `aud`. */
  tokenUrl: string;
  /** The form parameters of the request. */
  form: ReadonlyMap<string, string>;
}

export type TokenAnswer =
  | {
      ok: true;
      body: { access_token: string; token_type: 'bearer'; expires_in: number; scope: string };
    }
  | { ok: false; status: 400 | 401; body: { error: string; error_description: string } };

export interface TokenIssuerOptions {
  clients: readonly ClientConfig[];
  store: () => Store;
  now?: () => Date;
}

export interface TokenIssuer {
  issue(request: TokenRequest): Promise<TokenAnswer>;
}

class TokenRefusal extends Error {
  constructor(
    readonly status: 400 | 401,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

const invalidClient = (text: string) => new TokenRefusal(401, 'invalid_client', text);

export function createTokenIssuer(options: TokenIssuerOptions): TokenIssuer {
  const now = options.now ?? (() => new Date());
  const byId = new Map(options.clients.filter((c) => c.jwks).map((c) => [c.id, c]));
  return {
    async issue(request) {
      try {
        return await issue(request);
      } catch (err) {
        if (!(err instanceof TokenRefusal)) throw err;
        return { ok: false, status: err.status, body: { error: err.error, error_description: err.message } };
      }
    },
  };

  async function issue({ tenantId, tokenUrl, form }: TokenRequest): Promise<TokenAnswer> {
    const grantType = form.get('grant_type');
    if (grantType !== 'client_credentials') {
      throw new TokenRefusal(
        400,
        grantType === undefined ? 'invalid_request' : 'unsupported_grant_type',
        'grant_type must be client_credentials',
      );
    }
    if (form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE) {
      throw new TokenRefusal(
        400,
        'invalid_request',
        `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`,
      );
    }
    const assertion = form.get('client_assertion');
    if (!assertion) throw new TokenRefusal(400, 'invalid_request', 'client_assertion is required');
    const requested = (form.get('scope') ?? '').split(/\s+/).filter((s) => s !== '');
    if (requested.length === 0) throw new TokenRefusal(400, 'invalid_scope', 'scope is required');

    const { client, key, alg } = await assertionKey(assertion, tenantId);
    const at = now();
    let exp: number;
    let jti: string;
    try {
      const { payload } = await jwtVerify(assertion, key, {
        algorithms: [alg],
        audience: tokenUrl,
        issuer: client.id,
        subject: client.id,
        clockTolerance: CLOCK_SKEW_SECONDS,
        currentDate: at,
        requiredClaims: ['exp', 'jti'],
      });
      exp = payload.exp as number;
      jti = payload.jti as string;
      const nowSeconds = at.getTime() / 1000;
      if (exp > nowSeconds + MAX_ASSERTION_SECONDS + CLOCK_SKEW_SECONDS) {
        throw invalidClient('the assertion expires more than five minutes ahead');
      }
      if (payload.iat !== undefined && payload.iat > nowSeconds + CLOCK_SKEW_SECONDS) {
        throw invalidClient('the assertion was issued in the future (iat)');
      }
    } catch (err) {
      if (err instanceof TokenRefusal) throw err;
      throw invalidClient(`the client assertion is not valid: ${(err as Error).message}`);
    }
    const fresh = await recordAssertionJti(options.store(), client.id, jti, new Date(exp * 1000), at);
    if (!fresh) throw invalidClient('the client assertion was already used (jti replay)');

    const granted = narrowScopes(requested, client.scopes);
    if (granted.length === 0) {
      throw new TokenRefusal(400, 'invalid_scope', `none of the requested scopes is allowed to ${client.id}`);
    }
    const token = randomBytes(32).toString('base64url');
    await insertAccessToken(
      options.store(),
      {
        tokenSha256: createHash('sha256').update(token, 'utf8').digest('hex'),
        tenantId,
        clientId: client.id,
        scopes: granted,
        issuedAt: at,
        expiresAt: new Date(at.getTime() + ACCESS_TOKEN_SECONDS * 1000),
      },
      at,
    );
    return {
      ok: true,
      body: {
        access_token: token,
        token_type: 'bearer',
        expires_in: ACCESS_TOKEN_SECONDS,
        scope: granted.join(' '),
      },
    };
  }

  /** The client the (not yet verified) assertion claims to be, and its one key for the header's kid and alg. */
  async function assertionKey(
    assertion: string,
    tenantId: string,
  ): Promise<{ client: ClientConfig; key: Awaited<ReturnType<typeof importJWK>>; alg: string }> {
    let header: ReturnType<typeof decodeProtectedHeader>;
    let claims: ReturnType<typeof decodeJwt>;
    try {
      header = decodeProtectedHeader(assertion);
      claims = decodeJwt(assertion);
    } catch {
      throw invalidClient('client_assertion is not a signed JWT');
    }
    const alg = header.alg ?? '';
    if (!(ASSERTION_ALGORITHMS as readonly string[]).includes(alg)) {
      throw invalidClient(`alg ${alg || '(none)'} is not accepted: sign with RS384 or ES384`);
    }
    if (header.jku !== undefined || header.jwk !== undefined) {
      throw invalidClient('keys are taken from the configured JWKS only (no jku or jwk header)');
    }
    const client = typeof claims.iss === 'string' ? byId.get(claims.iss) : undefined;
    if (!client || claims.sub !== claims.iss || !clientMayUseTenant(client, tenantId)) {
      throw invalidClient('unknown client (iss and sub must be a client id registered with a JWKS)');
    }
    const keys = (client.jwks?.keys ?? []).filter(
      (k) =>
        header.kid !== undefined && k.kid === header.kid && k.kty === KTY_OF[alg] && (k.alg ?? alg) === alg,
    );
    if (keys.length !== 1) {
      throw invalidClient(`no single key of ${client.id} has kid ${header.kid ?? '(none)'} for ${alg}`);
    }
    try {
      return { client, key: await importJWK(keys[0] as JWK, alg), alg };
    } catch {
      throw invalidClient(`the configured key ${header.kid ?? ''} of ${client.id} cannot be used for ${alg}`);
    }
  }
}

/**
 * The requested system scopes narrowed to what `allowed` grants, as v2 scopes without repeats: a concrete type
 * keeps the letters both grant; a wildcard request is answered with the client's own scopes cut to its letters.
 */
export function narrowScopes(requested: readonly string[], allowed: readonly string[]): string[] {
  const out = new Set<string>();
  for (const raw of requested) {
    const scope = parseScope(raw);
    if (!scope || scope.context !== 'system') continue;
    const wanted = new Set<Permission>(scope.permissions);
    if (scope.resourceType !== '*') {
      const letters = [...grantedPermissions(allowed, scope.resourceType)].filter((p) => wanted.has(p));
      if (letters.length > 0) out.add(scopeFor(scope.resourceType, letters));
      continue;
    }
    for (const own of allowed.flatMap((a) => parseScope(a) ?? [])) {
      if (own.context !== 'system') continue;
      const letters = own.permissions.filter((p) => wanted.has(p));
      if (letters.length > 0) out.add(scopeFor(own.resourceType, letters));
    }
  }
  return [...out];
}
