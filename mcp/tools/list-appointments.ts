/**
 * `list_appointments`: a patient's upcoming (from now, earliest first) or past (latest first) appointments, from the
 * facade's Appointment search, each with a speakable local time, practitioner, location and type.
 */
import type { Appointment } from '@medplum/fhirtypes';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { loadPracticeDirectory } from '../practice-directory.js';
import { requireScopes, spokenTime, type ToolContext } from '../tool-context.js';
import { toolResult } from '../tool-result.js';

const outputSchema = {
  appointments: z.array(
    z.object({
      appointment_id: z.string(),
      status: z.string(),
      start: z.string(),
      start_local_text: z.string(),
      practitioner: z.string().optional(),
      location: z.string().optional(),
      appointment_type: z.string().optional(),
    }),
  ),
};

export function registerListAppointments(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'list_appointments',
    {
      title: "A patient's appointments",
      description:
        "The patient's upcoming appointments (default, earliest first) or past ones (latest first).",
      inputSchema: {
        patient_id: z.string().min(1),
        when: z.enum(['upcoming', 'past']).optional(),
        include_cancelled: z.boolean().optional(),
        limit: z.number().int().min(1).max(50).optional(),
      },
      outputSchema,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args) => {
      requireScopes(ctx, 'list_appointments', [
        ['Appointment', 'rs'],
        ['Schedule', 'rs'],
        ['Practitioner', 'rs'],
        ['Location', 'rs'],
      ]);
      const directory = await loadPracticeDirectory(ctx.fhir, ctx.tenant.timezone);
      const upcoming = (args.when ?? 'upcoming') === 'upcoming';
      const now = ctx.now().toISOString();
      const found = await ctx.fhir.search<Appointment>('Appointment', {
        patient: `Patient/${args.patient_id}`,
        date: upcoming ? `ge${now}` : `lt${now}`,
        _sort: upcoming ? 'date' : '-date',
        _count: String(args.limit ?? 10),
        ...(args.include_cancelled
          ? {}
          : { status: 'booked,pending,arrived,checked-in,fulfilled,noshow,proposed' }),
      });
      const appointments = found.flatMap((a) => {
        if (!a.id || !a.start) return [];
        const ref = (type: string) =>
          a.participant
            .find((p) => p.actor?.reference?.startsWith(`${type}/`))
            ?.actor?.reference?.slice(type.length + 1);
        const practitionerId = ref('Practitioner');
        const locationId = ref('Location');
        const practitioner = practitionerId ? directory.practitioner(practitionerId)?.name : undefined;
        const location = locationId ? directory.location(locationId)?.name : undefined;
        const type = a.appointmentType?.coding?.[0]?.code ?? a.serviceType?.[0]?.coding?.[0]?.code;
        return [
          {
            appointment_id: a.id,
            status: a.status,
            start: a.start,
            start_local_text: spokenTime(a.start, directory.zone),
            ...(practitioner ? { practitioner } : {}),
            ...(location ? { location } : {}),
            ...(type ? { appointment_type: type } : {}),
          },
        ];
      });
      const first = appointments[0];
      const text = !first
        ? upcoming
          ? 'You have no upcoming appointments.'
          : 'There are no past appointments on record.'
        : upcoming
          ? `Your next appointment is ${first.start_local_text}${first.practitioner ? ` with ${first.practitioner}` : ''}${appointments.length > 1 ? `, and ${appointments.length - 1} more after it` : ''}.`
          : `Your last appointment was ${first.start_local_text}${first.practitioner ? ` with ${first.practitioner}` : ''}.`;
      return toolResult(text, { appointments });
    },
  );
}
