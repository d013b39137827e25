// Debian's Chromium for the browser tests (never a downloaded one), and the serves and project copies a test leaves to clean up.
import { existsSync, rmSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { ServeProcess } from './serve-process.js';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);
// In CI a missing browser is a failure, never a skip: .ci/run installs Debian's chromium.
if (process.env['CI'] && !haveChromium) throw new Error(`Chromium not found at ${CHROMIUM}; .ci/run must install the chromium package`);

/** Registers the hooks of a browser test file: one Chromium for the file, each test's serves and folders ended after it. */
export function useBrowser(): { browser(): Browser; serves: ServeProcess[]; roots: string[] } {
  let browser: Browser | null = null;
  const serves: ServeProcess[] = [];
  const roots: string[] = [];
  beforeAll(async () => {
    if (haveChromium) browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    for (const serve of serves.splice(0)) {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
    for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
  });
  return { browser: () => browser!, serves, roots };
}
