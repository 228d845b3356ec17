/**
 * `practice_info`: what a receptionist knows by heart — locations with address and hours, practitioners with their
 * specialty and when they see new patients, the appointment types (code, plain name, length, who offers them) and
 * the closures coming up (issue 13 item 2). Read through the facade: Location, Practitioner, Schedule and the
 * busy-unavailable Slots that are the practice's blocks and closures.
 */
import type { Slot } from '@medplum/fhirtypes';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { WorkingWindow } from '../../src/availability/schedule-rules.js';
import { loadPracticeDirectory, type PracticeDirectory, type ScheduleEntry } from '../practice-directory.js';
import { requireScopes, spokenTime, type ToolContext } from '../tool-context.js';
import { toolResult } from '../tool-result.js';

const CLOSURE_DAYS = 30;
const DAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

const outputSchema = {
  practice: z.string(),
  time_zone: z.string(),
  locations: z.array(
    z.object({
      location_id: z.string(),
      name: z.string(),
      address: z.string().optional(),
      phone: z.string().optional(),
      hours: z.array(z.string()).describe('Opening hours, one line per weekday: "Mon 08:00-17:00"'),
    }),
  ),
  practitioners: z.array(
    z.object({
      practitioner_id: z.string(),
      name: z.string(),
      specialty: z.string().optional(),
      locations: z.array(z.string()),
      new_patients: z.string().describe('Whether and when they see new patients'),
    }),
  ),
  appointment_types: z.array(
    z.object({
      code: z.string(),
      name: z.string(),
      minutes: z.number().int(),
      new_patients_only: z.boolean(),
      offered_by: z.array(z.string()),
    }),
  ),
  closures: z.array(
    z.object({
      start: z.string(),
      end: z.string(),
      reason: z.string(),
      applies_to: z.string().describe('A practitioner and location, as "Dr. X at Y"'),
    }),
  ),
};

export function registerPracticeInfo(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'practice_info',
    {
      title: 'Practice information',
      description:
        'Locations (address, hours), practitioners (specialties, who takes new patients and when), appointment types (code, plain name, minutes, who offers them) and closures in the next 30 days.',
      inputSchema: {},
      outputSchema,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async () => {
      requireScopes(ctx, 'practice_info', [
        ['Location', 'rs'],
        ['Practitioner', 'rs'],
        ['Schedule', 'rs'],
        ['Slot', 'rs'],
      ]);
      const directory = await loadPracticeDirectory(ctx.fhir, ctx.tenant.timezone);
      const now = ctx.now();
      const until = new Date(now.getTime() + CLOSURE_DAYS * 86_400_000);
      const busy = await ctx.fhir.search<Slot>('Slot', {
        status: 'busy-unavailable',
        start: `lt${until.toISOString()}`,
        _count: '500',
      });
      const closures = closuresOf(busy, directory, now);
      const structured = {
        practice: ctx.tenant.name ?? ctx.tenant.id,
        time_zone: directory.zone,
        locations: directory.locations.map((l) => ({
          location_id: l.id,
          name: l.name,
          ...(l.address ? { address: l.address } : {}),
          ...(l.phone ? { phone: l.phone } : {}),
          hours: hoursOf(
            directory.schedules.filter((s) => s.locationId === l.id).flatMap((s) => s.rules.windows),
          ),
        })),
        practitioners: directory.practitioners.map((p) => {
          const schedules = directory.schedules.filter((s) => s.practitionerId === p.id);
          return {
            practitioner_id: p.id,
            name: p.name,
            ...(p.specialty ? { specialty: p.specialty } : {}),
            locations: [
              ...new Set(schedules.map((s) => directory.location(s.locationId)?.name ?? s.locationId)),
            ],
            new_patients: newPatientHours(schedules, directory),
          };
        }),
        appointment_types: directory.types.map((t) => ({
          code: t.code,
          name: t.name,
          minutes: t.minutes,
          new_patients_only: t.newPatientOnly,
          offered_by: t.offeredBy.map((id) => directory.practitioner(id)?.name ?? id),
        })),
        closures,
      };
      const text =
        `${structured.practice}: ${directory.locations.length} locations (${directory.locations.map((l) => l.name).join('; ')}), ` +
        `${directory.practitioners.length} practitioners, appointment types ${directory.types.map((t) => t.name).join(', ')}. ` +
        (closures.length === 0
          ? `No closures in the next ${CLOSURE_DAYS} days.`
          : `${closures.length} closures in the next ${CLOSURE_DAYS} days, the first ${closures[0]?.applies_to} from ${spokenTime(closures[0]?.start ?? now, directory.zone)} (${closures[0]?.reason}).`);
      return toolResult(text, structured);
    },
  );
}

/** Each weekday's windows merged: `Mon 08:00-12:00, 13:00-17:00`. */
function hoursOf(windows: readonly WorkingWindow[]): string[] {
  const lines: string[] = [];
  for (let weekday = 1; weekday <= 7; weekday++) {
    const spans = windows
      .filter((w) => w.weekday === weekday)
      .map((w) => [w.start, w.end] as [string, string])
      .sort((a, b) => a[0].localeCompare(b[0]));
    const merged: [string, string][] = [];
    for (const span of spans) {
      const last = merged[merged.length - 1];
      if (last && span[0] <= last[1]) last[1] = span[1] > last[1] ? span[1] : last[1];
      else merged.push([...span]);
    }
    if (merged.length > 0)
      lines.push(`${DAY_NAMES[weekday - 1]} ${merged.map(([a, b]) => `${a}-${b}`).join(', ')}`);
  }
  return lines;
}

function newPatientHours(schedules: readonly ScheduleEntry[], directory: PracticeDirectory): string {
  const parts = schedules.flatMap((s) => {
    const newTypes = s.rules.types.filter((t) => t.newPatientOnly).map((t) => t.code);
    if (newTypes.length === 0) return [];
    const windows = s.rules.windows.filter(
      (w) => w.typeCodes === null || w.typeCodes.some((c) => newTypes.includes(c)),
    );
    if (windows.length === 0) return [];
    return [`${hoursOf(windows).join('; ')} at ${directory.location(s.locationId)?.name ?? s.locationId}`];
  });
  return parts.length === 0 ? 'Does not see new patients.' : `Sees new patients ${parts.join('; ')}.`;
}

function closuresOf(slots: readonly Slot[], directory: PracticeDirectory, now: Date) {
  const seen = new Set<string>();
  return slots
    .filter((s) => new Date(s.end).getTime() > now.getTime())
    .flatMap((s) => {
      const scheduleId = s.schedule.reference?.replace(/^Schedule\//, '') ?? '';
      const schedule = directory.schedules.find((x) => x.id === scheduleId);
      const who = schedule
        ? `${directory.practitioner(schedule.practitionerId)?.name ?? 'a practitioner'} at ${directory.location(schedule.locationId)?.name ?? 'a location'}`
        : 'the practice';
      const closure = { start: s.start, end: s.end, reason: s.comment ?? 'Closed', applies_to: who };
      const key = JSON.stringify(closure);
      if (seen.has(key)) return [];
      seen.add(key);
      return [closure];
    })
    .sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
}
