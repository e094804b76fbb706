/**
 * Launches Debian's Chromium for browser tests (playwright-core downloads no browser). The flags
 * keep it off the closed network: no background networking, updates, sync or QUIC.
 * Fails with a clear message when Chromium is missing — CI installs it; tests never skip.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless=new',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const LAUNCH_TIMEOUT_MS = 10_000;

export async function launchChromium(): Promise<Browser> {
  try {
    await access(CHROMIUM_PATH, constants.X_OK);
  } catch {
    throw new Error(
      `Chromium is required for this test and was not found at ${CHROMIUM_PATH}: ` +
        'install it with `apt-get install -y chromium` (CI does).',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: LAUNCH_TIMEOUT_MS });
}
