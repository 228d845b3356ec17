/**
 * What the booking handlers (writes and scheduling operations) share: the facade's interaction dependencies, the
 * booking saga, the clock, and the hold length. Built once by `bookingRoutes`.
 */
import type { BookingService } from '../../src/booking/booking-service.js';
import type { InteractionDeps } from '../interactions/interaction-deps.js';

export interface BookingHandlerDeps {
  interaction: InteractionDeps;
  /** The booking saga; a getter because the app builds it once the store is open. */
  booking(): BookingService;
  now(): Date;
  /** How long a `$hold` keeps its time. */
  holdTtlMs: number;
}
