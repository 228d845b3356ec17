/**
 * The FHIR records-system simulator's express application (issue 12), shaped like the proprietary one's
 * (src/sim/sim-app.ts): `/_sim` controls (the same fault fields, plus `/_sim/quirks`), and per firm a gate (outage,
 * latency, rate limit, hangs, errors), the token endpoint and the bearer-protected FHIR base `/firm/{firm}/fhir`,
 * where Medplum's engine answers. Writes pass through the commit-then-fail fault after they are in place.
 */
import { getStatus } from '@medplum/core';
import type { FhirRequest, HttpMethod } from '@medplum/fhir-router';
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import express, { Router } from 'express';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import { createControlRouter, type SimControlContext } from '../sim/sim-control-routes.js';
import type { SimTokenStore } from '../sim/sim-auth.js';
import type { SimRateLimiter } from '../sim/sim-rate-limit.js';
import { sendSimFailure, sendSimResult } from '../sim/sim-respond.js';
import { fhirSimCapabilityStatement } from './fhir-sim-capability.js';
import type { FhirSimFirm } from './fhir-sim-firm.js';
import { createFhirSimOAuthRouter, type FhirSimClient } from './fhir-sim-oauth.js';
import { parseFhirSimQuirksPatch, type FhirSimQuirks } from './fhir-sim-quirks.js';

/** What the HTTP layer of one FHIR simulator shares. */
export interface FhirSimContext extends SimControlContext {
  firm(key: string): FhirSimFirm | undefined;
  clients(firm: string): readonly FhirSimClient[];
  tokens: SimTokenStore;
  rateLimiter: SimRateLimiter;
  quirks: { current: FhirSimQuirks; merge(patch: Partial<FhirSimQuirks>): FhirSimQuirks };
  now(): Date;
  sleep(ms: number): Promise<void>;
}

const FHIR_JSON = 'application/fhir+json';

function sendFhir(res: Response, status: number, body: Resource, headers: Record<string, string> = {}): void {
  res.status(status).set({ 'Content-Type': `${FHIR_JSON}; charset=utf-8`, ...headers });
  res.send(JSON.stringify(body));
}

const outcome = (code: OperationOutcome['issue'][number]['code'], text: string): OperationOutcome => ({
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'error', code, details: { text } }],
});

export function createFhirSimApp(ctx: FhirSimContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');

  app.use('/_sim', createControlRouter(ctx));
  app.get('/_sim/quirks', (_req, res) => sendSimResult(res, { status: 200, body: ctx.quirks.current }));
  app.post('/_sim/quirks', express.json({ limit: '16kb' }), (req, res) => {
    try {
      sendSimResult(res, { status: 200, body: ctx.quirks.merge(parseFhirSimQuirksPatch(req.body)) });
    } catch (error) {
      sendSimFailure(ctx, res, error);
    }
  });

  const firm = Router({ mergeParams: true });
  firm.use(gate(ctx));
  firm.use('/oauth', createFhirSimOAuthRouter(ctx));
  firm.get('/fhir/metadata', (_req, res) =>
    sendFhir(res, 200, fhirSimCapabilityStatement(ctx.quirks.current, ctx.now())),
  );
  firm.use(
    '/fhir',
    bearer(ctx),
    express.json({ limit: '256kb', type: ['application/json', FHIR_JSON] }),
    (req, res) => void handleFhir(ctx, req, res),
  );
  app.use('/firm/:firm', firm);
  app.use((_req: Request, res: Response) => sendFhir(res, 404, outcome('not-found', 'no such endpoint')));
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    // Body parsers throw here (malformed JSON); anything else is ours and stays a bare 500.
    const status = (error as { status?: number }).status;
    if (status === 400 || status === 413)
      sendFhir(res, status, outcome('invalid', 'the body is not valid JSON'));
    else {
      ctx.onError(error);
      sendFhir(res, 500, outcome('exception', 'internal error'));
    }
  });
  return app;
}

/** Firm lookup, then the faults in the order the proprietary simulator applies them (src/sim/sim-firm-gate.ts). */
function gate(ctx: FhirSimContext): RequestHandler {
  return async (req, res, next) => {
    const key = typeof req.params.firm === 'string' ? req.params.firm : '';
    if (!ctx.firm(key))
      return sendFhir(res, 404, outcome('not-found', `unknown firm ${JSON.stringify(key)}`));
    ctx.calls.count(key, req.headers.authorization);
    if (ctx.faults.current.down)
      return sendFhir(res, 503, outcome('transient', 'the records system is down'));
    const delay = ctx.faults.delayMs();
    if (delay > 0) await ctx.sleep(delay);
    const verdict = ctx.rateLimiter.take(key, ctx.faults.current.rateLimitPerMinute);
    if (!verdict.allowed) {
      const headers: Record<string, string> = ctx.quirks.current.omitRetryAfter
        ? {}
        : { 'Retry-After': String(verdict.retryAfterSeconds) };
      return sendFhir(res, 429, outcome('throttled', 'too many calls'), headers);
    }
    if (ctx.faults.shouldHang()) return;
    if (ctx.faults.shouldFail()) return sendFhir(res, 500, outcome('exception', 'internal error'));
    res.locals.firm = key;
    next();
  };
}

function bearer(ctx: FhirSimContext): RequestHandler {
  return (req, res, next) => {
    const token = /^Bearer[ ]+(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1];
    if (!token || !ctx.tokens.isValid(String(res.locals.firm), token)) {
      res.set('WWW-Authenticate', token ? 'Bearer error="invalid_token"' : 'Bearer realm="fhir"');
      return sendFhir(res, 401, outcome('login', 'the access token is missing, invalid or expired'));
    }
    next();
  };
}

async function handleFhir(ctx: FhirSimContext, req: Request, res: Response): Promise<void> {
  const firmKey = String(res.locals.firm);
  const firm = ctx.firm(firmKey);
  if (!firm) return;
  const write = req.method !== 'GET' && req.method !== 'HEAD';
  const fhirRequest: FhirRequest = {
    method: req.method as HttpMethod,
    url: req.url,
    // Medplum's router fills `pathname` (and `query`) from `url` itself and refuses a request that sets it.
    pathname: '',
    body: req.body as unknown,
    params: {},
    query: req.query as FhirRequest['query'],
    headers: req.headers,
  };
  try {
    const [result, resource] = await firm.handle(fhirRequest, ctx.quirks.current);
    const status = getStatus(result);
    if (write && status < 300) {
      const failure = ctx.faults.commitFailure();
      if (failure === 'drop-connection') {
        req.socket.destroy();
        return;
      }
      if (failure === 'answer-500') return sendFhir(res, 500, outcome('exception', 'internal error'));
    }
    const body = resource ?? result;
    if (body.resourceType === 'Bundle') addPageLinks(body, req, firmKey);
    const headers: Record<string, string> = {};
    if (status === 201 && resource?.id) {
      headers.Location = `${baseUrl(req, firmKey)}/${resource.resourceType}/${resource.id}`;
    }
    sendFhir(res, status, body, headers);
  } catch (error) {
    ctx.onError(error);
    sendFhir(res, 500, outcome('exception', 'internal error'));
  }
}

const baseUrl = (req: Request, firm: string) =>
  `${req.protocol}://${req.get('host') ?? ''}/firm/${firm}/fhir`;

/** Medplum's memory repository reports `total` but no links: add `self` and `next` the way a server would. */
function addPageLinks(bundle: Bundle, req: Request, firm: string): void {
  if (bundle.type !== 'searchset') return;
  const url = new URL(`${baseUrl(req, firm)}${req.url}`);
  const count = Number(url.searchParams.get('_count') ?? 20);
  const offset = Number(url.searchParams.get('_offset') ?? 0);
  bundle.link = [{ relation: 'self', url: url.toString() }];
  if (bundle.total !== undefined && offset + (bundle.entry?.length ?? 0) < bundle.total && count > 0) {
    const next = new URL(url);
    next.searchParams.set('_offset', String(offset + count));
    next.searchParams.set('_count', String(count));
    bundle.link.push({ relation: 'next', url: next.toString() });
  }
}
