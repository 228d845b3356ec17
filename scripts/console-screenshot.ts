/**
 * `npm run screenshot`: writes docs/console.png, the operator console of the README (issue 15). It runs the demo
 * in-process on a temporary store, gives it a week of booking history, a booking needing a person and a webhook
 * receiver that refuses notifications with 401, then photographs /status in headless Chromium.
 */
import { mkdir } from 'node:fs/promises';
import {
  addAttentionTask,
  addSagaHistory,
  bookFreeSlot,
  OPERATOR_TOKEN,
  startConsoleDemo,
  subscribeReceiver,
  waitReady,
} from '../test/operator/support/console-demo.js';
import { launchChromium } from '../test/support/chromium.js';
import { waitUntil } from '../test/support/webhook-receiver.js';

const OUT = 'docs/console.png';

const demo = await startConsoleDemo({
  configure: (config) => ({ ...config, webhooks: { ...config.webhooks, attentionAfterSeconds: 1 } }),
});
const browser = await launchChromium();
try {
  await waitReady(demo.app);
  await addSagaHistory(demo.app);
  await addAttentionTask(demo.app);
  await subscribeReceiver(demo.app, demo.receiver);
  await bookFreeSlot(demo.app);
  await waitUntil(() => demo.receiver.received.length > 1, 'the receiver refused a notification', 30_000);
  await new Promise((resolve) => setTimeout(resolve, 1_500)); // past the 1-s attention threshold
  const context = await browser.newContext({
    viewport: { width: 1100, height: 900 },
    extraHTTPHeaders: { authorization: `Bearer ${OPERATOR_TOKEN}` },
  });
  const page = await context.newPage();
  await page.goto(`${demo.app.url}/status`);
  // Only the first tenant (the proprietary simulator's), so the picture stays readable.
  await page.evaluate(
    "for (const s of Array.from(document.querySelectorAll('section.tenant')).slice(1)) s.remove()",
  );
  await mkdir('docs', { recursive: true });
  await page.screenshot({ path: OUT, fullPage: true });
  process.stdout.write(`wrote ${OUT}\n`);
} finally {
  await browser.close();
  await demo.stop();
}
