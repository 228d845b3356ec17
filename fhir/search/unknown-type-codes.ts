/**
 * An appointment-type code the practice does not have, in a token search (`Slot?service-type=followup`), is a
 * caller's slip, not "nothing free" (issue 13 item 3): the search still answers (no match), with a warning issue in
 * the Bundle naming the valid codes; under `Prefer: handling=strict` it is a 400 (R4 search.html#errors). The valid
 * codes are the tenant's appointment types, as its Schedules offer them (src/availability/schedules.ts).
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { ReferenceData } from '../../src/availability/reference-data.js';
import { allSchedules, matchSchedules, type ScheduleRecord } from '../../src/availability/schedules.js';
import type { FhirRequestContext } from '../access.js';
import { FhirError, operationOutcome } from '../operation-outcome.js';

/** The token parameters, per resource type, whose values are appointment-type codes. */
const TYPE_PARAMETERS: Readonly<Record<string, readonly string[]>> = {
  Slot: ['service-type', 'appointment-type'],
  Schedule: ['service-type'],
  Appointment: ['service-type', 'appointment-type'],
};

/**
 * Warnings for the unknown appointment-type codes among `params` of a `resourceType` search.
 * @throws FhirError 400 `code-invalid` for the first unknown code when `strict`.
 */
export async function unknownTypeCodeWarnings(
  ctx: FhirRequestContext,
  resourceType: string,
  params: ReadonlyArray<readonly [string, string]>,
  strict: boolean,
): Promise<OperationOutcomeIssue[]> {
  const names = TYPE_PARAMETERS[resourceType];
  if (!names) return [];
  // Only the plain token form: `:text`, `:not`, `:missing` … are not codes.
  const asked = params.filter(([name]) => names.includes(name));
  if (asked.length === 0) return [];
  const { known, choices } = ctx.referenceData
    ? typeCodesOf(await ctx.referenceData())
    : typeCodes(await allSchedules(ctx.store, ctx.tenant.id));
  if (known.size === 0) return [];
  const issues: OperationOutcomeIssue[] = [];
  for (const [name, value] of asked) {
    for (const token of value.split(',')) {
      const code = token.slice(token.lastIndexOf('|') + 1);
      if (code === '' || known.has(code)) continue;
      const text = `${name}=${code} is not an appointment type of this practice; its codes are: ${choices}`;
      if (strict) throw new FhirError(400, operationOutcome('code-invalid', text, { expression: name }));
      issues.push({ severity: 'warning', code: 'code-invalid', diagnostics: text, expression: [name] });
    }
  }
  return issues;
}

interface TypeCodes {
  known: ReadonlySet<string>;
  /** The known codes, sorted, as the warning lists them. */
  choices: string;
}

/**
 * The codes of `reference`'s bookable Schedules, derived once per reference data: the object is replaced whenever
 * its stamp changes (a Schedule or Location written by any instance), which is what invalidates this.
 */
const codesByReference = new WeakMap<ReferenceData, TypeCodes>();

function typeCodesOf(reference: ReferenceData): TypeCodes {
  let codes = codesByReference.get(reference);
  if (!codes) {
    codes = typeCodes(
      matchSchedules(reference).filter((s) => s.practitionerId !== null && s.locationId !== null),
    );
    codesByReference.set(reference, codes);
  }
  return codes;
}

function typeCodes(schedules: readonly ScheduleRecord[]): TypeCodes {
  const known = new Set(schedules.flatMap((s) => s.rules.types.map((t) => t.code)));
  return { known, choices: [...known].sort().join(', ') };
}
