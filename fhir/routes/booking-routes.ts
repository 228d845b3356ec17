/**
 * The FHIR surface of booking (DESIGN.md sections 2 and 4; standards.md 1, 3.4, 6), as a route table of
 * the facade (`createFhirHandler({ routes })`), below `/fhir/{tenant}`:
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
 * Routes are data the facade's handler dispatches (the HTTP edge negotiates the format, authenticates and parses
 * the bounded JSON body first); each handler authorizes and audits (`audited` / `auditedOperation`). Failures of the saga answer an OperationOutcome
 * with Switchboard's precise code and alternatives (fhir/booking/booking-outcome.ts).
 * {@link bookingCapabilities} is what these routes add to the CapabilityStatement.
 */
import type { BookingService } from '../../src/booking/booking-service.js';
import type { CapabilityContribution } from '../capability-statement.js';
import type { FhirRouteModule } from '../fhir-route.js';
import { createAppointment } from '../booking/appointment-create.js';
import { JSON_PATCH, patchAppointment } from '../booking/appointment-patch.js';
import { updateAppointment } from '../booking/appointment-update.js';
import type { BookingHandlerDeps } from '../booking/booking-handler-deps.js';
import { IHE_APPOINTMENT_PROFILE, IHE_SCHEDULING_SERVER } from '../booking/ihe-profiles.js';
import { IDEMPOTENCY_DOCUMENTATION } from '../booking/idempotency.js';
import { createPatient } from '../booking/patient-create.js';
import { BOOK_DEFINITION, BOOK_OPERATION, bookAppointment } from '../operations/appointment-book.js';
import { FIND_DEFINITION } from '../operations/appointment-find-definition.js';
import { FIND_OPERATION, findAppointments } from '../operations/appointment-find.js';
import { HOLD_DEFINITION, HOLD_OPERATION, holdAppointment } from '../operations/appointment-hold.js';
import { MATCH_DEFINITION, MATCH_OPERATION, matchPatient } from '../operations/patient-match.js';
import type { OperationSpec } from '../operations/operation-definition.js';

/** How long a `$hold` keeps its time unless told otherwise. */
export const DEFAULT_HOLD_SECONDS = 300;

export interface BookingRouteDeps {
  /** The booking saga, or a getter for it (the app builds it once the store is open). */
  booking: BookingService | (() => BookingService);
  now: () => Date;
  /** How long a `$hold` lasts; default {@link DEFAULT_HOLD_SECONDS}. */
  holdSeconds?: number;
}

export function bookingRoutes(deps: BookingRouteDeps): FhirRouteModule {
  const booking = typeof deps.booking === 'function' ? deps.booking : () => deps.booking as BookingService;
  return (interaction) => {
    const d: BookingHandlerDeps = {
      interaction,
      booking,
      now: deps.now,
      holdTtlMs: (deps.holdSeconds ?? DEFAULT_HOLD_SECONDS) * 1000,
    };
    return [
      {
        method: 'GET',
        path: 'Appointment/$find',
        handle: (request, ctx) => findAppointments(ctx, d, request),
      },
      {
        method: 'POST',
        path: 'Appointment/$find',
        body: 'json',
        handle: (request, ctx) => findAppointments(ctx, d, request),
      },
      {
        method: 'POST',
        path: 'Appointment/$hold',
        body: 'json',
        handle: (r, ctx) => holdAppointment(ctx, d, r),
      },
      {
        method: 'POST',
        path: 'Appointment/$book',
        body: 'json',
        handle: (r, ctx) => bookAppointment(ctx, d, r),
      },
      { method: 'POST', path: 'Appointment', body: 'json', handle: (r, ctx) => createAppointment(ctx, d, r) },
      {
        method: 'PUT',
        path: 'Appointment/:id',
        body: 'json',
        handle: (r, ctx) => updateAppointment(ctx, d, r),
      },
      {
        method: 'PATCH',
        path: 'Appointment/:id',
        body: 'json',
        handle: (r, ctx) => patchAppointment(ctx, d, r),
      },
      { method: 'POST', path: 'Patient/$match', body: 'json', handle: (r, ctx) => matchPatient(ctx, d, r) },
      { method: 'POST', path: 'Patient', body: 'json', handle: (r, ctx) => createPatient(ctx, d, r) },
    ];
  };
}

/** The OperationDefinitions of the booking operations (serve with `operationDefinitionRoutes`). */
export const BOOKING_OPERATION_DEFINITIONS: readonly OperationSpec[] = [
  FIND_DEFINITION,
  HOLD_DEFINITION,
  BOOK_DEFINITION,
  MATCH_DEFINITION,
];

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
    supportedProfiles: [IHE_APPOINTMENT_PROFILE],
    instantiates: [IHE_SCHEDULING_SERVER],
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
