/**
 * One firm (practice) of the FHIR records-system simulator: Medplum's real FHIR engine (`FhirRouter` over a
 * `MemoryRepository`) holding the seed, plus what a vendor's server does around it (issue 12): a Slot search must
 * stay within a window, a booked Appointment marks its Slots busy and a cancelled or deleted one frees them, no
 * conflict checking at all, and the switchable quirks of {@link FhirSimQuirks}.
 */
import { badRequest, normalizeOperationOutcome } from '@medplum/core';
import type { FhirRequest, FhirResponse, FhirRouter } from '@medplum/fhir-router';
import type { MemoryRepository } from '@medplum/fhir-router';
import { FhirSimRepository } from './fhir-sim-repository.js';
import type { Appointment, OperationOutcome, Reference, Resource, Schedule, Slot } from '@medplum/fhirtypes';
import type { FhirSimQuirks } from './fhir-sim-quirks.js';
import { appointmentToBook, bookingConflict, findAppointments } from './fhir-sim-scheduling-ops.js';
import type { FhirSimSeed } from './fhir-sim-seed.js';

const DAY_MS = 86_400_000;
const FREEING_STATUSES = new Set<Appointment['status']>(['cancelled', 'entered-in-error', 'noshow']);

/** The bounds of a `start` search (`ge2026-12-01`, `lt2026-12-08`), or a reason it is not a closed window. */
export function slotSearchSpan(start: string | string[] | undefined): { days: number } | { error: string } {
  const values = start === undefined ? [] : Array.isArray(start) ? start : [start];
  let lower: number | undefined;
  let upper: number | undefined;
  for (const value of values) {
    const match = /^(ge|gt|le|lt|sa|eb)(.+)$/.exec(value);
    const at = match?.[2] === undefined ? Number.NaN : Date.parse(match[2]);
    if (!match || Number.isNaN(at)) return { error: `start=${value} is not a bounded date` };
    if (match[1] === 'ge' || match[1] === 'gt' || match[1] === 'sa') lower = at;
    else upper = at;
  }
  if (lower === undefined || upper === undefined) {
    return { error: 'a Slot search must bound start both ways (start=ge…&start=lt…)' };
  }
  return { days: (upper - lower) / DAY_MS };
}

export class FhirSimFirm {
  private repo = new FhirSimRepository();

  constructor(
    readonly key: string,
    private readonly seed: FhirSimSeed,
    private readonly router: FhirRouter,
  ) {}

  /**
   * Restores the seeded resources (a fresh repository, so history and versions restart too). Synchronous on
   * purpose: `MemoryRepository.createResource` does its work before its first `await`, so the repository is full
   * when this returns and `POST /_sim/reset` can answer only then.
   */
  reset(): void {
    const repo = new FhirSimRepository();
    for (const resource of this.seed.resources) void repo.createResource(resource);
    this.repo = repo;
  }

  /** The live repository (tests read and write through it as the front desk would). */
  get repository(): MemoryRepository {
    return this.repo;
  }

  /** Handles one FHIR interaction the way the simulated vendor does. */
  async handle(req: FhirRequest, quirks: FhirSimQuirks): Promise<FhirResponse> {
    try {
      const path = new URL(req.url, 'http://sim').pathname.replace(/\/+$/, '');
      if (quirks.noSlots && /^\/Slot(\/|$)/.test(path)) {
        return [notFound('this server publishes no Slots (see its CapabilityStatement)')];
      }
      if (req.method === 'GET' && path === '/Slot') {
        const span = slotSearchSpan(req.query.start);
        if ('error' in span) return [invalidStart(span.error)];
        if (span.days > quirks.slotSearchMaxDays) {
          return [
            invalidStart(
              `a Slot search may span at most ${quirks.slotSearchMaxDays} days; this one spans ${span.days}`,
            ),
          ];
        }
      }
      if (path === '/Appointment/$find' || path === '/Appointment/$book') {
        if (!quirks.findAndBook) return [notSupported(`${path.slice(1)} is not offered by this server`)];
        if (path === '/Appointment/$find' && req.method === 'GET') {
          return await findAppointments(this.repo, req.query);
        }
        if (path === '/Appointment/$book' && req.method === 'POST') return await this.book(req, quirks);
        return [badRequest(`${req.method} is not allowed on ${path.slice(1)}`)];
      }
      if (req.method === 'POST' && path === '/Appointment') return await this.create(req, quirks);
      const appointmentId = /^\/Appointment\/([^/]+)$/.exec(path)?.[1];
      if (appointmentId && (req.method === 'PUT' || req.method === 'DELETE')) {
        return await this.change(req, appointmentId, quirks);
      }
      return await this.router.handleRequest(req, this.repo);
    } catch (error) {
      return [normalizeOperationOutcome(error)];
    }
  }

  /** `$book`: the create, but only when the practitioner is free then. */
  private async book(req: FhirRequest, quirks: FhirSimQuirks): Promise<FhirResponse> {
    const appointment = appointmentToBook(req.body);
    if (!appointment) return [badRequest('$book takes a Parameters with an appointment', 'appointment')];
    const refused = await bookingConflict(this.repo, appointment);
    if (refused) return refused;
    return this.create({ ...req, method: 'POST', url: '/Appointment', body: appointment }, quirks);
  }

  private async create(req: FhirRequest, quirks: FhirSimQuirks): Promise<FhirResponse> {
    const body = structuredClone(req.body as Appointment);
    if (body?.resourceType !== 'Appointment') return [badRequest('the body must be an Appointment')];
    if (quirks.createDropsIdentifier) delete body.identifier;
    if (quirks.createLandsOnOtherSlot && body.slot?.length) await this.landElsewhere(body);
    const response = await this.router.handleRequest({ ...req, body }, this.repo);
    const created = response[1] as Appointment | undefined;
    if (created?.resourceType === 'Appointment' && !FREEING_STATUSES.has(created.status)) {
      await this.markSlots(created.slot, 'busy');
    }
    return response;
  }

  private async change(req: FhirRequest, id: string, quirks: FhirSimQuirks): Promise<FhirResponse> {
    const before = await this.repo.readResource<Appointment>('Appointment', id).catch(() => undefined);
    const response = await this.router.handleRequest(req, this.repo);
    const after = req.method === 'DELETE' ? undefined : (response[1] as Appointment | undefined);
    if (!before || (req.method === 'PUT' && after?.resourceType !== 'Appointment')) return response;
    const wasHolding = !FREEING_STATUSES.has(before.status);
    const holds = after !== undefined && !FREEING_STATUSES.has(after.status);
    const beforeSlots = new Set((before.slot ?? []).map((s) => s.reference));
    const afterSlots = new Set((after?.slot ?? []).map((s) => s.reference));
    const released = (before.slot ?? []).filter((s) => !holds || !afterSlots.has(s.reference));
    const cancelled = after !== undefined && !holds;
    if (wasHolding && !(cancelled && quirks.cancelKeepsSlotBusy)) await this.markSlots(released, 'free');
    if (holds)
      await this.markSlots(
        after.slot?.filter((s) => !beforeSlots.has(s.reference) || !wasHolding),
        'busy',
      );
    return response;
  }

  /** The field quirk: book the same start on another schedule whose Slots there are all free. */
  private async landElsewhere(body: Appointment): Promise<void> {
    const wanted = await this.readSlots(body.slot);
    const first = wanted[0];
    if (!first) return;
    const span = wanted.length;
    const others = (
      await this.repo.searchResources<Slot>({ resourceType: 'Slot', count: Number.MAX_SAFE_INTEGER })
    ).filter((s) => s.schedule.reference !== first.schedule.reference && s.status === 'free');
    const byStart = (schedule: string | undefined, at: number) =>
      others.find((s) => s.schedule.reference === schedule && Date.parse(s.start) === at);
    for (const candidate of others.filter((s) => Date.parse(s.start) === Date.parse(first.start))) {
      const run: Slot[] = [];
      for (let i = 0, at = Date.parse(first.start); i < span; i++) {
        const next = byStart(candidate.schedule.reference, at);
        if (!next) break;
        run.push(next);
        at = Date.parse(next.end);
      }
      if (run.length !== span) continue;
      const schedule = await this.repo.readReference<Schedule>(candidate.schedule);
      body.slot = run.map((s): Reference<Slot> => ({ reference: `Slot/${s.id}` }));
      body.participant = body.participant.map((p) => {
        const kind = p.actor?.reference?.split('/')[0];
        const actor = schedule.actor.find((a) => a.reference?.startsWith(`${kind}/`));
        return kind === 'Practitioner' || kind === 'Location' ? { ...p, actor: actor ?? p.actor } : p;
      });
      return;
    }
  }

  private async readSlots(refs: Reference<Slot>[] | undefined): Promise<Slot[]> {
    const found = await this.repo.readReferences<Slot>(refs ?? []);
    return found.filter((s): s is Slot => !(s instanceof Error));
  }

  private async markSlots(refs: Reference<Slot>[] | undefined, status: Slot['status']): Promise<void> {
    for (const slot of await this.readSlots(refs)) {
      if (slot.status !== status) await this.repo.updateResource<Resource>({ ...slot, status });
    }
  }
}

function notFound(message: string) {
  return notSupported(message, ['Slot']);
}

/** A 404 saying what the server does not offer. */
function notSupported(message: string, expression?: string[]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    id: 'not-found',
    issue: [
      {
        severity: 'error',
        code: 'not-supported',
        details: { text: message },
        ...(expression ? { expression } : {}),
      },
    ],
  };
}

function invalidStart(message: string) {
  return badRequest(message, 'Slot.start');
}
