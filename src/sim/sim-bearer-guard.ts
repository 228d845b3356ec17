/**
 * Bearer-token check on every `/firm/{firm}/api/…` call (DESIGN.md section 2). An expired, unknown or other-firm
 * token answers 401 `invalid_token` with the RFC 6750 challenge, which is what tells Switchboard to refresh.
 */
import type { RequestHandler } from 'express';
import type { SimTokenStore } from './sim-auth.js';
import { SimHttpError } from './sim-http-error.js';
import { firmOf } from './sim-request-firm.js';

/** Lets the call through only with a live access token issued for the addressed firm. */
export function requireBearer(tokens: SimTokenStore): RequestHandler {
  return (req, res, next) => {
    const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(req.get('authorization') ?? '');
    if (!match?.[1]) {
      // RFC 6750 section 3.1: a request without credentials gets the challenge without an error code.
      throw new SimHttpError(
        401,
        { error: 'invalid_token', message: 'a bearer token is required' },
        { 'WWW-Authenticate': 'Bearer realm="records"' },
      );
    }
    if (!tokens.isValid(firmOf(res).key, match[1])) {
      throw new SimHttpError(
        401,
        { error: 'invalid_token', message: 'the access token is invalid or has expired' },
        { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
      );
    }
    next();
  };
}
