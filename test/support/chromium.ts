/**
 * Headless Chromium (Debian's, through playwright-core) with the flags the operator console's browser test and
 * `npm run screenshot` both need: no sandbox (containers), no GPU, and none of the browser's own network traffic.
 */
import { chromium, type Browser } from 'playwright-core';

/** Launches the Chromium at `CHROMIUM_PATH` (default `/usr/bin/chromium`). The caller closes it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
