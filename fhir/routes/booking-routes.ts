/**
 * The FHIR surface of booking (DESIGN.md sections 2 and 4; standards.md 1, 3.4, 6), registered on the facade's
 * router under `/:tenant`:
 *
 * | route | what |
 * |---|---|
 * | `POST Appointment` | book (create); `Idempotency-Key`, `If-None-Exist` |
 * | `PUT Appointment/{id}` | cancel (status) or reschedule (start/end); `If-Match` required |
 * | `PATCH Appointment/{id}` | cancel (JSON Patch `/status` → `cancelled`); releases a hold too |
 * | `GET`/`POST Appointment/$find` | IHE ITI-115: proposed Appointments |
 * | `POST Appointment/$hold` | IHE ITI-116: hold a proposal for a few minutes |
 * | `POST Appointment/$book` | IHE ITI-117: book a hold / proposal / new appointment; modify; cancel |
 * | `POST Patient` | register a new patient (or return the certain match); flagged for staff review |
 * | `POST Patient/$match` | graded matches |
 *
 * Every route goes through the kit: format negotiation, authentication, bounded JSON body parsing, then a handler
 * that authorizes and audits (`audited` / `auditedOperation`). Failures of the saga answer an OperationOutcome
 * with Switchboard's precise code and alternatives (fhir/booking/booking-outcome.ts).
 * {@link bookingCapabilities} is what these routes add to the CapabilityStatement.
 */
import type { Router } from 'express';
import type { BookingService } from '../../src/booking/booking-service.js';
import type { CapabilityContribution } from '../capability-statement.js';
import type { FacadeRouteKit } from '../fhir-router.js';
import { queryParams } from '../request-context.js';
import { createAppointment } from '../booking/appointment-create.js';
import { JSON_PATCH, patchAppointment } from '../booking/appointment-patch.js';
import { updateAppointment } from '../booking/appointment-update.js';
import type { BookingHandlerDeps } from '../booking/booking-handler-deps.js';
import { IDEMPOTENCY_DOCUMENTATION } from '../booking/idempotency.js';
import { createPatient } from '../booking/patient-create.js';
import { BOOK_OPERATION, bookAppointment } from '../operations/appointment-book.js';
import {
  FIND_OPERATION,
  findAppointments,
  findInputFromParameters,
  findInputFromQuery,
} from '../operations/appointment-find.js';
import { HOLD_OPERATION, holdAppointment } from '../operations/appointment-hold.js';
import { MATCH_OPERATION, matchPatient } from '../operations/patient-match.js';

/** How long a `$hold` keeps its time unless told otherwise. */
export const DEFAULT_HOLD_SECONDS = 300;

export interface BookingRouteDeps {
  /** The booking saga, or a getter for it (the app builds it once the store is open). */
  booking: BookingService | (() => BookingService);
  now: () => Date;
  /** How long a `$hold` lasts; default {@link DEFAULT_HOLD_SECONDS}. */
  holdSeconds?: number;
}

export function bookingRoutes(deps: BookingRouteDeps): (router: Router, kit: FacadeRouteKit) => void {
  const booking = typeof deps.booking === 'function' ? deps.booking : () => deps.booking as BookingService;
  return (router, kit) => {
    const handlerDeps: BookingHandlerDeps = {
      interaction: kit.deps,
      booking,
      now: deps.now,
      holdTtlMs: (deps.holdSeconds ?? DEFAULT_HOLD_SECONDS) * 1000,
    };
    const json = { body: 'json' } as const;
    router.get(
      '/:tenant/Appointment/$find',
      ...kit.handler((ctx, req) => findAppointments(ctx, handlerDeps, findInputFromQuery(queryParams(req)))),
    );
    router.post(
      '/:tenant/Appointment/$find',
      ...kit.handler(
        (ctx, req) => findAppointments(ctx, handlerDeps, findInputFromParameters(req.body)),
        json,
      ),
    );
    router.post(
      '/:tenant/Appointment/$hold',
      ...kit.handler((ctx, req) => holdAppointment(ctx, handlerDeps, req), json),
    );
    router.post(
      '/:tenant/Appointment/$book',
      ...kit.handler((ctx, req) => bookAppointment(ctx, handlerDeps, req), json),
    );
    router.post(
      '/:tenant/Appointment',
      ...kit.handler((ctx, req) => createAppointment(ctx, handlerDeps, req), json),
    );
    router.put(
      '/:tenant/Appointment/:id',
      ...kit.handler((ctx, req) => updateAppointment(ctx, handlerDeps, req), json),
    );
    router.patch(
      '/:tenant/Appointment/:id',
      ...kit.handler((ctx, req) => patchAppointment(ctx, handlerDeps, req), json),
    );
    router.post(
      '/:tenant/Patient/$match',
      ...kit.handler((ctx, req) => matchPatient(ctx, handlerDeps, req), json),
    );
    router.post('/:tenant/Patient', ...kit.handler((ctx, req) => createPatient(ctx, handlerDeps, req), json));
  };
}

/** What {@link bookingRoutes} adds to the CapabilityStatement (pass as `contributions`). */
export const bookingCapabilities: readonly CapabilityContribution[] = [
  {
    type: 'Appointment',
    interactions: ['create', 'update', 'patch'],
    conditionalCreate: true,
    operations: [FIND_OPERATION, HOLD_OPERATION, BOOK_OPERATION],
    documentation:
      'Writes book in the records system through a saga (hold, live re-check, write, verify, commit). create: a slot reference or start/end, Patient + Practitioner (+ Location) participants, appointmentType; If-None-Exist and Idempotency-Key honoured. update: If-Match required (428 without, 412 when stale); only status → cancelled or a new start/end. patch: JSON Patch setting status to cancelled. A refusal is an OperationOutcome whose details.coding (https://switchboard.health/fhir/CodeSystem/issue) gives the precise code and whose contained Slots are alternatives.',
    patchFormats: [JSON_PATCH],
    restDocumentation: IDEMPOTENCY_DOCUMENTATION,
  },
  {
    type: 'Patient',
    interactions: ['create'],
    conditionalCreate: true,
    operations: [MATCH_OPERATION],
    documentation:
      'create registers a new patient in the records system, tagged needs-review for staff; a certain match (name, birth date and phone) is returned with 200 instead of a duplicate.',
  },
];
