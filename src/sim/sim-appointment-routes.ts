/**
 * Appointments in the simulated records system (DESIGN.md section 2): search, read, book, reschedule, cancel and
 * hard-delete. No conflict checking, no idempotency, no transactions — the quirks Switchboard's booking saga must
 * make safe. `from`/`to` filter on the start (`from <= start < to`), in practice-local wall time.
 */
import { Router } from 'express';
import type { SimContext } from './sim-context.js';
import { parseAppointmentInput } from './sim-appointment-input.js';
import { asBody, optionalNullableString } from './sim-body-fields.js';
import { notFound } from './sim-http-error.js';
import { byId, paginate, parsePageRequest } from './sim-paging.js';
import { optionalPositiveInt, optionalString, optionalWallTime, recordIdParam } from './sim-query-params.js';
import { ok, simHandler } from './sim-respond.js';
import { wallTimeKey } from './sim-wall-time-order.js';

/** The appointment calls, mounted at `/firm/{firm}/api`. */
export function createAppointmentRouter(ctx: SimContext): Router {
  const router = Router();

  router.get(
    '/appointments',
    simHandler(ctx, (req, firm) => {
      const from = optionalWallTime(req.query, 'from');
      const to = optionalWallTime(req.query, 'to');
      const providerId = optionalPositiveInt(req.query, 'providerId');
      const patientId = optionalPositiveInt(req.query, 'patientId');
      // Matched byte for byte: it is an opaque marker, not text to be folded.
      const externalRef = optionalString(req.query, 'externalRef');
      const modifiedSince = optionalWallTime(req.query, 'modifiedSince');
      const paging = parsePageRequest(req.query);
      const matches = firm.data.appointments.filter((a) => {
        const start = wallTimeKey(a.start);
        return (
          (from === undefined || start >= from) &&
          (to === undefined || start < to) &&
          (providerId === undefined || a.providerId === providerId) &&
          (patientId === undefined || a.patientId === patientId) &&
          (externalRef === undefined || a.externalRef === externalRef) &&
          (modifiedSince === undefined || wallTimeKey(a.modifiedAt) >= modifiedSince)
        );
      });
      return ok(paginate(matches.sort(byId), paging));
    }),
  );

  router.get(
    '/appointments/:id',
    simHandler(ctx, (req, firm) => {
      const appointment = firm.findAppointment(recordIdParam(req.params.id));
      if (!appointment) throw notFound();
      return ok(appointment);
    }),
  );

  router.post(
    '/appointments',
    simHandler(
      ctx,
      (req, firm) => {
        const { input } = parseAppointmentInput(req.body, firm.data, false);
        const appointment = firm.createAppointment(input);
        return {
          status: 201,
          body: appointment,
          headers: { Location: `/firm/${firm.key}/api/appointments/${appointment.id}` },
        };
      },
      'write',
    ),
  );

  router.put(
    '/appointments/:id',
    simHandler(
      ctx,
      (req, firm) => {
        const id = recordIdParam(req.params.id);
        if (!firm.findAppointment(id)) throw notFound();
        const { input, status } = parseAppointmentInput(req.body, firm.data, true);
        const appointment = firm.updateAppointment(id, input, status);
        if (!appointment) throw notFound();
        return ok(appointment);
      },
      'write',
    ),
  );

  router.post(
    '/appointments/:id/cancel',
    simHandler(
      ctx,
      (req, firm) => {
        const id = recordIdParam(req.params.id);
        if (!firm.findAppointment(id)) throw notFound();
        const reason = optionalNullableString(asBody(req.body), 'reason', 500) ?? null;
        const appointment = firm.cancelAppointment(id, reason);
        if (!appointment) throw notFound();
        return ok(appointment);
      },
      'write',
    ),
  );

  router.delete(
    '/appointments/:id',
    simHandler(
      ctx,
      (req, firm) => {
        if (!firm.deleteAppointment(recordIdParam(req.params.id))) throw notFound();
        return { status: 204 };
      },
      'write',
    ),
  );

  return router;
}
