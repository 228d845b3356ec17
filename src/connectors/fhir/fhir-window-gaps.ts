/**
 * A window's busy time on an upstream FHIR server, as `busy-unavailable` gap Slots (issue 12 item 3): from the
 * open Slots the server publishes (fhir-slot-gaps.ts), or — for booking's live re-check of one practitioner on a
 * server with `$find` — from what `$find` offers (fhir-find-book.ts). None when the server publishes no Slots and
 * the configured working hours are all there is.
 */
import type { Schedule, Slot } from '@medplum/fhirtypes';
import type { UpstreamRecord, WindowQuery } from '../connector.js';
import type { FhirUpstreamCapabilities } from './fhir-capabilities.js';
import type { FhirClient } from './fhir-client.js';
import { findGapRecords } from './fhir-find-book.js';
import { scheduleRefs } from './fhir-mapping.js';
import { localDaysCovering, searchChunks, slotGapRecords } from './fhir-slot-gaps.js';

export async function windowGapRecords(
  client: FhirClient,
  upstream: FhirUpstreamCapabilities,
  /** The upstream's Schedules and the practice zone (known once reference data was read): read when needed. */
  reference: () => Promise<{ schedules: readonly Schedule[]; zone: string }>,
  window: WindowQuery,
  signal: AbortSignal | undefined,
): Promise<UpstreamRecord<Slot>[]> {
  if (upstream.findAndBook && window.practitionerUpstreamId) {
    const { schedules, zone } = await reference();
    return findGapRecords(client, schedules, window, zone, signal);
  }
  if (upstream.availability === 'hours') return [];
  const { schedules: all, zone } = await reference();
  const schedules = all.filter(
    (s) =>
      !window.practitionerUpstreamId ||
      scheduleRefs(s).some(
        (r) => r.resourceType === 'Practitioner' && r.upstreamId === window.practitionerUpstreamId,
      ),
  );
  const days = localDaysCovering(window.from, window.to, zone);
  const first = days[0];
  const last = days[days.length - 1];
  if (!first || !last || schedules.length === 0) return [];
  const slots: Slot[] = [];
  for (const chunk of searchChunks(first.start, last.end, upstream.slotSearchMaxDays)) {
    slots.push(
      ...(await client.search<Slot>(
        'Slot',
        [
          ['start', `ge${chunk.from.toISOString()}`],
          ['start', `lt${chunk.to.toISOString()}`],
        ],
        signal,
      )),
    );
  }
  return slotGapRecords(schedules, days, slots, window, zone);
}
