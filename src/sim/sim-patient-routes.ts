/**
 * Patients in the simulated records system (DESIGN.md section 2): search, read, create, replace, and the
 * appointment history. Name search is a case- and accent-insensitive prefix match, the phone is compared by its
 * digits, `modifiedSince` is a practice-local wall time.
 */
import { Router } from 'express';
import type { SimContext } from './sim-context.js';
import { invalidRequest, notFound } from './sim-http-error.js';
import { byId, paginate, parsePageRequest } from './sim-paging.js';
import { parsePatientInput } from './sim-patient-input.js';
import { optionalDate, optionalString, optionalWallTime, recordIdParam } from './sim-query-params.js';
import { ok, simHandler } from './sim-respond.js';
import { matchesNamePrefix, phoneDigits } from './sim-text-match.js';
import { compareWallTimes, wallTimeKey } from './sim-wall-time-order.js';

/** The patient calls, mounted at `/firm/{firm}/api`. */
export function createPatientRouter(ctx: SimContext): Router {
  const router = Router();

  router.get(
    '/patients',
    simHandler(ctx, (req, firm) => {
      const lastName = optionalString(req.query, 'lastName');
      const firstName = optionalString(req.query, 'firstName');
      const dob = optionalDate(req.query, 'dob');
      const phoneQuery = optionalString(req.query, 'phone');
      const phone = phoneQuery === undefined ? undefined : phoneDigits(phoneQuery);
      if (phone === '') throw invalidRequest('phone', 'phone must contain digits');
      const modifiedSince = optionalWallTime(req.query, 'modifiedSince');
      const paging = parsePageRequest(req.query);
      const matches = firm.data.patients.filter(
        (p) =>
          (lastName === undefined || matchesNamePrefix(p.lastName, lastName)) &&
          (firstName === undefined || matchesNamePrefix(p.firstName, firstName)) &&
          (dob === undefined || p.dob === dob) &&
          (phone === undefined || (p.phone !== null && phoneDigits(p.phone) === phone)) &&
          (modifiedSince === undefined || wallTimeKey(p.modifiedAt) >= modifiedSince),
      );
      return ok(paginate(matches.sort(byId), paging));
    }),
  );

  router.get(
    '/patients/:id',
    simHandler(ctx, (req, firm) => {
      const patient = firm.findPatient(recordIdParam(req.params.id));
      if (!patient) throw notFound();
      return ok(patient);
    }),
  );

  router.get(
    '/patients/:id/history',
    simHandler(ctx, (req, firm) => {
      const patientId = recordIdParam(req.params.id);
      if (!firm.findPatient(patientId)) throw notFound();
      const paging = parsePageRequest(req.query);
      const visits = firm.data.appointments
        .filter((a) => a.patientId === patientId)
        .sort((a, b) => compareWallTimes(a.start, b.start) || a.id - b.id);
      return ok(paginate(visits, paging));
    }),
  );

  router.post(
    '/patients',
    simHandler(
      ctx,
      (req, firm) => {
        const patient = firm.createPatient(parsePatientInput(req.body, firm.today()));
        return {
          status: 201,
          body: patient,
          headers: { Location: `/firm/${firm.key}/api/patients/${patient.id}` },
        };
      },
      'write',
    ),
  );

  router.put(
    '/patients/:id',
    simHandler(
      ctx,
      (req, firm) => {
        const id = recordIdParam(req.params.id);
        if (!firm.findPatient(id)) throw notFound();
        const patient = firm.updatePatient(id, parsePatientInput(req.body, firm.today()));
        if (!patient) throw notFound();
        return ok(patient);
      },
      'write',
    ),
  );

  return router;
}
