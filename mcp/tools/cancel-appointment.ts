/**
 * `cancel_appointment`: cancels through `PATCH Appointment/{id}` (JSON Patch `status` → `cancelled`, with the
 * caller's reason), the facade's cancel saga. Answers `cancelled` / `pending` / `not_cancelled` with the precise
 * reason code and a patient-safe sentence — the booking tools' shape, with the status words of a cancellation.
 */
import type { Appointment } from '@medplum/fhirtypes';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { bookingAnswer, bookingOutputSchema } from '../booking-answer.js';
import { loadPracticeDirectory } from '../practice-directory.js';
import { requireScopes, spokenTime, type ToolContext } from '../tool-context.js';
import { toolResult } from '../tool-result.js';
import { idempotencyKeyInput } from './book-appointment.js';

const STATUS = { booked: 'cancelled', pending: 'pending', not_booked: 'not_cancelled' } as const;

export function registerCancelAppointment(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'cancel_appointment',
    {
      title: 'Cancel an appointment',
      description:
        'Cancels appointment_id in the records system. Answers cancelled / pending / not_cancelled with reason_code and a patient-safe message.',
      inputSchema: {
        appointment_id: z.string().min(1),
        reason: z.string().max(500).optional().describe("Why, in the patient's words"),
        idempotency_key: idempotencyKeyInput,
      },
      outputSchema: {
        ...bookingOutputSchema,
        status: z.enum(['cancelled', 'pending', 'not_cancelled']),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    async (args) => {
      requireScopes(ctx, 'cancel_appointment', [
        ['Appointment', 'u'],
        ['Schedule', 'rs'],
        ['Practitioner', 'rs'],
        ['Location', 'rs'],
      ]);
      const directory = await loadPracticeDirectory(ctx.fhir, ctx.tenant.timezone);
      const patch = [
        { op: 'replace', path: '/status', value: 'cancelled' },
        ...(args.reason ? [{ op: 'add', path: '/cancelationReason', value: { text: args.reason } }] : []),
      ];
      const answer = await ctx.fhir.request(
        'PATCH',
        `Appointment/${encodeURIComponent(args.appointment_id)}`,
        {
          body: patch,
          headers: {
            'content-type': 'application/json-patch+json',
            ...(args.idempotency_key ? { 'idempotency-key': args.idempotency_key } : {}),
          },
        },
      );
      const result = bookingAnswer(answer, directory, 'Cancelling');
      const appointment = answer.body as Appointment | undefined;
      const cancelled = result.status === 'booked';
      const message = cancelled
        ? `Your appointment${appointment?.start ? ` on ${spokenTime(appointment.start, directory.zone)}` : ''} is cancelled.`
        : result.message;
      return toolResult(message, { ...result, status: STATUS[result.status], message });
    },
  );
}
