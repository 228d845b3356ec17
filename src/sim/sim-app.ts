/**
 * The simulated records system's express application (DESIGN.md section 2): `/_sim` controls, and per firm the
 * gate (faults, rate limit), the token endpoint and the bearer-protected `/api`.
 */
import express, { Router } from 'express';
import type { Express } from 'express';
import type { SimContext } from './sim-context.js';
import { createAppointmentRouter } from './sim-appointment-routes.js';
import { requireBearer } from './sim-bearer-guard.js';
import { createControlRouter } from './sim-control-routes.js';
import { createFirmGate } from './sim-firm-gate.js';
import { notFound } from './sim-http-error.js';
import { createOAuthRouter } from './sim-oauth-routes.js';
import { createPatientRouter } from './sim-patient-routes.js';
import { createReferenceRouter } from './sim-reference-routes.js';
import { simErrorHandler } from './sim-respond.js';

/** Builds the HTTP application of one sim instance. */
export function createSimApp(ctx: SimContext): Express {
  const app = express();
  app.disable('x-powered-by');
  // No ETags: a records system of this kind has none, and a 304 would hide what a poll really returned.
  app.disable('etag');

  app.use('/_sim', createControlRouter(ctx));

  const firm = Router({ mergeParams: true });
  firm.use(createFirmGate(ctx));
  firm.use('/oauth', createOAuthRouter(ctx));
  firm.use(
    '/api',
    requireBearer(ctx.tokens),
    express.json({ limit: '256kb' }),
    createReferenceRouter(ctx),
    createPatientRouter(ctx),
    createAppointmentRouter(ctx),
  );
  app.use('/firm/:firm', firm);

  app.use(() => {
    throw notFound('no such endpoint');
  });
  app.use(simErrorHandler(ctx));
  return app;
}
