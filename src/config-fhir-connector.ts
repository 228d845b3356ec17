/**
 * Configuration of `connector.kind: "fhir"` (issue 12): an upstream FHIR R4 server per tenant (one base URL per
 * practice, as ModMed's firm URLs), its auth, the capabilities that override what its CapabilityStatement says,
 * and how its appointment-type codings map to the tenant's. Part of src/config.ts, kept apart for size; secrets
 * are resolved by config.ts (the only reader of the environment).
 */
import { z } from 'zod';

const secret = (name: string) => ({
  [name]: z.string().min(1).optional(),
  [`${name}Env`]: z.string().min(1).optional(),
  [`${name}File`]: z.string().min(1).optional(),
});

const tokenUrl = z.url({ protocol: /^https?$/ });

const fhirAuthSchema = z.discriminatedUnion('method', [
  /** OAuth2 password grant (ModMed); a client id/secret is sent too when the server wants one. */
  z.strictObject({
    method: z.literal('password'),
    tokenUrl,
    username: z.string().min(1),
    ...secret('password'),
    clientId: z.string().min(1).optional(),
    ...secret('clientSecret'),
    scope: z.string().min(1).optional(),
  }),
  /** Client credentials with the secret in the Basic header or the form (RFC 6749 section 2.3.1). */
  z.strictObject({
    method: z.enum(['client_secret_basic', 'client_secret_post']),
    tokenUrl,
    clientId: z.string().min(1),
    ...secret('clientSecret'),
    scope: z.string().min(1).optional(),
  }),
  /** SMART Backend Services: a client assertion signed with the key in `privateKeyFile` (PKCS#8 PEM or JWK). */
  z.strictObject({
    method: z.literal('private_key_jwt'),
    tokenUrl,
    clientId: z.string().min(1),
    privateKeyFile: z.string().min(1),
    algorithm: z.enum(['RS384', 'ES384']),
    keyId: z.string().min(1).optional(),
    scope: z.string().min(1).optional(),
  }),
]);

/** Capabilities the configuration asserts; each one given here wins over discovery. */
const fhirCapabilitiesSchema = z.strictObject({
  /** Longest `start` range one Slot search may span (ModMed: a few days). */
  slotSearchMaxDays: z.number().int().positive().optional(),
  /** `_lastUpdated` searches work (patients are then polled incrementally). */
  lastUpdated: z.boolean().optional(),
  /** `Appointment.identifier` survives a create; when false the marker travels in `comment`. */
  identifierSurvivesCreate: z.boolean().optional(),
  /**
   * Where bookable time comes from: `slots`, the upstream's open Slots; `hours`, the configured `workingHours`
   * minus the upstream's appointments (an upstream that publishes no Slots, e.g. ModMed or Cerner without them).
   */
  availability: z.enum(['slots', 'hours']).optional(),
  /** The upstream has `$find`/`$book` (Epic); recorded, not used this round. */
  findAndBook: z.boolean().optional(),
  /** Cancelling frees the Slot upstream; Switchboard trusts appointments over Slot status either way. */
  cancelFreesSlot: z.boolean().optional(),
});

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'a wall time HH:mm (24:00 = midnight)');

/**
 * One weekly window of working hours of one practitioner at one location (the upstream ids of its Practitioner and
 * Location, as its Schedule's actors name them), in the practice zone. With `availability: "hours"` this is where
 * bookable time comes from; with `slots` it narrows the week the upstream's Slots are read within and carries the
 * window's appointment-type rule.
 */
const workingWindowSchema = z
  .strictObject({
    practitioner: z.string().min(1),
    location: z.string().min(1),
    /** ISO weekday, 1 = Monday … 7 = Sunday. */
    weekday: z.number().int().min(1).max(7),
    start: clock,
    end: clock,
    /** The tenant's codes (`appointmentTypes[].as`, else `code`) bookable in this window; absent: every type. */
    appointmentTypes: z.array(z.string().min(1)).min(1).optional(),
  })
  .refine((w) => w.start < w.end, { message: 'start must be before end', path: ['end'] });

/** One upstream appointment-type coding and what it is for the tenant. */
const appointmentTypeSchema = z.strictObject({
  /** The upstream coding (`serviceType` or `appointmentType`). */
  system: z.string().min(1),
  code: z.string().min(1),
  /** The tenant's code (defaults to the upstream one) and name. */
  as: z.string().min(1).optional(),
  display: z.string().min(1).optional(),
  minutes: z.number().int().positive(),
  newPatientOnly: z.boolean().default(false),
});

export const fhirConnectorSchema = z.strictObject({
  kind: z.literal('fhir'),
  /** The practice's FHIR base (`https://…/firm/{firm}/fhir`). */
  baseUrl: z.url({ protocol: /^https?$/ }),
  auth: fhirAuthSchema,
  capabilities: fhirCapabilitiesSchema.default({}),
  appointmentTypes: z.array(appointmentTypeSchema).min(1),
  /** Weekly working hours per practitioner × location (required with `capabilities.availability: "hours"`). */
  workingHours: z.array(workingWindowSchema).default([]),
  /** Entries per page asked of the upstream (`_count`). */
  pageSize: z.number().int().min(1).max(1000).default(100),
  timeoutMs: z.number().int().positive().default(10_000),
  maxConcurrency: z.number().int().positive().default(4),
});

export type FhirConnectorInput = z.output<typeof fhirConnectorSchema>;
export type FhirCapabilitySettings = z.output<typeof fhirCapabilitiesSchema>;
export type FhirAppointmentTypeSettings = z.output<typeof appointmentTypeSchema>;
export type FhirWorkingWindow = z.output<typeof workingWindowSchema>;

/** The auth settings with their secrets resolved. */
export type FhirAuthSettings =
  | {
      method: 'password';
      tokenUrl: string;
      username: string;
      password: string;
      clientId?: string;
      clientSecret?: string;
      scope?: string;
    }
  | {
      method: 'client_secret_basic' | 'client_secret_post';
      tokenUrl: string;
      clientId: string;
      clientSecret: string;
      scope?: string;
    }
  | {
      method: 'private_key_jwt';
      tokenUrl: string;
      clientId: string;
      privateKeyFile: string;
      algorithm: 'RS384' | 'ES384';
      keyId?: string;
      scope?: string;
    };

export interface FhirConnectorSettings {
  kind: 'fhir';
  baseUrl: string;
  auth: FhirAuthSettings;
  capabilities: FhirCapabilitySettings;
  appointmentTypes: FhirAppointmentTypeSettings[];
  workingHours: FhirWorkingWindow[];
  pageSize: number;
  timeoutMs: number;
  maxConcurrency: number;
}

type SecretReader = (
  where: string,
  inline: string | undefined,
  envName: string | undefined,
  file: string | undefined,
) => string;

const given = (raw: Record<string, unknown>, name: string) =>
  [raw[name], raw[`${name}Env`], raw[`${name}File`]].filter((v) => v !== undefined).length;

/** Which secret fields are missing or given twice, as config paths; empty when the auth block is sound. */
export function fhirAuthSecretProblems(
  auth: Record<string, unknown>,
): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  const exactlyOne = (name: string) => {
    if (given(auth, name) !== 1) {
      problems.push({ path: name, message: `give exactly one of ${name}, ${name}Env, ${name}File` });
    }
  };
  if (auth.method === 'password') {
    exactlyOne('password');
    if (given(auth, 'clientSecret') > 1) exactlyOne('clientSecret');
  } else if (auth.method === 'client_secret_basic' || auth.method === 'client_secret_post') {
    exactlyOne('clientSecret');
  }
  return problems;
}

/** What is wrong with the working hours, as config paths: `hours` needs some, and each type must be configured. */
export function fhirWorkingHoursProblems(
  c: Pick<FhirConnectorInput, 'capabilities' | 'appointmentTypes' | 'workingHours'>,
): Array<{ path: Array<string | number>; message: string }> {
  const problems: Array<{ path: Array<string | number>; message: string }> = [];
  if (c.capabilities.availability === 'hours' && c.workingHours.length === 0) {
    problems.push({
      path: ['workingHours'],
      message: 'availability "hours" needs the working hours Switchboard computes free time from',
    });
  }
  const codes = new Set(c.appointmentTypes.map((t) => t.as ?? t.code));
  c.workingHours.forEach((w, i) =>
    (w.appointmentTypes ?? []).forEach((code, j) => {
      if (!codes.has(code)) {
        problems.push({
          path: ['workingHours', i, 'appointmentTypes', j],
          message: `${code} is not one of appointmentTypes (their "as", else "code")`,
        });
      }
    }),
  );
  return problems;
}

/** Resolves the connector's secrets (through config.ts's reader) into settings. */
export function resolveFhirConnector(
  raw: FhirConnectorInput,
  where: string,
  read: SecretReader,
): FhirConnectorSettings {
  const a = raw.auth as Record<string, string | undefined> & FhirConnectorInput['auth'];
  const readSecret = (name: string) =>
    read(`${where}.auth.${name}`, a[name], a[`${name}Env`], a[`${name}File`]);
  let auth: FhirAuthSettings;
  if (a.method === 'password') {
    auth = {
      method: 'password',
      tokenUrl: a.tokenUrl,
      username: a.username,
      password: readSecret('password'),
      ...(a.clientId ? { clientId: a.clientId } : {}),
      ...(given(a, 'clientSecret') ? { clientSecret: readSecret('clientSecret') } : {}),
      ...(a.scope ? { scope: a.scope } : {}),
    };
  } else if (a.method === 'private_key_jwt') {
    auth = {
      method: 'private_key_jwt',
      tokenUrl: a.tokenUrl,
      clientId: a.clientId,
      privateKeyFile: a.privateKeyFile,
      algorithm: a.algorithm,
      ...(a.keyId ? { keyId: a.keyId } : {}),
      ...(a.scope ? { scope: a.scope } : {}),
    };
  } else {
    auth = {
      method: a.method,
      tokenUrl: a.tokenUrl,
      clientId: a.clientId,
      clientSecret: readSecret('clientSecret'),
      ...(a.scope ? { scope: a.scope } : {}),
    };
  }
  return {
    kind: 'fhir',
    baseUrl: raw.baseUrl.replace(/\/+$/, ''),
    auth,
    capabilities: raw.capabilities,
    appointmentTypes: raw.appointmentTypes,
    workingHours: raw.workingHours,
    pageSize: raw.pageSize,
    timeoutMs: raw.timeoutMs,
    maxConcurrency: raw.maxConcurrency,
  };
}

/** The demo practice's appointment types as the FHIR records-system simulator codes them (fixtures/riverside/). */
const DEMO_TYPES = [
  { code: 'annual-physical', display: 'Annual Physical', minutes: 30, newPatientOnly: false },
  { code: 'new-patient', display: 'New Patient Visit', minutes: 45, newPatientOnly: true },
  { code: 'follow-up', display: 'Follow-up Visit', minutes: 15, newPatientOnly: false },
  { code: 'sick-visit', display: 'Sick Visit', minutes: 20, newPatientOnly: false },
  { code: 'procedure-consult', display: 'Procedure Consultation', minutes: 30, newPatientOnly: false },
];

/** A practice's weekly hours as the proprietary simulator gives them (`/templates`), ids numeric. */
export interface PracticeHours {
  templates: ReadonlyArray<{
    providerId: number;
    locationId: number;
    weekday: number;
    start: string;
    end: string;
    appointmentTypeIds?: readonly number[];
  }>;
  appointmentTypes: ReadonlyArray<{ id: number; code: string }>;
}

/**
 * The `workingHours` of a FHIR tenant over a practice whose FHIR server uses the simulator's ids (the FHIR
 * simulator does): one window per template, with its appointment-type rule by code.
 */
export function workingHoursOfPractice(practice: PracticeHours): FhirWorkingWindow[] {
  const code = new Map(practice.appointmentTypes.map((t) => [t.id, t.code]));
  return practice.templates.map((t) => ({
    practitioner: String(t.providerId),
    location: String(t.locationId),
    weekday: t.weekday,
    start: t.start,
    end: t.end,
    ...(t.appointmentTypeIds
      ? { appointmentTypes: t.appointmentTypeIds.flatMap((id) => code.get(id) ?? []) }
      : {}),
  }));
}

/** How far ahead the FHIR simulator publishes Slots: the demo-fhir tenant offers nothing beyond. */
const DEMO_FHIR_HORIZON_DAYS = 60;

/**
 * Tenant `demo-fhir` of `npm start` (issue 12): the same practice through the FHIR records-system simulator's firm
 * `riverside`, password grant, polled like tenant `demo`. With the practice's hours it carries their per-window
 * appointment-type rules (Dr. Johnson sees new patients on Tuesday afternoons only), as tenant `demo` does; with
 * `availability: "hours"` it computes free time from them, for a simulator that publishes no Slots.
 */
export function demoFhirTenant(
  fhirSimBaseUrl: string,
  options: { hours?: PracticeHours; availability?: 'slots' | 'hours' } = {},
) {
  const firm = `${fhirSimBaseUrl.replace(/\/+$/, '')}/firm/riverside`;
  return {
    id: 'demo-fhir',
    name: 'Riverside Family Medicine (FHIR)',
    connector: {
      kind: 'fhir' as const,
      baseUrl: `${firm}/fhir`,
      auth: {
        method: 'password' as const,
        tokenUrl: `${firm}/oauth/token`,
        username: 'switchboard',
        password: 'demo-password',
      },
      appointmentTypes: DEMO_TYPES.map((t) => ({
        system: 'https://fhir-sim.example/riverside/CodeSystem/appointment-type',
        ...t,
      })),
      ...(options.availability ? { capabilities: { availability: options.availability } } : {}),
      ...(options.hours ? { workingHours: workingHoursOfPractice(options.hours) } : {}),
      // One page per Slot search: the simulator scans its whole memory for every page.
      pageSize: 1000,
    },
    sync: {
      hotIntervalSeconds: 2,
      warmIntervalSeconds: 60,
      patientsIntervalSeconds: 10,
      horizonDays: DEMO_FHIR_HORIZON_DAYS,
    },
    booking: { horizonDays: DEMO_FHIR_HORIZON_DAYS },
  };
}
