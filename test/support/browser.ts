// Debian's Chromium through playwright-core for the dashboard tests and the screenshot script: launch flags, a page on a serve, a real-world copy.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { REPO_ROOT } from './scenario.js';
import type { ServeProcess } from './serve-process.js';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);
/** `../shared/real-world/grimoire-fec9fe7`: a real BMAD project with days of legacy history (never copied into the repo) */
export const REAL_WORLD = path.resolve(REPO_ROOT, '..', 'shared', 'real-world', 'grimoire-fec9fe7');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page on the dashboard at `url`, once its WebSocket is open. `setup` runs on the context first (permissions, init scripts). */
export async function openDashboard(browser: Browser, url: string, options: { width?: number; height?: number; setup?: (context: BrowserContext) => Promise<void> } = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: options.width ?? 1400, height: options.height ?? 900 } });
  await options.setup?.(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error('page error:', error));
  await page.goto(url);
  await page.getByTestId('run-status').waitFor();
  for (let i = 0; i < 150; i++) {
    if ((await page.getByTestId('connection-state').getAttribute('data-state').catch(() => null)) === 'open') return page;
    await page.waitForTimeout(100);
  }
  throw new Error(`the dashboard at ${url} never connected`);
}

/**
 * A temporary copy of the real-world project. Serve imports `docs/sprint-runner.csv` as legacy history; the copy's
 * file gets the older log (`sprint-runner.a0bdc5a.csv`) in front, so the history spans a night with quiet hours, as
 * a project's does after a few sprints (only the copy is changed).
 */
export function copyRealWorld(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'sprint-runner-realworld-'));
  cpSync(REAL_WORLD, root, { recursive: true });
  const docs = path.join(root, 'docs');
  const older = readFileSync(path.join(docs, 'sprint-runner.a0bdc5a.csv'), 'utf8');
  const current = readFileSync(path.join(docs, 'sprint-runner.csv'), 'utf8');
  writeFileSync(path.join(docs, 'sprint-runner.csv'), `${older.endsWith('\n') ? older : `${older}\n`}${current}`);
  return root;
}

/** The serves and project folders a test made: `cleanUp` (afterEach) ends the serves and removes the folders. */
export class TestServes {
  readonly serves: ServeProcess[] = [];
  readonly roots: string[] = [];

  async cleanUp(): Promise<void> {
    for (const serve of this.serves.splice(0)) {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
    for (const root of this.roots.splice(0)) rmSync(root, { recursive: true, force: true });
  }
}

// In CI a missing browser is a failure, never a skip: .ci/run installs Debian's chromium.
if (process.env['CI'] && !haveChromium) throw new Error(`Chromium not found at ${CHROMIUM}; .ci/run must install the chromium package`);

/** Registers the hooks of a browser test file: one Chromium for the file, each test's serves and folders ended after it. */
export function useBrowser(): { browser(): Browser; serves: ServeProcess[]; roots: string[] } {
  let browser: Browser | null = null;
  const owned = new TestServes();
  beforeAll(async () => {
    if (haveChromium) browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(() => owned.cleanUp());
  return { browser: () => browser!, serves: owned.serves, roots: owned.roots };
}
