/**
 * `register_patient`: a caller new to the practice (issue 13 item 2). An existing exact match (mcp/patient-matching.ts)
 * is answered instead of a duplicate; a probable one stops the tool until the agent confirms the caller is someone
 * else (`confirmed_new`). Otherwise `POST Patient` through the facade, which creates the patient upstream once,
 * flags it for staff review (`needs-review` tag) and answers an existing certain match itself as well.
 */
import type { Patient } from '@medplum/fhirtypes';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { failed, outcomeText } from '../fhir-caller.js';
import { requireScopes, type ToolContext } from '../tool-context.js';
import { ToolError } from '../tool-error.js';
import { toolResult } from '../tool-result.js';
import { candidateOutput, findCandidates, patientNameInput, patientQuery } from './find-patient.js';

const outputSchema = {
  status: z.enum(['registered', 'existing', 'pending', 'needs_confirmation']),
  patient_id: z.string().optional(),
  needs_review: z.boolean().describe('New registrations are reviewed by the practice staff'),
  similar: z
    .array(
      z.object({
        patient_id: z.string(),
        name: z.string(),
        birth_date: z.string().optional(),
        match: z.string(),
        why: z.string(),
      }),
    )
    .describe('Existing patients who may be the caller'),
  message: z.string(),
};

export function registerRegisterPatient(
  server: McpServer,
  ctx: ToolContext,
  zone: () => Promise<string>,
): void {
  server.registerTool(
    'register_patient',
    {
      title: 'Register a new patient',
      description:
        'Registers a caller who is new to the practice (flagged for staff review). If the caller is already a patient (exact match) that record is returned; if someone similar exists, nothing is created until confirmed_new is true.',
      inputSchema: {
        ...patientNameInput,
        birth_date: z.string().describe('Birth date in any common form'),
        email: z.string().optional(),
        gender: z.enum(['male', 'female', 'other', 'unknown']).optional(),
        confirmed_new: z
          .boolean()
          .optional()
          .describe('True once the caller has confirmed they are none of the similar patients offered'),
        idempotency_key: z.string().max(200).optional().describe('The same key on a retry registers once'),
      },
      outputSchema,
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    async (args) => {
      requireScopes(ctx, 'register_patient', [['Patient', 'crs']]);
      const query = patientQuery(args, await zone(), ctx.now());
      if (!query.given.trim()) throw new ToolError('A registration needs the given (first) name as well.');
      const candidates = await findCandidates(ctx, query);
      const exact = candidates.find((c) => c.grade === 'exact');
      const similar = candidates.filter((c) => c.grade !== 'exact').map(candidateOutput);
      if (exact) {
        return toolResult('This caller is already a patient here; I found their record.', {
          status: 'existing' as const,
          patient_id: exact.patient.id,
          needs_review: false,
          similar: [],
          message: 'Already registered.',
        });
      }
      if (candidates.some((c) => c.grade === 'probable') && args.confirmed_new !== true) {
        return toolResult(
          'Someone with a very similar name and birth date is already registered; please check with the caller.',
          {
            status: 'needs_confirmation' as const,
            needs_review: false,
            similar,
            message:
              'Ask whether the caller is one of the similar patients; if not, call again with confirmed_new true.',
          },
        );
      }
      const body: Patient = {
        resourceType: 'Patient',
        name: [{ family: query.family.trim(), given: [query.given.trim()] }],
        birthDate: query.birthDate?.date,
        ...(args.gender ? { gender: args.gender } : {}),
        telecom: [
          ...(args.phone ? [{ system: 'phone' as const, value: args.phone }] : []),
          ...(args.email ? [{ system: 'email' as const, value: args.email }] : []),
        ],
      };
      const answer = await ctx.fhir.request('POST', 'Patient', {
        body,
        headers: args.idempotency_key ? { 'idempotency-key': args.idempotency_key } : {},
      });
      const patient = answer.body as Patient | undefined;
      if (answer.status === 201 || answer.status === 200) {
        const created = answer.status === 201;
        return toolResult(
          created
            ? 'You are registered; the practice staff will review the details.'
            : 'This caller is already a patient here.',
          {
            status: created ? ('registered' as const) : ('existing' as const),
            patient_id: patient?.id,
            needs_review: created && (patient?.meta?.tag ?? []).some((t) => t.code === 'needs-review'),
            similar,
            message: created ? 'Registered, pending staff review.' : 'Already registered.',
          },
        );
      }
      if (answer.status === 202) {
        return toolResult(
          'The registration is still being confirmed with the records system; I will check again in a moment.',
          {
            status: 'pending' as const,
            needs_review: true,
            similar,
            message: `${outcomeText(answer)} Call register_patient again with the same idempotency_key to get the outcome.`,
          },
        );
      }
      if (answer.status === 400 || answer.status === 422)
        throw new ToolError(`The registration was refused: ${outcomeText(answer)}`);
      throw failed(answer, 'Registering the patient');
    },
  );
}
