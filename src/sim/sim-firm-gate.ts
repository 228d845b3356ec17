/**
 * Everything that happens to a `/firm/{firm}/…` call before its handler (DESIGN.md section 2): the firm is looked
 * up (unknown → 404), then the faults apply in the order a real deployment would show them — an outage answers
 * before anything else, latency is paid before the gateway counts the call against the rate limit, and only calls
 * that got past the limit can hang or fail.
 */
import type { RequestHandler } from 'express';
import type { SimContext } from './sim-context.js';
import { SimHttpError, notFound } from './sim-http-error.js';
import { attachFirm } from './sim-request-firm.js';

/** The middleware that resolves the firm and applies outage, latency, rate limit, hang and error faults. */
export function createFirmGate(ctx: SimContext): RequestHandler {
  return async (req, res, next) => {
    const key = typeof req.params.firm === 'string' ? req.params.firm : '';
    const firm = ctx.firm(key);
    if (!firm) throw notFound(`unknown firm ${JSON.stringify(key)}`);
    ctx.calls.count(firm.key, req.headers.authorization);
    if (ctx.faults.current.down) {
      throw new SimHttpError(503, { error: 'service_unavailable', message: 'the records system is down' });
    }
    const delay = ctx.faults.delayMs();
    if (delay > 0) await ctx.sleep(delay);
    const verdict = ctx.rateLimiter.take(firm.key, ctx.faults.current.rateLimitPerMinute);
    if (!verdict.allowed) {
      throw new SimHttpError(
        429,
        { error: 'rate_limited', message: `too many calls; retry after ${verdict.retryAfterSeconds} s` },
        { 'Retry-After': String(verdict.retryAfterSeconds) },
      );
    }
    // Never answered: the socket stays open until the client gives up or the sim stops.
    if (ctx.faults.shouldHang()) return;
    if (ctx.faults.shouldFail()) {
      throw new SimHttpError(500, { error: 'server_error', message: 'internal error' });
    }
    attachFirm(res, firm);
    next();
  };
}
