/**
 * Availability computed from the store alone, against the demo practice synced from the sim over HTTP, on both
 * dialects: the rules of DESIGN.md section 2 ("The demo practice") seen through `searchSlots` and `isSlotFree`.
 */
import type { Schedule, Slot } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isSlotFree,
  searchSlots,
  type SlotSearchQuery,
} from '../../src/availability/availability-service.js';
import { parseSlotId } from '../../src/availability/slot-id.js';
import type { TenantConfig } from '../../src/config.js';
import { buildDemoPractice } from '../../src/sim/demo-practice.js';
import type { SimAppointment, SimFirmData } from '../../src/sim/sim-types.js';
import type { Store } from '../../src/store/database.js';
import { readResource } from '../../src/store/resource-store.js';
import { fhirIdsFor } from '../../src/store/upstream-ids.js';
import { instantToWallTime, isoWeekdayOf, wallTimeToInstant } from '../../src/wall-time.js';
import { expectValidFhir } from '../support/fhir-validators.js';
import { ManualClock, startSyncHarness, type SyncHarness } from '../support/sync-harness.js';
import { testStoreFactories, type TestStoreHandle } from '../support/test-stores.js';

const FIRM = 'riverside';
const TODAY = '2026-11-21';
const ZONE = 'America/New_York';
const THANKSGIVING = '2026-11-26';
/** Saturday 2026-11-21, 07:00 in New York: before opening, the day the demo practice was generated for. */
const NOW = '2026-11-21T12:00:00Z';
const DAY = 24 * 60 * 60_000;

const wallOf = (iso: string): string => instantToWallTime(new Date(iso), ZONE);
const dateOf = (slot: Slot): string => wallOf(slot.start).slice(0, 10);
const clockOf = (slot: Slot): string => wallOf(slot.start).slice(11);
const minutesOf = (slot: Slot): number => (Date.parse(slot.end) - Date.parse(slot.start)) / 60_000;
const codesOf = (slot: Slot): string[] => (slot.serviceType ?? []).map((c) => c.coding?.[0]?.code ?? '');
const overlaps = (slot: Slot, start: number, end: number): boolean =>
  Date.parse(slot.start) < end && start < Date.parse(slot.end);

describe.each(testStoreFactories)('availability of the demo practice from the store ($name)', (factory) => {
  let handle: TestStoreHandle;
  let harness: SyncHarness;
  let data: SimFirmData;
  let store: Store;
  let tenant: TenantConfig;
  /** Upstream provider id → FHIR Practitioner id, and FHIR Schedule id → upstream provider id. */
  const practitionerOf = new Map<number, string>();
  const providerOfSchedule = new Map<string, number>();
  const now = new Date(NOW);

  beforeAll(async () => {
    handle = await factory.create();
    store = handle.store;
    data = buildDemoPractice({ today: TODAY });
    harness = await startSyncHarness({
      firms: [{ name: FIRM, data }],
      store,
      clock: new ManualClock(NOW),
    });
    tenant = harness.tenants[0] as TenantConfig;
    const reports = await harness.engine.runOnce();
    expect(reports.map((r) => r.outcome)).toEqual(['ok', 'ok', 'ok', 'ok']);
    const ids = await fhirIdsFor(
      store,
      FIRM,
      'Practitioner',
      data.providers.map((p) => String(p.id)),
    );
    for (const p of data.providers) practitionerOf.set(p.id, ids.get(String(p.id)) ?? '');
    const byPractitioner = new Map([...practitionerOf].map(([upstream, fhir]) => [fhir, upstream]));
    const rows = await store.db
      .selectFrom('resources')
      .select(['id', 'ref_practitioner'])
      .where('tenant_id', '=', FIRM)
      .where('resource_type', '=', 'Schedule')
      .execute();
    for (const row of rows)
      providerOfSchedule.set(row.id, byPractitioner.get(row.ref_practitioner ?? '') ?? 0);
  });

  afterAll(async () => {
    await harness?.close();
    await handle?.dispose();
  });

  const providerId = (lastName: string): number => {
    const p = data.providers.find((x) => x.lastName === lastName);
    if (!p) throw new Error(`no provider ${lastName}`);
    return p.id;
  };
  const typeOf = (code: string) => {
    const t = data.appointmentTypes.find((x) => x.code === code);
    if (!t) throw new Error(`no type ${code}`);
    return t;
  };
  const providerOf = (slot: Slot): number =>
    providerOfSchedule.get(slot.schedule.reference?.split('/')[1] ?? '') ?? 0;
  const search = (query: Partial<SlotSearchQuery> = {}) =>
    searchSlots(store, tenant, { from: now, to: new Date(now.getTime() + 21 * DAY), now, ...query });
  const searchFor = (lastName: string, query: Partial<SlotSearchQuery> = {}) =>
    search({ practitionerIds: [practitionerOf.get(providerId(lastName)) ?? ''], ...query });

  it('offers valid free Slots, sorted by start, on every schedule, never on weekends, Thanksgiving or in the past', async () => {
    const slots = await search();
    expect(slots.length).toBeGreaterThan(200);
    expect(new Set(slots.map(providerOf))).toEqual(new Set(data.providers.map((p) => p.id)));
    const earliest = now.getTime() + tenant.booking.minimumNoticeMinutes * 60_000;
    for (const slot of slots) {
      expect(isoWeekdayOf(dateOf(slot)), slot.id).toBeLessThan(6);
      expect(dateOf(slot), slot.id).not.toBe(THANKSGIVING);
      expect(Date.parse(slot.start), slot.id).toBeGreaterThanOrEqual(earliest);
      expect(slot.status).toBe('free');
    }
    const starts = slots.map((s) => Date.parse(s.start));
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    expect(new Set(slots.map((s) => s.id)).size).toBe(slots.length);
  });

  it('returns Slots that both validators accept', async () => {
    for (const slot of await search()) expectValidFhir(slot);
  });

  it('gives every slot the duration of each type it offers', async () => {
    const slots = await search();
    for (const slot of slots) {
      for (const code of codesOf(slot)) expect(typeOf(code).durationMinutes, slot.id).toBe(minutesOf(slot));
    }
    expect(new Set(slots.map(minutesOf))).toEqual(new Set([15, 20, 30, 45]));
  });

  it('never offers a slot overlapping a booked (not cancelled, not no-show) appointment of that practitioner', async () => {
    const slots = await search();
    const busy = data.appointments
      .filter((a) => a.start >= TODAY && a.status !== 'cancelled' && a.status !== 'no-show')
      .map((a) => {
        const start = wallTimeToInstant(a.start, ZONE).getTime();
        return { providerId: a.providerId, start, end: start + a.durationMinutes * 60_000 };
      })
      .filter((a) => a.end > now.getTime());
    expect(busy.length).toBeGreaterThan(100);
    for (const slot of slots) {
      const clash = busy.find((a) => a.providerId === providerOf(slot) && overlaps(slot, a.start, a.end));
      expect(clash, slot.id).toBeUndefined();
    }
  });

  it('offers Dr. Williams nothing during his vacation next week, and time again the week after', async () => {
    const dates = new Set((await searchFor('Williams')).map(dateOf));
    for (const date of ['2026-11-23', '2026-11-24', '2026-11-25', '2026-11-27'])
      expect(dates.has(date), date).toBe(false);
    expect([...dates].some((d) => d >= '2026-11-30' && d <= '2026-12-04')).toBe(true);
  });

  it('offers Dr. Martinez nothing on Fridays', async () => {
    const slots = await searchFor('Martinez');
    expect(slots.length).toBeGreaterThan(0);
    expect(slots.filter((s) => isoWeekdayOf(dateOf(s)) === 5)).toEqual([]);
  });

  it("offers Dr. Chen nothing in her extended lunch, though other days' afternoons start at 13:00", async () => {
    const block = data.blocks.find((b) => b.reason === 'Extended lunch' && b.start >= TODAY);
    expect(block).toBeDefined();
    const start = wallTimeToInstant(block?.start ?? '', ZONE).getTime();
    const end = wallTimeToInstant(block?.end ?? '', ZONE).getTime();
    const slots = await searchFor('Chen');
    expect(slots.filter((s) => overlaps(s, start, end))).toEqual([]);
    const day = block?.start.slice(0, 10);
    expect(slots.some((s) => dateOf(s) === day && clockOf(s) === '14:00')).toBe(true);
    expect(slots.some((s) => dateOf(s) !== day && clockOf(s) === '13:00')).toBe(true);
  });

  it('offers Dr. Johnson nothing on Tuesday mornings and new-patient visits only on Tuesday afternoons', async () => {
    const slots = await searchFor('Johnson');
    const tuesdays = slots.filter((s) => isoWeekdayOf(dateOf(s)) === 2);
    expect(tuesdays.filter((s) => clockOf(s) < '12:00')).toEqual([]);
    expect(tuesdays.length).toBeGreaterThan(0);
    const newPatient = slots.filter((s) => codesOf(s).includes('new-patient'));
    expect(newPatient.length).toBeGreaterThan(0);
    for (const slot of newPatient) {
      expect(isoWeekdayOf(dateOf(slot)), slot.id).toBe(2);
      expect(clockOf(slot) >= '13:00', slot.id).toBe(true);
    }
    // Other practitioners see new patients whenever they work.
    const martinez = await searchFor('Martinez', { serviceTypeCodes: ['new-patient'] });
    expect(new Set(martinez.map((s) => isoWeekdayOf(dateOf(s)))).size).toBeGreaterThan(1);
  });

  it('filters by schedule, location and service type (system|code or code)', async () => {
    const all = await search({ to: new Date(now.getTime() + 7 * DAY) });
    const system = all[0]?.serviceType?.[0]?.coding?.[0]?.system ?? '';
    const byToken = await search({
      to: new Date(now.getTime() + 7 * DAY),
      serviceTypeCodes: [`${system}|sick-visit`],
    });
    const byCode = await search({ to: new Date(now.getTime() + 7 * DAY), serviceTypeCodes: ['sick-visit'] });
    expect(byToken).toEqual(byCode);
    expect(byCode).toEqual(all.filter((s) => codesOf(s).includes('sick-visit')));
    expect(await search({ serviceTypeCodes: ['other-system|sick-visit'] })).toEqual([]);

    const scheduleId = all[0]?.schedule.reference?.split('/')[1] ?? '';
    const schedule = (await readResource(store, FIRM, 'Schedule', scheduleId))?.resource as Schedule;
    const locationId = schedule.actor
      .find((a) => a.reference?.startsWith('Location/'))
      ?.reference?.split('/')[1];
    const oneSchedule = await search({ to: new Date(now.getTime() + 7 * DAY), scheduleIds: [scheduleId] });
    expect(oneSchedule).toEqual(all.filter((s) => s.schedule.reference === `Schedule/${scheduleId}`));
    const atLocation = await search({
      to: new Date(now.getTime() + 7 * DAY),
      locationIds: [locationId ?? ''],
    });
    expect(atLocation.length).toBeGreaterThanOrEqual(oneSchedule.length);
    expect(await search({ scheduleIds: [] })).toEqual([]);
  });

  it('treats holds and pending writes passed as extraBusy as taken', async () => {
    const [first] = await searchFor('Chen');
    expect(first).toBeDefined();
    const slot = first as Slot;
    const practitionerId = practitionerOf.get(providerId('Chen')) ?? '';
    const held = await searchFor('Chen', {
      extraBusy: [{ practitionerId, start: slot.start, end: slot.end }],
    });
    expect(held.filter((s) => overlaps(s, Date.parse(slot.start), Date.parse(slot.end)))).toEqual([]);
    const parsed = parseSlotId(slot.id ?? '');
    expect(
      await isSlotFree(store, tenant, {
        scheduleId: parsed?.scheduleId ?? '',
        start: parsed?.start ?? now,
        minutes: parsed?.minutes ?? 0,
        typeCode: codesOf(slot)[0] ?? '',
        now,
        extraBusy: [{ practitionerId, start: slot.start, end: slot.end }],
      }),
    ).toMatchObject({ free: false, reason: 'slot-taken' });
  });

  it('tells why a time cannot be booked', async () => {
    const johnson = (await searchFor('Johnson'))[0];
    const scheduleId = johnson?.schedule.reference?.split('/')[1] ?? '';
    const check = (wall: string, typeCode: string, minutes: number) =>
      isSlotFree(store, tenant, { scheduleId, start: wallTimeToInstant(wall, ZONE), minutes, typeCode, now });
    expect(await check('2026-11-24T09:00', 'follow-up', 15)).toMatchObject({
      reason: 'provider-unavailable',
    });
    expect(await check(`${THANKSGIVING}T09:00`, 'follow-up', 15)).toMatchObject({
      reason: 'provider-unavailable',
    });
    expect(await check('2026-11-28T09:00', 'follow-up', 15)).toMatchObject({ reason: 'outside-hours' });
    expect(await check('2026-11-23T12:15', 'follow-up', 15)).toMatchObject({ reason: 'outside-hours' });
    expect(await check('2026-11-23T09:00', 'new-patient', 45)).toMatchObject({ reason: 'type-not-offered' });
    expect(await check('2026-11-20T09:00', 'follow-up', 15)).toMatchObject({ reason: 'in-the-past' });
    expect(await check('2027-03-01T09:00', 'follow-up', 15)).toMatchObject({ reason: 'beyond-horizon' });
    const parsed = parseSlotId(johnson?.id ?? '');
    expect(
      await isSlotFree(store, tenant, {
        scheduleId,
        start: parsed?.start ?? now,
        minutes: parsed?.minutes ?? 0,
        typeCode: codesOf(johnson as Slot)[0] ?? '',
        now,
      }),
    ).toEqual({ free: true, slot: johnson });
    expect(
      await isSlotFree(store, tenant, {
        scheduleId: 'no-such-schedule',
        start: now,
        minutes: 15,
        typeCode: 'x',
        now,
      }),
    ).toMatchObject({ free: false, reason: 'unknown-schedule' });
  });

  // Last: it books and cancels in the sim (and leaves the practice as it found it).
  it('removes the overlapping slots after a front-desk booking syncs, and brings them back when it is cancelled', async () => {
    const chen = providerId('Chen');
    // A hot pass first, as the engine would run one every few seconds: it also replaces HTTP connections the sim
    // closed while the tests above kept the event loop busy, which the front-desk client below does not retry.
    await harness.engine.runOnce();
    const before = await searchFor('Chen');
    const target = before.find((s) => minutesOf(s) === 30 && dateOf(s) > '2026-11-30');
    expect(target).toBeDefined();
    const start = Date.parse(target?.start ?? '');
    const sick = typeOf('sick-visit');
    const end = start + sick.durationMinutes * 60_000;
    const hit = before.filter((s) => overlaps(s, start, end));
    expect(hit.length).toBeGreaterThan(2);

    const location = data.templates.find((t) => t.providerId === chen)?.locationId;
    const created = await harness.frontDesk<SimAppointment>(FIRM, 'POST', '/appointments', {
      patientId: 1,
      providerId: chen,
      locationId: location,
      appointmentTypeId: sick.id,
      start: wallOf(target?.start ?? ''),
      durationMinutes: sick.durationMinutes,
    });
    expect(created.status).toBe(201);
    await harness.engine.runOnce();
    const booked = await searchFor('Chen');
    expect(booked.filter((s) => overlaps(s, start, end))).toEqual([]);
    expect(booked).toEqual(before.filter((s) => !overlaps(s, start, end)));

    const cancelled = await harness.frontDesk(FIRM, 'POST', `/appointments/${created.body.id}/cancel`, {
      reason: 'Feeling better',
    });
    expect(cancelled.status).toBe(200);
    await harness.engine.runOnce();
    expect(await searchFor('Chen')).toEqual(before);
  });
});
