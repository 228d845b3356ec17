/**
 * The one place the simulated records system turns handler results and errors into HTTP answers. Handlers return
 * `{status, body}` or throw `SimHttpError`; anything else becomes a bare 500 so a stack trace never leaks.
 * Write handlers also pass through the commit-then-fail fault here, after their change is in place.
 */
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { SimContext } from './sim-context.js';
import type { SimFirmState } from './sim-firm-state.js';
import { SimHttpError } from './sim-http-error.js';
import { firmOf } from './sim-request-firm.js';

/** What a handler answers. `body: undefined` sends no body (204). */
export interface SimResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A route handler of a firm call: synchronous, the records live in memory. */
export type SimHandle = (req: Request, firm: SimFirmState) => SimResult;

/** 200 with `body`. */
export function ok(body: unknown): SimResult {
  return { status: 200, body };
}

/** Sends a handler result. */
export function sendSimResult(res: Response, result: SimResult): void {
  res.status(result.status);
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
  if (result.body === undefined) res.end();
  else res.json(result.body);
}

/** Sends a `SimHttpError`, or a bare 500 for anything else (reported to `onError`, never to the client). */
export function sendSimFailure(ctx: Pick<SimContext, 'onError'>, res: Response, error: unknown): void {
  if (error instanceof SimHttpError) {
    sendSimResult(res, { status: error.status, body: error.body, headers: error.headers });
    return;
  }
  ctx.onError(error);
  sendSimResult(res, { status: 500, body: { error: 'server_error', message: 'internal error' } });
}

/**
 * Wraps a handler. `write` marks calls that change records (POST/PUT/DELETE on patients and appointments): once
 * such a call has succeeded, the commit-then-fail fault may drop the connection or answer 500 instead, leaving the
 * client with an unknown outcome although the change is committed.
 */
export function simHandler(
  ctx: SimContext,
  handle: SimHandle,
  kind: 'read' | 'write' = 'read',
): RequestHandler {
  return (req, res) => {
    let result: SimResult;
    try {
      result = handle(req, firmOf(res));
    } catch (error) {
      sendSimFailure(ctx, res, error);
      return;
    }
    if (kind === 'write' && result.status < 300) {
      const failure = ctx.faults.commitFailure();
      switch (failure) {
        case 'drop-connection':
          req.socket.destroy();
          return;
        case 'answer-500':
          sendSimResult(res, { status: 500, body: { error: 'server_error', message: 'internal error' } });
          return;
        case undefined:
          break;
      }
    }
    sendSimResult(res, result);
  };
}

/** Renders errors raised outside handlers (body parsing, the firm gate) the same way. */
export function simErrorHandler(ctx: SimContext): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (error instanceof SimHttpError) {
      sendSimFailure(ctx, res, error);
      return;
    }
    const status = httpStatusOf(error);
    if (status !== undefined && status >= 400 && status < 500) {
      const message =
        status === 413
          ? 'the body is too large'
          : typeOf(error) === 'entity.parse.failed'
            ? 'the body is not valid JSON'
            : 'the body could not be read';
      sendSimResult(res, { status, body: { error: 'invalid_request', message, field: 'body' } });
      return;
    }
    sendSimFailure(ctx, res, error);
  };
}

// body-parser errors carry `status` and `type`; nothing else about them is sent on.
function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' ? status : undefined;
}

function typeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { type?: unknown }).type : undefined;
}
