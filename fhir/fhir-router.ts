/**
 * The FHIR facade over HTTP: `/fhir/{tenant}/…` (DESIGN.md section 2). The one place a {@link FhirRequest} is
 * built from an express request and a {@link FhirResponse} rendered to express; everything else is the
 * transport-free handler (`fhir/fhir-handler.ts`). Per request, in the order clients have always seen: the
 * route and its tenant and type (404), format negotiation (406), authentication (401), the body the route takes
 * (bounded JSON, or the form of `POST _search`; 413/415/400), then `handleFhirRequest`. `metadata` and other
 * public routes skip negotiation and authentication up front.
 */
import express, {
  type ErrorRequestHandler,
  type Request,
  type RequestHandler,
  type Response,
  type Router,
} from 'express';
import type { Logger } from '../src/logger.js';
import type { FhirHandler } from './fhir-handler.js';
import { negotiateFormat } from './fhir-format.js';
import { stringifyReusingFrozen } from './frozen-json.js';
import {
  FHIR_REQUEST_HEADERS,
  queryValue,
  type FhirRequest,
  type FhirRequestHeaders,
  type FhirResponse,
} from './fhir-request.js';
import { FhirError, errorResponse } from './operation-outcome.js';
import { requestClient } from './auth-middleware.js';
import { JSON_BODY_TYPES, type Admission } from './request-limits.js';

export { FHIR_JSON } from './fhir-format.js';

export interface FhirRouterOptions {
  /** The facade: `createFhirHandler(…)` of fhir/fhir-handler.ts. */
  handler: FhirHandler;
  logger: Logger;
  /**
   * Runs before every non-public route (`createAuthMiddleware` of `auth-middleware.ts`): attaches the client that
   * `requestClient(req)` returns, or throws a 401.
   */
  authenticate?: RequestHandler;
  /**
   * The rate limit, begun after `authenticate` (`RateLimiter.admission` of request-limits.ts): a request waits for
   * its verdict unless it may run early (a read), in which case the handler awaits it before auditing or answering.
   */
  admit?: (req: Request, res: Response) => Admission;
  /** The body parser of routes taking JSON (`createJsonBodyParser` of request-limits.ts: size and depth bounds). */
  jsonBody?: RequestHandler;
}

/** Bound on a `POST _search` form body: parameters, not resources. */
const SEARCH_BODY_LIMIT = '64kb';

export function createFhirRouter(options: FhirRouterOptions): Router {
  const { handler } = options;
  const authenticate: RequestHandler = options.authenticate ?? ((_req, _res, next) => next());
  const jsonBody = options.jsonBody ?? express.json({ type: ['application/json', 'application/fhir+json'] });
  const formBody = express.text({ type: 'application/x-www-form-urlencoded', limit: SEARCH_BODY_LIMIT });
  const router = express.Router();

  router.use(async (req: Request, res: Response) => {
    const request = fhirRequest(req);
    const route = handler.routeOf(request);
    let admission: Admission | undefined;
    if (!route.public) {
      negotiateFormat(queryValue(request, '_format'), request.headers.accept); // a 406 before any work
      await run(authenticate, req, res);
      admission = options.admit?.(req, res);
      if (admission && !admission.early) {
        const refusal = await admission.verdict;
        if (refusal !== undefined) throw refusal;
        admission = undefined;
      } else if (admission) {
        // A count is sent once the microtasks queued before its own have run (src/store/group-commit.ts, eager),
        // and the rate limiter takes several to get there: a turn of the loop lets it leave before the handler
        // starts, so the handler's work overlaps its round trip instead of delaying it.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    if (route.body === 'json') {
      // A body in another media type (`text/plain`) is not read as empty: 415 (RFC 9110 section 15.5.16).
      if (req.get('content-type') !== undefined && req.is([...JSON_BODY_TYPES]) === false) {
        throw FhirError.of(
          415,
          'not-supported',
          `${req.method} ${request.path} takes ${JSON_BODY_TYPES.join(', ')}, not ${req.get('content-type') ?? ''}`,
        );
      }
      await run(jsonBody, req, res);
    }
    if (route.body === 'form') {
      // `req.is` is null without a body (the query string may carry everything), false for another type.
      if (req.is('application/x-www-form-urlencoded') === false)
        throw FhirError.of(
          415,
          'not-supported',
          `${request.method} ${request.path} takes application/x-www-form-urlencoded parameters`,
        );
      await run(formBody, req, res);
    }
    const response = await handler.handleFhirRequest({
      ...request,
      body: route.body === undefined ? undefined : (req.body as unknown),
      client: requestClient(req),
      requestId: req.get('x-request-id'),
      signal: READS.has(req.method) ? undefined : goneSignal(res),
      ...(admission ? { admission: admission.verdict } : {}),
    });
    render(req, res, request, response);
  });
  router.use(renderFhirError(options.logger));
  return router;
}

/** Methods that only read: nothing of theirs is worth giving up when the caller goes. */
const READS = new Set(['GET', 'HEAD']);

/** Aborted when the caller has gone before its answer was sent: work not yet done for it is given up (a write). */
function goneSignal(res: Response): AbortSignal {
  const gone = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) gone.abort();
  });
  return gone.signal;
}

/** The request as the handler sees it; body, client and request id are added once the route's edge ran. */
function fhirRequest(req: Request): FhirRequest {
  const [, tenant = '', ...rest] = req.path.split('/');
  const headers: FhirRequestHeaders = {};
  for (const name of FHIR_REQUEST_HEADERS) {
    const value = req.get(name);
    if (value !== undefined) headers[name] = value;
  }
  return {
    method: req.method,
    tenant: decodeTenant(tenant),
    path: rest.join('/'),
    query: [...new URLSearchParams(queryString(req.originalUrl))],
    headers,
  };
}

/** The query of a request target (`/path?query`), as URL parsing reads it: up to a fragment, if any. */
function queryString(target: string): string {
  const start = target.indexOf('?');
  if (start === -1) return '';
  const end = target.indexOf('#', start);
  return target.slice(start + 1, end === -1 ? undefined : end);
}

function decodeTenant(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Runs one express middleware as a step: resolves when it calls `next()`, rejects with what it passes or throws. */
function run(middleware: RequestHandler, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      const result: unknown = middleware(req, res, (err?: unknown) => (err ? reject(err) : resolve()));
      if (result instanceof Promise) result.catch(reject);
    } catch (error) {
      reject(error);
    }
  });
}

/**
 * Sends a response: a success body as FHIR JSON in the negotiated type (`_pretty=true` indents it), an error's
 * OperationOutcome always as compact `application/fhir+json`.
 */
function render(req: Request, res: Response, request: FhirRequest, response: FhirResponse): void {
  res.set(response.headers ?? {});
  if (response.json !== undefined) {
    res.status(response.status).type('application/json').send(JSON.stringify(response.json));
  } else if (response.body === undefined) {
    res.status(response.status).end();
  } else if (response.status >= 400) {
    res.status(response.status).type('application/fhir+json').send(JSON.stringify(response.body));
  } else {
    const type = negotiateFormat(queryValue(request, '_format'), request.headers.accept);
    const pretty = queryValue(request, '_pretty') === 'true';
    res
      .status(response.status)
      .type(type)
      .send(pretty ? JSON.stringify(response.body, null, 2) : stringifyReusingFrozen(response.body));
  }
}

/**
 * Renders errors of the HTTP edge (routing, negotiation, authentication, body parsing) as OperationOutcomes, by
 * the same {@link errorResponse} the handler answers its own errors with.
 */
export function renderFhirError(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const request = fhirRequest(req);
    render(req, res, request, errorResponse(err, logger, { method: req.method, path: req.path }));
  };
}
