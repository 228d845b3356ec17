/**
 * The operator console as a person sees it (issue 15), in headless Chromium (Debian's, through playwright-core):
 * signing in, a healthy practice, one that needs attention (a booking handed to staff, a webhook receiver
 * answering 401 past the threshold, dead letters) with the booking figures the saga rows give, and one whose
 * records system is down. On SQLite, and on PostgreSQL when TEST_DATABASE_URL is set.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.js';
import { waitUntil } from '../support/webhook-receiver.js';
import {
  addAttentionTask,
  addSagaHistory,
  bookFreeSlot,
  fhir,
  OPERATOR_TOKEN,
  SAGA_HISTORY,
  startConsoleDemo,
  subscribeReceiver,
  waitReady,
  type ConsoleDemo,
} from './support/console-demo.js';

const DIALECTS = ['sqlite' as const, ...(process.env.TEST_DATABASE_URL ? ['postgres' as const] : [])];

/** What a person reads on the page: its visible text, whitespace collapsed. */
const visibleText = async (page: Page) => (await page.locator('body').innerText()).replace(/\s+/g, ' ');

/** Booking figures expected from the saga history over the last `hours` (plus `extraBooked` real bookings). */
function expectedFigures(hours: number, extraBooked: number) {
  const rows = SAGA_HISTORY.filter(([ago]) => ago < hours);
  const booked = rows.filter(([, s]) => s === 'committed').length + extraBooked;
  const refused = rows.filter(([, s, , wrote]) => s === 'released' && !wrote).length;
  const rolledBack = rows.filter(([, s, , wrote]) => s === 'released' && wrote).length;
  const staff = rows.filter(([, s]) => s === 'needs-attention').length;
  return {
    booked,
    refused,
    rolledBack,
    staff,
    rate: Math.round((booked / (booked + refused + rolledBack + staff)) * 100),
  };
}

describe.each(DIALECTS)('the operator console in Chromium (%s)', (dialect) => {
  let demo: ConsoleDemo;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    demo = await startConsoleDemo({
      dialect,
      // Attention after a second of failure, and the first failed attempt dead-letters: the states in seconds.
      configure: (config) => ({
        ...config,
        // A loaded machine must not make the healthy practice look behind: lagging only after 50 missed polls.
        tenants: config.tenants.map((t) => ({ ...t, sync: { ...t.sync, laggingAfterIntervals: 50 } })),
        webhooks: {
          ...config.webhooks,
          attentionAfterSeconds: 1,
          retry: { ...config.webhooks.retry, maxAttempts: 1 },
        },
      }),
    });
    browser = await launchChromium();
    page = await (await browser.newContext()).newPage();
    await waitReady(demo.app);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it('asks for the operator token, refuses another, and signs in with a session cookie', async () => {
    const first = await page.goto(`${demo.app.url}/status`);
    expect(first?.status()).toBe(401);
    expect(await visibleText(page)).toContain('Sign in with an operator token');

    // The demo client's token is valid for FHIR but not an operator's.
    await page.fill('#token', 'demo-token');
    await page.click('button[type=submit]');
    expect(await visibleText(page)).toContain("That is not an operator's token");

    await page.fill('#token', OPERATOR_TOKEN);
    await page.click('button[type=submit]');
    await page.waitForURL(`${demo.app.url}/status`);
    const cookie = (await page.context().cookies()).find((c) => c.name === 'switchboard_operator');
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe('Strict');
    expect(await page.locator('h1').innerText()).toBe('All is well');
  }, 120_000);

  it('shows a healthy practice in plain words: nothing needs a person, records system reachable, data up to date', async () => {
    await page.goto(`${demo.app.url}/status`);
    const text = await visibleText(page);
    expect(text).toContain('Riverside Family Medicine working normally');
    expect(text).toContain('Nothing needs a person right now.');
    expect(text).toMatch(/Records system reachable/);
    expect(text).toMatch(/calls in the last minute, of 1,250 allowed/);
    for (const stream of [
      "Today's schedule and the next two weeks",
      'The rest of the booking horizon',
      'Patients',
      'Practitioners, locations, visit types and working hours',
    ]) {
      expect(text).toMatch(
        new RegExp(`${stream.replace(/'/g, "'")} up to date — last read \\d+ (s|min) ago`),
      );
    }
    // Developer words only behind a click.
    expect(await page.locator('details:not([open]) code', { hasText: 'window-hot' }).count()).toBe(1);
    expect(await page.getByText('window-hot').isVisible()).toBe(false);
  }, 120_000);

  it('shows what needs attention, the booking figures and chart, and the failing webhook with its 401', async () => {
    await addSagaHistory(demo.app);
    await addAttentionTask(demo.app);
    const subscription = await subscribeReceiver(demo.app, demo.receiver);
    const appointment = await bookFreeSlot(demo.app);
    await waitUntil(
      async () =>
        (await fhir<{ status: string }>(demo.app, `Appointment/${appointment.id}`)).body.status === 'booked',
      'the booking is committed',
      30_000,
    );
    // Failing for longer than the 1-s threshold: a state of the store, not a timed wait.
    await waitUntil(
      async () => {
        const row = await demo.app.store.db
          .selectFrom('subscriptions')
          .select('failing_since')
          .where('id', '=', subscription)
          .executeTakeFirst();
        return row?.failing_since != null && Date.now() - Date.parse(row.failing_since) > 1_500;
      },
      'the subscription has failed for over a second',
      30_000,
    );

    await page.goto(`${demo.app.url}/status`);
    const text = await visibleText(page);
    expect(await page.locator('h1').innerText()).toBe('Something needs attention');
    expect(text).toContain('Riverside Family Medicine needs attention');
    expect(text).toContain('1 booking needs a person');
    expect(text).toContain('mark its Task completed');
    expect(text).toMatch(/1 notification to http:\/\/127\.0\.0\.1:\d+\/hook could not be delivered/);
    expect(text).toMatch(/Notifications to http:\/\/127\.0\.0\.1:\d+\/hook have failed for \d+ s/);
    expect(text).toContain("check that it has the subscription's current signing secret");

    // Bookings: the figures the saga rows and the real booking give, 24 h and 7 days.
    const day = expectedFigures(24, 1);
    const week = expectedFigures(24 * 7, 1);
    expect(text).toContain(`Booking success rate: ${day.rate} % in the last 24 hours`);
    expect(text).toContain(`${week.rate} % over 7 days`);
    const row = async (label: string) =>
      (await page.locator('.bookings tr', { hasText: label }).first().innerText()).replace(/\s+/g, ' ');
    expect(await row('Booked in the records system')).toContain(`${day.booked} ${week.booked}`);
    expect(await row('Rolled back')).toContain(`${day.rolledBack} ${week.rolledBack}`);
    expect(await row('Handed to staff')).toContain(`${day.staff} ${week.staff}`);
    expect(await row('Still being confirmed')).toContain('1 1');
    const refused = await row('Refused');
    expect(refused).toContain('the time was already taken');
    expect(refused).toContain('records system unavailable');
    expect(refused).toContain('outside working hours');
    // Charts: 24 hourly and 7 daily bars; a bar's title says what it holds.
    expect(await page.locator('svg.chart').count()).toBe(2);
    const tips = await page.locator('svg.chart g > title').allTextContents();
    expect(tips).toHaveLength(24 + 7);
    const bookedPerBar = tips.slice(0, 24).map((t) => Number(/(\d+) booked/.exec(t)?.[1]));
    expect(bookedPerBar.reduce((a, b) => a + b, 0)).toBe(day.booked);

    // Webhooks: the endpoint, failing, the last failure's status code, given-up count.
    const hook = (await page.locator(`tr[data-subscription="${subscription}"]`).innerText()).replace(
      /\s+/g,
      ' ',
    );
    expect(hook).toMatch(/failing for/);
    expect(hook).toMatch(/answered 401/);
    expect(await page.locator(`tr[data-subscription="${subscription}"] td`).nth(5).innerText()).not.toBe('0');
  }, 120_000);

  it('says in words when the records system is down, with the technical detail behind a click', async () => {
    demo.sim.server.faults.set({ down: true });
    try {
      let text = '';
      await waitUntil(
        async () => {
          await page.goto(`${demo.app.url}/status`);
          text = await visibleText(page);
          return text.includes('Records system not reachable');
        },
        'the console shows the records system down',
        60_000,
      );
      expect(text).toContain('The records system is not answering');
      expect(text).toMatch(/Last problem \d+ (s|min) ago: The records system is not answering/);
      // The developer's sentence is one click away, not on the page.
      const technical = page.locator('.records details pre');
      expect(await technical.isVisible()).toBe(false);
      await page.locator('.records details summary').click();
      expect(await technical.innerText()).toMatch(/unavailable/);
    } finally {
      demo.sim.server.faults.clear();
    }
  }, 120_000);
});
