/**
 * `POST /firm/{firm}/oauth/token` of the FHIR records-system simulator (issue 12): the password grant (ModMed's),
 * the client-credentials grant with the secret in the Basic header or the form (RFC 6749 section 2.3.1), and SMART
 * Backend Services' `private_key_jwt` (a client assertion signed RS384 or ES384, verified with `jose`). Tokens come
 * from the proprietary simulator's {@link SimTokenStore}, so they expire and are checked the same way.
 */
import express, { Router } from 'express';
import type { Request, Response } from 'express';
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import type { SimTokenGrant, SimTokenStore } from '../sim/sim-auth.js';
import { SimHttpError, type SimErrorCode } from '../sim/sim-http-error.js';
import { sendSimFailure, sendSimResult } from '../sim/sim-respond.js';

/** A registered client: a secret for client credentials, public keys for `private_key_jwt`, or both. */
export interface FhirSimClient {
  clientId: string;
  secret?: string;
  jwks?: JWK[];
}

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

const oauthError = (status: number, error: SimErrorCode, message: string) =>
  new SimHttpError(status, { error, message }, NO_STORE);

interface OAuthDeps {
  tokens: SimTokenStore;
  clients(firm: string): readonly FhirSimClient[];
  onError(error: unknown): void;
}

/** The token endpoint, mounted at `/firm/{firm}/oauth`; `res.locals.firm` names the firm. */
export function createFhirSimOAuthRouter(deps: OAuthDeps): Router {
  const router = Router();
  router.post('/token', express.urlencoded({ extended: false, limit: '16kb' }), (req, res) => {
    grant(req, res, deps).then(
      (body) => sendSimResult(res, { status: 200, body, headers: NO_STORE }),
      (error: unknown) => sendSimFailure(deps, res, error),
    );
  });
  return router;
}

async function grant(req: Request, res: Response, deps: OAuthDeps): Promise<SimTokenGrant | object> {
  const firm = String(res.locals.firm);
  const form = (req.body ?? {}) as Record<string, string | undefined>;
  const grantType = form.grant_type;
  if (grantType === 'password') {
    if (!form.username || !form.password)
      throw oauthError(400, 'invalid_request', 'username and password are required');
    return deps.tokens.passwordGrant(firm, form.username, form.password);
  }
  if (grantType === 'refresh_token') {
    if (!form.refresh_token) throw oauthError(400, 'invalid_request', 'refresh_token is required');
    return deps.tokens.refreshGrant(firm, form.refresh_token);
  }
  if (grantType !== 'client_credentials') {
    throw oauthError(
      400,
      'unsupported_grant_type',
      'grant_type must be password, refresh_token or client_credentials',
    );
  }
  const clientId = await authenticateClient(req, firm, form, deps);
  // RFC 6749 section 4.4.3: no refresh token for client credentials; the client simply asks again.
  const { refresh_token: _unused, ...issued } = deps.tokens.issueFor(firm, `client:${clientId}`);
  return issued;
}

async function authenticateClient(
  req: Request,
  firm: string,
  form: Record<string, string | undefined>,
  deps: OAuthDeps,
): Promise<string> {
  const known = deps.clients(firm);
  if (form.client_assertion_type === JWT_BEARER_ASSERTION && form.client_assertion) {
    const audience = `${req.protocol}://${req.get('host') ?? ''}${req.originalUrl.split('?')[0] ?? ''}`;
    for (const client of known.filter((c) => c.jwks?.length)) {
      try {
        await jwtVerify(form.client_assertion, createLocalJWKSet({ keys: client.jwks ?? [] }), {
          issuer: client.clientId,
          subject: client.clientId,
          audience,
          algorithms: ['RS384', 'ES384'],
        });
        return client.clientId;
      } catch {
        // Not this client's key (or not valid at all): try the next, then refuse.
      }
    }
    throw oauthError(401, 'invalid_client', 'the client assertion is not valid for any registered key');
  }
  let clientId = form.client_id;
  let secret = form.client_secret;
  const basic = /^Basic\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
  if (basic) {
    const [id, ...rest] = Buffer.from(basic, 'base64').toString('utf8').split(':');
    clientId = decodeURIComponent(id ?? '');
    secret = decodeURIComponent(rest.join(':'));
  }
  const client = known.find((c) => c.clientId === clientId && c.secret !== undefined && c.secret === secret);
  if (!client) throw oauthError(401, 'invalid_client', 'unknown client or wrong secret');
  return client.clientId;
}
