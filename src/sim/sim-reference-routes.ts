/**
 * Reference data of the simulated records system (DESIGN.md section 2): providers, locations, appointment types,
 * weekly templates and blocks. Plain JSON arrays, not paged, in id order.
 */
import { Router } from 'express';
import type { SimContext } from './sim-context.js';
import { byId } from './sim-paging.js';
import { optionalPositiveInt, optionalWallTime } from './sim-query-params.js';
import { wallTimeKey } from './sim-wall-time-order.js';
import { ok, simHandler } from './sim-respond.js';

/** `GET /providers`, `/locations`, `/appointment-types`, `/templates`, `/blocks`, mounted at `/firm/{firm}/api`. */
export function createReferenceRouter(ctx: SimContext): Router {
  const router = Router();
  router.get(
    '/providers',
    simHandler(ctx, (_req, firm) => ok([...firm.data.providers].sort(byId))),
  );
  router.get(
    '/locations',
    simHandler(ctx, (_req, firm) => ok([...firm.data.locations].sort(byId))),
  );
  router.get(
    '/appointment-types',
    simHandler(ctx, (_req, firm) => ok([...firm.data.appointmentTypes].sort(byId))),
  );
  router.get(
    '/templates',
    simHandler(ctx, (req, firm) => {
      const providerId = optionalPositiveInt(req.query, 'providerId');
      const templates = firm.data.templates.filter(
        (t) => providerId === undefined || t.providerId === providerId,
      );
      return ok(templates.sort(byId));
    }),
  );
  router.get(
    '/blocks',
    simHandler(ctx, (req, firm) => {
      const from = optionalWallTime(req.query, 'from');
      const to = optionalWallTime(req.query, 'to');
      const providerId = optionalPositiveInt(req.query, 'providerId');
      const blocks = firm.data.blocks.filter((b) => {
        // A practice-wide block (providerId null) applies to every provider, so a provider filter keeps it.
        if (providerId !== undefined && b.providerId !== null && b.providerId !== providerId) return false;
        // Overlap with [from, to): the block ends after `from` and starts before `to`.
        if (from !== undefined && wallTimeKey(b.end) <= from) return false;
        if (to !== undefined && wallTimeKey(b.start) >= to) return false;
        return true;
      });
      return ok(blocks.sort(byId));
    }),
  );
  return router;
}
