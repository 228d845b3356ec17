/**
 * Holds and bookings in flight as a {@link SearchSource} of Appointments (issue 10 item 1; IHE ITI-116): each is a
 * `pending` Appointment built from its saga (held-appointment.ts), readable by its id — the `Location` of a `202
 * booking-pending` answer and the id `$hold` returns — and matched by Appointment searches by the store's own
 * rules while it runs. Once a booking is committed its appointment is in the store under the same id; a saga
 * that commits while a search runs is left out here when the store already has it, so no page lists it twice.
 */
import type { Appointment, Resource } from '@medplum/fhirtypes';
import type { BookingService } from '../../src/booking/booking-service.js';
import { readResource } from '../../src/store/resource-store.js';
import type { FhirRequestContext } from '../access.js';
import { heldAppointment } from '../booking/held-appointment.js';
import { countInMemory, pageInMemory, type SearchSource, type SourceQuery } from './search-sources.js';

export function bookingsInFlightSource(booking: () => BookingService): SearchSource {
  const running = async (ctx: FhirRequestContext): Promise<Appointment[]> => {
    const appointments: Appointment[] = [];
    for (const held of await booking().bookingsInFlight(ctx.tenant.id)) {
      if (await readResource(ctx.store, ctx.tenant.id, 'Appointment', held.holdId)) continue;
      appointments.push(await heldAppointment(ctx, held));
    }
    return appointments;
  };
  return {
    page: async (query: SourceQuery) => pageInMemory(await running(query.ctx), query),
    count: async (query: SourceQuery) => countInMemory(await running(query.ctx), query),
    async read(ctx: FhirRequestContext, id: string): Promise<Resource | undefined> {
      const held = await booking().bookingInFlight(ctx.tenant.id, id);
      // Committed: the store has the appointment (under this id for a new booking).
      return held && held.state !== 'confirmed' ? heldAppointment(ctx, held) : undefined;
    },
  };
}
