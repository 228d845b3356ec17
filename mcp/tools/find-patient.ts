/**
 * `find_patient`: the caller says who they are; the tool answers graded candidates (mcp/patient-matching.ts) and
 * what the agent should ask next. Birth dates are read in any common written form, an all-numbers one in the
 * practice's convention, which the answer states.
 */
import type { Patient } from '@medplum/fhirtypes';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import {
  gatherCandidates,
  gradeCandidates,
  splitName,
  type GradedCandidate,
  type PatientQuery,
} from '../patient-matching.js';
import { requireScopes, type ToolContext } from '../tool-context.js';
import { ToolError } from '../tool-error.js';
import { toolResult } from '../tool-result.js';
import { dateOrderOfZone, readBirthDate, type ReadBirthDate } from '../understanding/birth-date.js';

const MAX_CANDIDATES = 5;

export const patientNameInput = {
  name: z.string().optional().describe('Full name as said: "John Smith" or "Smith, John"'),
  family: z.string().optional().describe('Family (last) name, instead of name'),
  given: z.string().optional().describe('Given (first) name, instead of name'),
  birth_date: z
    .string()
    .optional()
    .describe(
      "Birth date in any common form: 1985-03-04, March 4 1985, 03/04/1985 (read in the practice's convention)",
    ),
  phone: z.string().optional().describe('Phone number, any format'),
};

const candidate = z.object({
  patient_id: z.string(),
  name: z.string(),
  birth_date: z.string().optional(),
  match: z.enum(['exact', 'probable', 'possible']),
  why: z.string(),
});

const outputSchema = {
  candidates: z.array(candidate),
  birth_date_read_as: z
    .string()
    .optional()
    .describe('How the birth date was read, to confirm with the caller'),
  next_step: z.string().describe('What to do or ask next'),
};

/** The query from the tool's name arguments; a ToolError when there is no name or the birth date is unreadable. */
export function patientQuery(
  args: { name?: string; family?: string; given?: string; birth_date?: string; phone?: string },
  zone: string,
  now: Date,
): PatientQuery & { readAs?: string } {
  const split = args.name ? splitName(args.name) : { family: '', given: '' };
  const family = args.family ?? split.family;
  const given = args.given ?? split.given;
  if (!family.trim())
    throw new ToolError('Give the patient\'s name: name ("John Smith") or family and given.');
  let birthDate: ReadBirthDate | undefined;
  let readAs: string | undefined;
  if (args.birth_date) {
    const order = dateOrderOfZone(zone);
    birthDate = readBirthDate(args.birth_date, order, now);
    if (!birthDate) {
      throw new ToolError(
        `"${args.birth_date}" is not a birth date I can read; ask for it as month, day and year (e.g. March 4, 1985).`,
      );
    }
    readAs = birthDate.otherReading
      ? `${birthDate.readAs} (numbers read ${order === 'month-first' ? 'month first, as in the US' : 'day first'}; confirm with the caller)`
      : birthDate.readAs;
  }
  const phone = args.phone?.replace(/\D/g, '');
  return {
    family,
    given,
    ...(birthDate ? { birthDate } : {}),
    ...(phone ? { phone } : {}),
    ...(readAs ? { readAs } : {}),
  };
}

export function candidateOutput(c: GradedCandidate) {
  const n = c.patient.name?.[0];
  return {
    patient_id: c.patient.id,
    name: [...(n?.given ?? []), n?.family].filter(Boolean).join(' '),
    ...(c.patient.birthDate ? { birth_date: c.patient.birthDate } : {}),
    match: c.grade,
    why: c.why,
  };
}

export async function findCandidates(ctx: ToolContext, query: PatientQuery): Promise<GradedCandidate[]> {
  const found: Patient[] = await gatherCandidates(ctx.fhir, query);
  return gradeCandidates(found, query).slice(0, MAX_CANDIDATES);
}

export function registerFindPatient(server: McpServer, ctx: ToolContext, zone: () => Promise<string>): void {
  server.registerTool(
    'find_patient',
    {
      title: 'Find a patient',
      description:
        'Finds the patient on the line by name (typos, accents, nicknames tolerated), birth date and optionally phone. Candidates are graded exact / probable / possible; only an exact match may be treated as the caller without further questions. next_step says what to ask.',
      inputSchema: patientNameInput,
      outputSchema,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args) => {
      requireScopes(ctx, 'find_patient', [['Patient', 'rs']]);
      const query = patientQuery(args, await zone(), ctx.now());
      const candidates = await findCandidates(ctx, query);
      const exact = candidates.filter((c) => c.grade === 'exact');
      let next: string;
      let text: string;
      if (exact.length === 1) {
        next = 'Confirm the caller is this patient and continue.';
        text = `Found ${candidateOutput(exact[0] as GradedCandidate).name}, born ${exact[0]?.patient.birthDate ?? 'unknown'}.`;
      } else if (candidates.length === 0) {
        next = query.birthDate
          ? 'Nobody matches. Ask the caller to spell the family name and confirm the birth date; if they are new to the practice, register them with register_patient.'
          : 'Nobody matches yet. Ask for the date of birth (and spelling of the family name).';
        text = 'I could not find that patient.';
      } else if (!query.birthDate) {
        next = 'Ask for the date of birth to tell the candidates apart.';
        text = `I found ${candidates.length} possible ${candidates.length === 1 ? 'match' : 'matches'}; I need the date of birth.`;
      } else if (candidates.length > 1 && !query.phone) {
        next = 'Several candidates: ask for the phone number on file, or check the spelling of the name.';
        text = `I found ${candidates.length} possible matches; I need the phone number to tell them apart.`;
      } else {
        next =
          'Not certain: read the name on file back to the caller and confirm the spelling before going on.';
        text = `I may have found ${candidateOutput(candidates[0] as GradedCandidate).name}; please confirm the spelling.`;
      }
      return toolResult(text, {
        candidates: candidates.map(candidateOutput),
        ...(query.readAs ? { birth_date_read_as: query.readAs } : {}),
        next_step: next,
      });
    },
  );
}
