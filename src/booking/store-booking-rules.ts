/**
 * The booking rules over the store (DESIGN.md section 4, step 1): the same computed availability Slot search
 * offers — hours, blocks and closures, type windows, minimum notice, horizon, appointments already known and time
 * other bookings hold right now — so a slot found by search is exactly a slot booking accepts.
 */
import type { Slot } from '@medplum/fhirtypes';
import type { TenantConfig } from '../config.js';
import { isSlotFree, searchSlots } from '../availability/availability-service.js';
import { readScheduleRules } from '../availability/schedule-rules.js';
import { scheduleIdAt } from '../availability/schedules.js';
import type { Store } from '../store/database.js';
import { readResource } from '../store/resource-store.js';
import type { BookingRequest } from './booking-types.js';
import type { BookingRules, RuleVerdict } from './booking-service.js';

const DAY_MS = 24 * 3600_000;

export function createStoreBookingRules(store: Store): BookingRules {
  return {
    async check(tenant, request, now): Promise<RuleVerdict> {
      const scheduleId = await scheduleIdAt(store, tenant.id, request.practitionerId, request.locationId);
      if (!scheduleId) {
        return { ok: false, code: 'outside-hours', message: 'that practitioner does not see patients there' };
      }
      const result = await isSlotFree(store, tenant, {
        scheduleId,
        start: request.start,
        minutes: request.minutes,
        typeCode: request.appointmentTypeCode,
        now,
        ignoreAppointmentIds: request.ignoreAppointmentId ? [request.ignoreAppointmentId] : [],
      });
      if (!result.free) {
        const code = result.reason === 'unknown-schedule' ? 'outside-hours' : result.reason;
        return { ok: false, code, message: result.message };
      }
      const schedule = (await readResource(store, tenant.id, 'Schedule', scheduleId))?.resource;
      const type =
        schedule && readScheduleRules(schedule).types.find((t) => t.code === request.appointmentTypeCode);
      return { ok: true, newPatientOnly: type?.newPatientOnly ?? false, scheduleId };
    },

    async alternatives(
      tenant: TenantConfig,
      request: BookingRequest,
      now: Date,
      limit: number,
    ): Promise<Slot[]> {
      const around = {
        from: new Date(request.start.getTime() - DAY_MS),
        to: new Date(request.start.getTime() + 14 * DAY_MS),
      };
      // The requested time is what just failed (the store may not know yet who took it): never offer it back.
      const requestEnd = request.start.getTime() + request.minutes * 60_000;
      const ownSchedule = await scheduleIdAt(store, tenant.id, request.practitionerId, request.locationId);
      const isRequested = (slot: Slot) =>
        slot.schedule.reference === `Schedule/${ownSchedule ?? ''}` &&
        Date.parse(slot.start) < requestEnd &&
        Date.parse(slot.end) > request.start.getTime();
      const search = (practitionerIds?: string[]) =>
        searchSlots(store, tenant, {
          ...around,
          practitionerIds,
          serviceTypeCodes: [request.appointmentTypeCode],
          now,
        });
      const byCloseness = (slots: Slot[]) =>
        slots
          .filter((s) => s.start !== undefined && !isRequested(s))
          .sort(
            (a, b) =>
              Math.abs(Date.parse(a.start) - request.start.getTime()) -
              Math.abs(Date.parse(b.start) - request.start.getTime()),
          );
      const same = byCloseness(await search([request.practitionerId])).slice(0, limit);
      if (same.length >= limit) return same;
      const others = byCloseness(await search()).filter((s) => !same.some((t) => t.id === s.id));
      return [...same, ...others].slice(0, limit);
    },
  };
}
