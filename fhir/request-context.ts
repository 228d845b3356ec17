/**
 * Builds the {@link FhirRequestContext} every handler receives, and reads what a FHIR request says about itself
 * beyond its path: its parameters (query string, and the form body of `POST _search`) and its `Prefer` header.
 */
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import type { TenantConfig } from '../src/config.js';
import type { Store } from '../src/store/database.js';
import type { FhirRequestContext } from './access.js';
import { requestClient } from './auth-middleware.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The context of a request to `tenant`; the request id is the caller's `X-Request-Id` when it is sane. */
export function requestContext(
  req: Request,
  res: Response,
  tenant: TenantConfig,
  store: Store,
): FhirRequestContext {
  const given = req.get('x-request-id');
  const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
  res.set('X-Request-Id', requestId);
  return {
    tenant,
    store,
    // Left there by the authentication middleware; undefined when none ran (tests, public paths).
    client: requestClient(req),
    requestId,
  };
}

/** The query parameters, in order, repeated ones kept (express's parsed `req.query` loses both). */
export function queryParams(req: Request): Array<[string, string]> {
  return [...new URL(req.originalUrl, 'http://local').searchParams];
}

/** The parameters of a `POST [type]/_search`: the query string, then the form body. */
export function searchBodyParams(req: Request): Array<[string, string]> {
  const body: unknown = req.body;
  return [...queryParams(req), ...(typeof body === 'string' ? new URLSearchParams(body) : [])];
}

/** True when the `Prefer` header asks for `handling=strict` (https://hl7.org/fhir/R4/search.html#errors). */
export function prefersStrictHandling(req: Request): boolean {
  return (req.get('prefer') ?? '').split(/[,;]/).some(
    (part) =>
      part
        .trim()
        .toLowerCase()
        .replace(/\s*=\s*/, '=') === 'handling=strict',
  );
}
