/**
 * `find_slots`: a short list of bookable times, earliest first, for an appointment type (code or plain name) with
 * a practitioner (name or id) and/or location, in a window given as dates (`from`/`to`) or words (`when`: "next
 * Tuesday afternoon", "tomorrow", "this week"), read in the practice's zone. An unknown type, practitioner or
 * location, or a type the practitioner does not offer, is a tool error naming the valid choices — never an empty
 * list that sounds like "no availability". With `patient_id`, new-patient-only types are refused for patients who
 * have been seen before. Slots come from the facade's `Slot` search (`status=free`).
 */
import type { Appointment, Slot } from '@medplum/fhirtypes';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { DateTime } from 'luxon';
import { z } from 'zod';
import {
  loadPracticeDirectory,
  type AppointmentTypeEntry,
  type PracticeDirectory,
} from '../practice-directory.js';
import { slotOutput, slotSchema, type SlotOutput } from '../slot-output.js';
import { requireScopes, type ToolContext } from '../tool-context.js';
import { ToolError } from '../tool-error.js';
import { toolResult } from '../tool-result.js';
import { DAY_PARTS, readWhen, type RequestedWindow } from '../understanding/date-words.js';

const DEFAULT_LIMIT = 5;
const MAX_LIMIT = 20;
/** Days searched one by one when a part of the day is asked for ("afternoon"). */
const MAX_PART_DAYS = 60;

const outputSchema = {
  slots: z.array(slotSchema),
  searched: z.string().describe('The window searched, as understood: "Tuesday, December 8, afternoon"'),
  next_available: slotSchema
    .optional()
    .describe('When nothing is free in the window: the first free time after it'),
};

export function registerFindSlots(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'find_slots',
    {
      title: 'Find bookable times',
      description:
        'Free appointment times, earliest first. appointment_type is a code or plain name (practice_info lists them); practitioner a name ("Dr. Chen") or id; when is words ("next Tuesday afternoon", "tomorrow", "this week", "earliest") or use from/to dates. Pass patient_id to apply new-patient rules.',
      inputSchema: {
        appointment_type: z
          .string()
          .describe('Appointment type code or plain name, e.g. follow-up or "Follow-up Visit"'),
        practitioner: z.string().optional().describe('Practitioner name or id'),
        location: z.string().optional().describe('Location name or id'),
        when: z
          .string()
          .optional()
          .describe('Words: "next Tuesday afternoon", "tomorrow", "this week", "earliest"'),
        from: z.string().optional().describe('Start of the window: a date (2026-12-08) or date-time'),
        to: z.string().optional().describe('End of the window (exclusive): a date or date-time'),
        patient_id: z.string().optional().describe('The patient, for new-patient rules'),
        limit: z
          .number()
          .int()
          .min(1)
          .max(MAX_LIMIT)
          .optional()
          .describe(`At most this many (default ${DEFAULT_LIMIT})`),
      },
      outputSchema,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args) => {
      requireScopes(ctx, 'find_slots', [
        ['Slot', 'rs'],
        ['Schedule', 'rs'],
        ['Practitioner', 'rs'],
        ['Location', 'rs'],
        ...(args.patient_id ? ([['Appointment', 's']] as const) : []),
      ]);
      const directory = await loadPracticeDirectory(ctx.fhir, ctx.tenant.timezone);
      const type = directory.resolveType(args.appointment_type);
      const practitioner = args.practitioner ? directory.resolvePractitioner(args.practitioner) : undefined;
      const location = args.location ? directory.resolveLocation(args.location) : undefined;
      if (practitioner && !type.offeredBy.includes(practitioner.id)) {
        const who = type.offeredBy.map((id) => directory.practitioner(id)?.name ?? id).join(', ');
        throw new ToolError(`${practitioner.name} does not offer ${type.name}. It is offered by: ${who}.`);
      }
      if (
        location &&
        !directory.schedules.some(
          (s) => s.locationId === location.id && (!practitioner || s.practitionerId === practitioner.id),
        )
      ) {
        throw new ToolError(`${practitioner?.name ?? 'Nobody'} works at ${location.name}.`);
      }
      if (args.patient_id && type.newPatientOnly)
        await refuseSeenPatient(ctx, args.patient_id, type, directory);
      const window = requestedWindow(args, ctx.now(), directory.zone);
      const limit = args.limit ?? DEFAULT_LIMIT;
      const filters = {
        'service-type': type.code,
        ...(practitioner ? { practitioner: `Practitioner/${practitioner.id}` } : {}),
        ...(location ? { location: `Location/${location.id}` } : {}),
      };
      const slots = await freeSlots(ctx, filters, window, limit, directory, type);
      const said = `${type.name}${practitioner ? ` with ${practitioner.name}` : ''}${location ? ` at ${location.name}` : ''}`;
      if (slots.length > 0) {
        const first = slots[0] as SlotOutput;
        return toolResult(
          `The earliest ${said} in ${window.described} is ${first.start_local_text}${slots.length > 1 ? `; ${slots.length - 1} more times are listed` : ''}.`,
          { slots, searched: window.described },
        );
      }
      const after = await freeSlots(
        ctx,
        filters,
        {
          from: window.to,
          to: new Date(window.to.getTime() + MAX_PART_DAYS * 86_400_000),
          described: 'after',
        },
        1,
        directory,
        type,
      );
      const next = after[0];
      return toolResult(
        next
          ? `Nothing is free for ${said} in ${window.described}; the next free time is ${next.start_local_text}.`
          : `Nothing is free for ${said} in ${window.described} or the ${MAX_PART_DAYS} days after it.`,
        { slots: [], searched: window.described, ...(next ? { next_available: next } : {}) },
      );
    },
  );
}

function requestedWindow(
  args: { when?: string; from?: string; to?: string },
  now: Date,
  zone: string,
): RequestedWindow {
  if (args.from || args.to) {
    const from = args.from ? readBound(args.from, zone, 'from') : now;
    const to = args.to ? readBound(args.to, zone, 'to') : new Date(from.getTime() + 7 * 86_400_000);
    if (to <= from) throw new ToolError('to must be after from.');
    const part = args.when ? readWhen(args.when, now, zone)?.part : undefined;
    const start = from < now ? now : from;
    return {
      from: start,
      to,
      ...(part ? { part } : {}),
      described: `${DateTime.fromJSDate(start, { zone }).setLocale('en-US').toFormat('LLLL d')} to ${DateTime.fromJSDate(to, { zone }).minus({ minutes: 1 }).setLocale('en-US').toFormat('LLLL d')}${part ? `, ${part}` : ''}`,
    };
  }
  const window = readWhen(args.when ?? 'earliest', now, zone);
  if (!window) {
    throw new ToolError(
      `I cannot read "${args.when}" as a time. Use words like "tomorrow", "next Tuesday afternoon", "this week", "next week", "December 8", "earliest", or give from/to dates.`,
    );
  }
  return window;
}

function readBound(text: string, zone: string, which: 'from' | 'to'): Date {
  const d = DateTime.fromISO(text, { zone });
  if (!d.isValid) throw new ToolError(`${which} "${text}" is not a date (2026-12-08) or date-time.`);
  // A bare date as `to` means through that whole day.
  return (/^\d{4}-\d{2}-\d{2}$/.test(text) && which === 'to' ? d.plus({ days: 1 }) : d).toJSDate();
}

async function freeSlots(
  ctx: ToolContext,
  filters: Record<string, string>,
  window: RequestedWindow,
  limit: number,
  directory: PracticeDirectory,
  type: AppointmentTypeEntry,
): Promise<SlotOutput[]> {
  const search = (from: Date, to: Date, count: number) =>
    ctx.fhir.search<Slot>('Slot', {
      ...filters,
      status: 'free',
      start: [`ge${from.toISOString()}`, `lt${to.toISOString()}`],
      _count: String(count),
      _sort: 'start',
    });
  const out: SlotOutput[] = [];
  const push = (slots: readonly Slot[]) => {
    for (const s of slots) {
      const o = slotOutput(s, directory, type.code);
      if (o && out.length < limit && !out.some((x) => x.slot_id === o.slot_id)) out.push(o);
    }
  };
  if (!window.part) {
    push(await search(window.from, window.to, limit));
    return out;
  }
  const [fromHour, toHour] = DAY_PARTS[window.part];
  let day = DateTime.fromJSDate(window.from, { zone: directory.zone }).startOf('day');
  for (
    let i = 0;
    i < MAX_PART_DAYS && out.length < limit && day.toJSDate() < window.to;
    i++, day = day.plus({ days: 1 })
  ) {
    const from = DateTime.max(
      day.set({ hour: fromHour }),
      DateTime.fromJSDate(window.from, { zone: directory.zone }),
    );
    const to = DateTime.min(
      toHour === 24 ? day.plus({ days: 1 }) : day.set({ hour: toHour }),
      DateTime.fromJSDate(window.to, { zone: directory.zone }),
    );
    if (to > from) push(await search(from.toJSDate(), to.toJSDate(), limit - out.length));
  }
  return out;
}

async function refuseSeenPatient(
  ctx: ToolContext,
  patientId: string,
  type: AppointmentTypeEntry,
  directory: PracticeDirectory,
): Promise<void> {
  const seen = await ctx.fhir.search<Appointment>('Appointment', {
    patient: `Patient/${patientId}`,
    status: 'booked,fulfilled,arrived,checked-in',
    _count: '1',
  });
  if (seen.length > 0) {
    const others = directory.types.filter((t) => !t.newPatientOnly).map((t) => `${t.code} (${t.name})`);
    throw new ToolError(
      `${type.name} is only for patients who have never been seen here, and this patient has. Other appointment types: ${others.join(', ')}.`,
    );
  }
}
