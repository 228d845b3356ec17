/**
 * `POST /firm/{firm}/oauth/token` (DESIGN.md section 2): form-encoded password and refresh-token grants,
 * answered the OAuth 2.0 way (RFC 6749 section 5), `Cache-Control: no-store` on successes and errors alike.
 */
import express, { Router } from 'express';
import type { Request } from 'express';
import type { SimTokenGrant } from './sim-auth.js';
import type { SimContext } from './sim-context.js';
import type { SimFirmState } from './sim-firm-state.js';
import { SimHttpError } from './sim-http-error.js';
import { simHandler } from './sim-respond.js';

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

/** The token endpoint, mounted at `/firm/{firm}/oauth`. */
export function createOAuthRouter(ctx: SimContext): Router {
  const grant = (req: Request, firm: SimFirmState): SimTokenGrant => {
    const form = (req.body ?? {}) as Record<string, unknown>;
    const field = (name: string): string => {
      const value = form[name];
      if (typeof value !== 'string' || value === '') {
        throw new SimHttpError(400, {
          error: 'invalid_request',
          message: `${name} is required`,
          field: name,
        });
      }
      return value;
    };
    const grantType = field('grant_type');
    if (grantType === 'password')
      return ctx.tokens.passwordGrant(firm.key, field('username'), field('password'));
    if (grantType === 'refresh_token') return ctx.tokens.refreshGrant(firm.key, field('refresh_token'));
    throw new SimHttpError(400, {
      error: 'unsupported_grant_type',
      message: 'grant_type must be password or refresh_token',
    });
  };

  const router = Router();
  router.post(
    '/token',
    express.urlencoded({ extended: false, limit: '16kb' }),
    simHandler(ctx, (req, firm) => {
      try {
        return { status: 200, body: grant(req, firm), headers: NO_STORE };
      } catch (error) {
        if (error instanceof SimHttpError) throw new SimHttpError(error.status, error.body, NO_STORE);
        throw error;
      }
    }),
  );
  return router;
}
