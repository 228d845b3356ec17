/**
 * Test controls of the simulated records system (DESIGN.md section 2): `GET`/`POST /_sim/faults`,
 * `POST /_sim/reset` and `GET /_sim/calls` (calls received per firm). Outside `/firm`, so they are never rate-limited, faulted or authenticated: a test must be
 * able to switch an outage off while the outage is on.
 */
import express, { Router } from 'express';
import type { SimContext } from './sim-context.js';
import { parseSimFaultsPatch } from './sim-faults.js';
import { sendSimFailure, sendSimResult } from './sim-respond.js';

/** What the controls act on; the FHIR records-system simulator passes its own (the same fault model). */
export type SimControlContext = Pick<SimContext, 'faults' | 'resetAll' | 'onError' | 'calls'>;

/** The control router, mounted at `/_sim`. */
export function createControlRouter(ctx: SimControlContext): Router {
  const router = Router();
  router.get('/faults', (_req, res) => sendSimResult(res, { status: 200, body: ctx.faults.current }));
  router.post('/faults', express.json({ limit: '16kb' }), (req, res) => {
    try {
      sendSimResult(res, { status: 200, body: ctx.faults.merge(parseSimFaultsPatch(req.body)) });
    } catch (error) {
      sendSimFailure(ctx, res, error);
    }
  });
  router.get('/calls', (_req, res) => sendSimResult(res, { status: 200, body: ctx.calls.snapshot() }));
  router.post('/reset', (_req, res) => {
    ctx.resetAll();
    sendSimResult(res, { status: 200, body: { ok: true } });
  });
  return router;
}
