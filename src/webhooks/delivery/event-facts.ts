/**
 * What a journal event is about, for outbox matching: the resource version it names and the Schedules whose free
 * time it changed, read inside the writing transaction and each at most once (most subscriptions need only part
 * of it).
 */
import type { Appointment, Reference, Resource, Schedule, Slot } from '@medplum/fhirtypes';
import type { JournalEntry } from '../../store/change-journal.js';
import type { StoreTransaction } from '../../store/database.js';
import { liveScheduleIds, versionRow } from '../../store/matching-reads.js';
import { parseReference } from '../../store/reference-key.js';

/** Appointment statuses that do not occupy the practitioner's time. */
const FREE_APPOINTMENT_STATUSES = new Set(['cancelled', 'entered-in-error', 'proposed', 'waitlist']);

/** One stored version of a resource. */
export interface StoredVersion {
  resource: Resource;
  deleted: boolean;
  versionId: number;
}

/** A Schedule with its practitioners and locations. */
export interface AffectedSchedule {
  id: string;
  practitioners: string[];
  locations: string[];
}

/** Reads resource versions inside the transaction, each once. */
export class VersionReader {
  private readonly cache = new Map<string, Promise<StoredVersion | undefined>>();
  private readonly schedules = new Map<string, Promise<AffectedSchedule[]>>();

  constructor(
    private readonly trx: StoreTransaction,
    private readonly tenantId: string,
  ) {}

  /** A version, or the current row when `versionId` is null. */
  version(resourceType: string, id: string, versionId: number | null): Promise<StoredVersion | undefined> {
    const key = `${resourceType}/${id}/${versionId ?? 'current'}`;
    let found = this.cache.get(key);
    if (!found) {
      found = this.load(resourceType, id, versionId);
      this.cache.set(key, found);
    }
    return found;
  }

  /** The live Schedules of practitioner × location. */
  schedulesOf(practitioner: string, location: string): Promise<AffectedSchedule[]> {
    const key = `${practitioner}|${location}`;
    let found = this.schedules.get(key);
    if (!found) {
      found = liveScheduleIds(this.trx, this.tenantId, practitioner, location).then((ids) =>
        ids.map((id) => ({ id, practitioners: [practitioner], locations: [location] })),
      );
      this.schedules.set(key, found);
    }
    return found;
  }

  private async load(
    resourceType: string,
    id: string,
    versionId: number | null,
  ): Promise<StoredVersion | undefined> {
    const row = await versionRow(this.trx, this.tenantId, resourceType, id, versionId);
    if (!row) return undefined;
    return {
      resource: JSON.parse(row.resource) as Resource,
      deleted: row.deleted === 1,
      versionId: row.version_id,
    };
  }
}

/** What an event is about, loaded lazily: most subscriptions need only part of it. */
export class EventFacts {
  private affected: Promise<AffectedSchedule[]> | undefined;

  constructor(
    readonly entry: JournalEntry,
    private readonly reader: VersionReader,
  ) {}

  /** The resource version the event names (deleted versions carry the last content). */
  resource(): Promise<StoredVersion | undefined> {
    const { resourceType, resourceId, versionId } = this.entry;
    if (!resourceType || !resourceId) return Promise.resolve(undefined);
    return this.reader.version(resourceType, resourceId, versionId);
  }

  /** The Schedules whose free time this event changed, the current one first. */
  affectedSchedules(): Promise<AffectedSchedule[]> {
    this.affected ??= this.computeAffected();
    return this.affected;
  }

  private async previous(): Promise<Resource | undefined> {
    const { resourceType, resourceId, versionId } = this.entry;
    const current = await this.resource();
    if (!resourceType || !resourceId || !current) return undefined;
    // A delete's version carries the last live content: that is what the time was taken by.
    if (current.deleted) return current.resource;
    const number = versionId ?? current.versionId;
    if (number <= 1) return undefined;
    const before = await this.reader.version(resourceType, resourceId, number - 1);
    return before && !before.deleted ? before.resource : undefined;
  }

  private async computeAffected(): Promise<AffectedSchedule[]> {
    const current = await this.resource();
    if (!current) return [];
    const next = current.deleted ? undefined : current.resource;
    const previous = await this.previous();
    const result: AffectedSchedule[] = [];
    const add = (schedules: AffectedSchedule[]) => {
      for (const schedule of schedules) if (!result.some((s) => s.id === schedule.id)) result.push(schedule);
    };
    // An if-chain, not a switch: only these three resource types take or give time.
    const type = current.resource.resourceType;
    if (type === 'Appointment') {
      const before = previous as Appointment | undefined;
      const after = next as Appointment | undefined;
      if (!availabilityChanged(before, after)) return [];
      for (const appointment of [after, before]) {
        if (!appointment || !occupiesTime(appointment)) continue;
        const actors = (appointment.participant ?? []).map((p) => parseReference(p.actor));
        for (const practitioner of actors.filter((a) => a?.type === 'Practitioner')) {
          for (const location of actors.filter((a) => a?.type === 'Location')) {
            add(await this.reader.schedulesOf(practitioner?.id ?? '', location?.id ?? ''));
          }
        }
      }
      return result;
    }
    if (type === 'Slot') {
      for (const slot of [next as Slot | undefined, previous as Slot | undefined]) {
        const schedule = slot && parseReference(slot.schedule);
        if (schedule?.type !== 'Schedule') continue;
        const stored = await this.reader.version('Schedule', schedule.id, null);
        add([scheduleActors(schedule.id, stored?.resource as Schedule | undefined)]);
      }
      return result;
    }
    if (type === 'Schedule') return [scheduleActors(current.resource.id ?? '', current.resource)];
    return [];
  }
}

function scheduleActors(id: string, schedule: Schedule | undefined): AffectedSchedule {
  const actors = (schedule?.actor ?? []).map((a: Reference) => parseReference(a));
  return {
    id,
    practitioners: actors.filter((a) => a?.type === 'Practitioner').map((a) => a?.id ?? ''),
    locations: actors.filter((a) => a?.type === 'Location').map((a) => a?.id ?? ''),
  };
}

function occupiesTime(appointment: Appointment): boolean {
  return !FREE_APPOINTMENT_STATUSES.has(appointment.status);
}

/** True when the time an appointment occupies (or whether it occupies any) differs between two versions. */
function availabilityChanged(before: Appointment | undefined, after: Appointment | undefined): boolean {
  const busyBefore = before !== undefined && occupiesTime(before);
  const busyAfter = after !== undefined && occupiesTime(after);
  if (busyBefore !== busyAfter) return true;
  if (!busyBefore || !before || !after) return false;
  const actors = (a: Appointment) =>
    (a.participant ?? [])
      .map((p) => p.actor?.reference ?? '')
      .filter((r) => /(^|\/)(Practitioner|Location)\//.test(r))
      .sort()
      .join('|');
  return before.start !== after.start || before.end !== after.end || actors(before) !== actors(after);
}
