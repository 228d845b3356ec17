/**
 * `Appointment/$find` — IHE ITI-115 Find Potential Appointments (canonical
 * https://profiles.ihe.net/ITI/Scheduling/OperationDefinition/appointment-find; standards.md 1.1, 1.4): POST with a
 * Parameters body (IHE), and GET with the same names as query parameters (Argonaut's form).
 *
 * Inputs: `start`, `end` (required; a date-time with a zone, or a date read in the practice's zone — `end` as a
 * date includes that day), `specialty` (token; matched against the Schedule's specialty text, case- and
 * accent-insensitively), `visit-type` / `service-type` (token: `code` or `system|code` of the appointment type),
 * `practitioner`, `location-reference` (or `location`), `patient-reference` (or `patient`) as references, and
 * `_count` (default 20, at most 100). Different parameters are ANDed, repeated values ORed. Other IHE inputs are
 * accepted and ignored, with a warning entry.
 *
 * Output: a searchset Bundle of proposed Appointments (`status=proposed`, participants `needs-action`), one per
 * free computed slot and appointment type, earliest first; `total` counts every proposal in the window, `_count`
 * caps the entries. Held time is busy time, so held slots are never proposed. A proposal's id
 * (proposal-id.ts) can be passed to `$hold` or `$book` as is.
 */
import type {
  Appointment,
  AppointmentParticipant,
  Bundle,
  BundleEntry,
  Location,
  OperationOutcomeIssue,
  ParametersParameter,
  Practitioner,
  Reference,
  Slot,
} from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { searchSlots } from '../../src/availability/availability-service.js';
import {
  allSchedules,
  loadSchedule,
  typesOf,
  type LoadedSchedule,
} from '../../src/availability/schedules.js';
import { foldPhrase } from '../../src/store/search-parameters/token-values.js';
import { wallTimeToInstant } from '../../src/wall-time.js';
import type { FhirRequestContext } from '../access.js';
import type { FhirRequest } from '../fhir-request.js';
import type { InteractionResult } from '../interactions/interaction-deps.js';
import { FhirError } from '../operation-outcome.js';
import { FIND_DEFINITION } from './appointment-find-definition.js';
import { readOperationParameters } from './operation-definition.js';
import { resourceUrl } from '../search/bundle-builder.js';
import { practiceZone } from '../search/practice-zone.js';
import type { BookingHandlerDeps } from '../booking/booking-handler-deps.js';
import { auditedOperation } from '../booking/operation-access.js';
import { parametersOf, textValue, tokenValues } from '../booking/parameters.js';
import { cursorAt, cursorOf, formatCursor, isAfter, sortProposals } from './find-paging.js';
import { identifierOf, resolveActors, type ActorValue } from './find-references.js';
import { formatProposalId } from '../booking/proposal-id.js';
import { actorReferences } from '../booking/schedules.js';

export const FIND_OPERATION = {
  name: FIND_DEFINITION.code,
  definition: FIND_DEFINITION.url,
  documentation:
    'IHE ITI-115: proposed Appointments for free computed slots (POST Parameters, or GET). Inputs start, end, specialty (system|code), visit-type (service-type), practitioner, location-reference, patient-reference (references or identifiers; one naming nobody is a 422), _count (default 20, max 100; body or URL) with next links.',
} as const;

export const DEFAULT_FIND_COUNT = 20;
export const MAX_FIND_COUNT = 100;
/** Longest window one `$find` computes. */
export const MAX_FIND_DAYS = 62;

/** Parameter names → values, from either form. */
type RawInput = Map<string, string[]>;

/** The reference parameters, each with its aliases (first = the IHE name) and the type it references. */
const ACTOR_PARAMETERS = [
  { names: ['practitioner'], type: 'Practitioner' },
  { names: ['location-reference', 'location'], type: 'Location' },
  { names: ['patient-reference', 'patient'], type: 'Patient' },
] as const;
const ACTOR_NAMES = new Set<string>(ACTOR_PARAMETERS.flatMap((p) => p.names));

/** Both forms read into plain values and the actors (references or identifiers) per parameter name. */
interface FindInput {
  raw: RawInput;
  actors: Map<string, ActorValue[]>;
}

function addActor(actors: Map<string, ActorValue[]>, name: string, value: ActorValue): void {
  actors.set(name, [...(actors.get(name) ?? []), value]);
}

const SUPPORTED = new Set([
  'start',
  'end',
  'specialty',
  'visit-type',
  'service-type',
  'practitioner',
  'location-reference',
  'location',
  'patient-reference',
  'patient',
  '_count',
  '_cursor',
]);
const HARMLESS = new Set(['_format', '_pretty']);

/**
 * The GET form: query parameters, commas separating alternatives of tokens and references;
 * `practitioner:identifier=system|value` (or `practitioner.identifier=`) names an actor by identifier.
 */
function findInputFromQuery(params: ReadonlyArray<readonly [string, string]>): FindInput {
  const raw: RawInput = new Map();
  const actors = new Map<string, ActorValue[]>();
  for (const [name, value] of params) {
    const single = name === 'start' || name === 'end' || name === '_count' || name === '_cursor';
    const values = (single ? [value] : value.split(',')).map((v) => v.trim()).filter((v) => v !== '');
    const byIdentifier = /^(.+?)(?::identifier|\.identifier)$/.exec(name);
    if (byIdentifier && ACTOR_NAMES.has(byIdentifier[1] as string)) {
      for (const v of values) addActor(actors, byIdentifier[1] as string, { identifier: identifierOf(v) });
    } else if (ACTOR_NAMES.has(name)) {
      for (const v of values) addActor(actors, name, { reference: v });
    } else {
      raw.set(name, [...(raw.get(name) ?? []), ...values]);
    }
  }
  return { raw, actors };
}

/**
 * The POST form: a Parameters body, checked against the OperationDefinition; unknown names kept (warnings).
 * `_count` and `_cursor` may also come in the URL (IHE: "the server SHALL honour _count"; paging links).
 */
function findInputFromParameters(body: unknown, query: ReadonlyArray<readonly [string, string]>): FindInput {
  readOperationParameters(FIND_DEFINITION, body);
  const raw: RawInput = new Map();
  const actors = new Map<string, ActorValue[]>();
  for (const parameter of parametersOf(body) as ParametersParameter[]) {
    if (typeof parameter.name !== 'string') continue;
    if (ACTOR_NAMES.has(parameter.name)) {
      addActor(actors, parameter.name, actorOf(parameter));
      continue;
    }
    raw.set(parameter.name, [...(raw.get(parameter.name) ?? []), ...tokenValues(parameter)]);
  }
  for (const [name, value] of query) {
    if ((name === '_count' || name === '_cursor') && !raw.has(name)) raw.set(name, [value]);
  }
  return { raw, actors };
}

/** A reference parameter's value: its `reference`, else its `identifier`; 400 when it has neither. */
function actorOf(parameter: ParametersParameter): ActorValue {
  const name = parameter.name as string;
  const reference = parameter.valueReference?.reference ?? textValue(parameter);
  if (reference !== undefined) return { reference };
  const identifier = parameter.valueReference?.identifier;
  if (identifier?.value) return { identifier: { system: identifier.system, value: identifier.value } };
  throw invalid(name, `${name} needs a reference (Type/id) or an identifier with a value`);
}

/** `GET` (query) or `POST` (Parameters) `Appointment/$find`; the inputs are read once access is granted. */
export function findAppointments(
  ctx: FhirRequestContext,
  deps: BookingHandlerDeps,
  request: Pick<FhirRequest, 'method' | 'query' | 'body'>,
): Promise<InteractionResult> {
  return auditedOperation(ctx, deps.interaction, 'Appointment', '$find', 'rs', async () => {
    const { raw, actors } =
      request.method === 'POST'
        ? findInputFromParameters(request.body, request.query)
        : findInputFromQuery(request.query);
    const warnings: OperationOutcomeIssue[] = [];
    for (const name of [...raw.keys(), ...actors.keys()]) {
      if (!SUPPORTED.has(name) && !HARMLESS.has(name)) {
        warnings.push({
          severity: 'warning',
          code: 'not-supported',
          diagnostics: `${name} is ignored`,
          expression: [name],
        });
      }
    }
    const zone = await practiceZone(ctx);
    const start = instantOf(raw, 'start', zone, 'start');
    const end = instantOf(raw, 'end', zone, 'end');
    if (!(end > start)) throw invalid('end', 'end must be after start');
    if (end.getTime() - start.getTime() > MAX_FIND_DAYS * 86_400_000) {
      throw FhirError.of(400, 'too-costly', `a $find window may span at most ${MAX_FIND_DAYS} days`, {
        expression: 'end',
      });
    }
    const count = countOf(raw, warnings);
    const base = deps.interaction.baseUrl(ctx);
    const resolved = new Map<string, string[]>();
    for (const { names, type } of ACTOR_PARAMETERS) {
      const values = names.flatMap((name) => actors.get(name) ?? []);
      resolved.set(type, await resolveActors(ctx, type, names[0], values, base));
    }
    const practitionerIds = resolved.get('Practitioner') ?? [];
    const locationIds = resolved.get('Location') ?? [];
    const patientIds = resolved.get('Patient') ?? [];
    if (patientIds.length > 1) throw invalid('patient-reference', 'group appointments are not supported');
    const patientId = patientIds[0];
    const visitTypes = [...(raw.get('visit-type') ?? []), ...(raw.get('service-type') ?? [])];
    const specialties = raw.get('specialty') ?? [];
    const scheduleIds =
      specialties.length === 0
        ? undefined
        : (await allSchedules(ctx.store, ctx.tenant.id))
            .filter((s) => offersSpecialty(s, specialties))
            .map((s) => s.schedule.id);

    const now = deps.now();
    const slots = await searchSlots(ctx.store, ctx.tenant, {
      from: start,
      to: end,
      ...(scheduleIds ? { scheduleIds } : {}),
      ...(practitionerIds.length > 0 ? { practitionerIds } : {}),
      ...(locationIds.length > 0 ? { locationIds } : {}),
      ...(visitTypes.length > 0 ? { serviceTypeCodes: visitTypes } : {}),
      now,
    });

    const proposals = sortProposals(await proposalsOf(ctx, slots, visitTypes, patientId));
    const after = cursorOf(raw);
    const rest = after ? proposals.filter((p) => isAfter(p, after)) : proposals;
    const page = rest.slice(0, count);
    const entry: BundleEntry[] = page.map((resource) => ({
      fullUrl: resourceUrl(base, 'Appointment', resource.id as string),
      resource,
      search: { mode: 'match' },
    }));
    if (warnings.length > 0) {
      entry.push({
        fullUrl: `urn:uuid:${randomUUID()}`,
        resource: { resourceType: 'OperationOutcome', issue: warnings },
        search: { mode: 'outcome' },
      });
    }
    // Paging links in the GET form, with the actors as resolved ids (identifiers were resolved once).
    const linkParams: Array<[string, string]> = [];
    for (const [name, values] of raw) {
      if (name === '_count' || name === '_cursor' || HARMLESS.has(name)) continue;
      for (const value of values) linkParams.push([name, value]);
    }
    for (const [type, ids] of resolved) {
      const name =
        type === 'Practitioner'
          ? 'practitioner'
          : type === 'Location'
            ? 'location-reference'
            : 'patient-reference';
      for (const id of ids) linkParams.push([name, `${type}/${id}`]);
    }
    linkParams.push(['_count', String(count)]);
    const link = (extra: Array<[string, string]>) =>
      `${base}/Appointment/$find?${new URLSearchParams([...linkParams, ...extra]).toString()}`;
    const last = page[page.length - 1];
    const bundle: Bundle = {
      resourceType: 'Bundle',
      id: randomUUID(),
      meta: { lastUpdated: now.toISOString() },
      type: 'searchset',
      total: proposals.length,
      link: [
        { relation: 'self', url: link(after ? [['_cursor', formatCursor(after)]] : []) },
        ...(last && rest.length > page.length
          ? [{ relation: 'next', url: link([['_cursor', formatCursor(cursorAt(last))]]) }]
          : []),
      ],
      ...(entry.length > 0 ? { entry } : {}),
    };
    return {
      status: 200,
      body: bundle,
      resourceIds: page.map((a) => a.id as string),
      parameters: [...raw.keys(), ...actors.keys()],
    };
  });
}

/** One proposed Appointment per slot and (wanted) appointment type, in the slots' order. */
async function proposalsOf(
  ctx: FhirRequestContext,
  slots: readonly Slot[],
  visitTypes: readonly string[],
  patientId: string | undefined,
): Promise<Appointment[]> {
  const schedules = new Map<
    string,
    (LoadedSchedule & { practitioner: Reference<Practitioner>; location: Reference<Location> }) | null
  >();
  const wanted = visitTypes.map(tokenFilter);
  const proposals: Appointment[] = [];
  for (const slot of slots) {
    const scheduleId = slot.schedule.reference?.replace(/^Schedule\//, '') ?? '';
    if (!schedules.has(scheduleId)) {
      const loaded = await loadSchedule(ctx.store, ctx.tenant.id, scheduleId);
      const actors = loaded
        ? await actorReferences(ctx.store, ctx.tenant.id, loaded.practitionerId, loaded.locationId)
        : undefined;
      schedules.set(scheduleId, loaded && actors ? { ...loaded, ...actors } : null);
    }
    const schedule = schedules.get(scheduleId);
    if (!schedule || !slot.id) continue;
    const types = typesOf(schedule.schedule);
    for (const concept of slot.serviceType ?? []) {
      const coding = concept.coding?.[0];
      if (!coding?.code) continue;
      if (wanted.length > 0 && !wanted.some((f) => f(coding.system ?? '', coding.code as string))) continue;
      const index = types.findIndex(
        (t) => t.code === coding.code && t.system === (coding.system ?? t.system),
      );
      const id = index < 0 ? undefined : formatProposalId(slot.id, index);
      if (!id) continue;
      const type = { coding: [{ ...coding }] };
      const participant = (
        actor: AppointmentParticipant['actor'],
        required = true,
      ): AppointmentParticipant => ({
        actor,
        required: required ? 'required' : 'information-only',
        status: 'needs-action',
      });
      proposals.push({
        resourceType: 'Appointment',
        id,
        status: 'proposed',
        serviceType: [type],
        appointmentType: type,
        start: slot.start,
        end: slot.end,
        minutesDuration: Math.round((Date.parse(slot.end) - Date.parse(slot.start)) / 60_000),
        slot: [{ reference: `Slot/${slot.id}` }],
        participant: [
          ...(patientId ? [participant({ reference: `Patient/${patientId}` })] : []),
          participant(schedule.practitioner),
          participant(schedule.location),
        ],
        // IHE ihe-sched-appt: requestedPeriod 1..1.
        requestedPeriod: [{ start: slot.start, end: slot.end }],
      });
    }
  }
  return proposals;
}

function instantOf(raw: RawInput, name: string, zone: string, side: 'start' | 'end'): Date {
  const values = raw.get(name) ?? [];
  if (values.length !== 1) throw invalid(name, `${name} is required, once`, 'required');
  const value = values[0] as string;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const midnight = wallTimeToInstant(`${value}T00:00`, zone);
    if (side === 'start') return midnight;
    // A date as `end` includes that day: up to the next local midnight.
    const next = new Date(Date.parse(`${value}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    return wallTimeToInstant(`${next}T00:00`, zone);
  }
  const withZone = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value);
  if (withZone) return new Date(Date.parse(value));
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value))
    return wallTimeToInstant(value.slice(0, 16), zone);
  throw invalid(name, `${name} must be a date or a date-time, like 2026-11-24T08:00:00-05:00`);
}

function countOf(raw: RawInput, warnings: OperationOutcomeIssue[]): number {
  const values = raw.get('_count');
  if (!values || values.length === 0) return DEFAULT_FIND_COUNT;
  const n = Number(values[0]);
  if (!Number.isInteger(n) || n < 0) throw invalid('_count', '_count must be a whole number');
  if (n > MAX_FIND_COUNT) {
    warnings.push({
      severity: 'warning',
      code: 'too-costly',
      diagnostics: `_count clamped to ${MAX_FIND_COUNT}`,
      expression: ['_count'],
    });
    return MAX_FIND_COUNT;
  }
  return n;
}

/**
 * IHE: `specialty` is a token, `system|code` (SNOMED CT clinical specialties; the Schedules also carry the
 * practice's own code). A `system|code` token matches a coding exactly; a bare value (no `|`) matches a code, or
 * the specialty's text or display regardless of case and accents.
 */
function offersSpecialty(schedule: LoadedSchedule, wanted: readonly string[]): boolean {
  const concepts = schedule.schedule.specialty ?? [];
  const codings = concepts.flatMap((c) => c.coding ?? []);
  const texts = new Set(
    concepts
      .flatMap((c) => [c.text ?? '', ...(c.coding ?? []).map((coding) => coding.display ?? '')])
      .filter((t) => t !== '')
      .map(foldPhrase),
  );
  return wanted.some((token) => {
    const matches = tokenFilter(token);
    if (codings.some((c) => c.code !== undefined && matches(c.system ?? '', c.code))) return true;
    return !token.includes('|') && texts.has(foldPhrase(token));
  });
}

/** A token `code`, `system|code`, `|code` or `system|` as a predicate on (system, code). */
function tokenFilter(token: string): (system: string, code: string) => boolean {
  const bar = token.indexOf('|');
  if (bar < 0) return (_system, code) => code === token;
  const system = token.slice(0, bar);
  const code = token.slice(bar + 1);
  return (s, c) => (system === '' || s === system) && (code === '' || c === code);
}

function invalid(parameter: string, text: string, code: 'invalid' | 'required' = 'invalid'): FhirError {
  return FhirError.of(400, code, text, { expression: parameter });
}
