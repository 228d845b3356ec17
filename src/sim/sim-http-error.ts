/**
 * Errors the simulated records system answers with. Every failure is rendered as a small JSON body
 * (`{error, message?, field?}`) in one place (`sim-respond.ts`), so no handler can leak a stack trace.
 */

/** The `error` codes the sim uses; OAuth-style where the call is OAuth. */
export type SimErrorCode =
  | 'invalid_request'
  | 'invalid_grant'
  | 'invalid_client'
  | 'unsupported_grant_type'
  | 'invalid_token'
  | 'not_found'
  | 'rate_limited'
  | 'server_error'
  | 'service_unavailable';

/** The JSON body of every error answer. */
export interface SimErrorBody {
  error: SimErrorCode;
  message?: string;
  /** The request field (query parameter or body property) that was rejected. */
  field?: string;
}

/** An error a handler throws to answer with `status` and a JSON error body. */
export class SimHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: SimErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message ?? body.error);
    this.name = 'SimHttpError';
  }
}

/** 400 `invalid_request` naming the offending field. */
export function invalidRequest(field: string, message: string): SimHttpError {
  return new SimHttpError(400, { error: 'invalid_request', message, field });
}

/** 404 `not_found`. */
export function notFound(message = 'no such record'): SimHttpError {
  return new SimHttpError(404, { error: 'not_found', message });
}
