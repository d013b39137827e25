// The dashboard in Debian's Chromium (playwright-core) against a real `serve` of the demo: controls, live events, reloads, restarts.
import { existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, haveChromium, launchChromium, TestServes } from '../support/browser.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, SPRINT_STATUS_REL } from '../support/scenario.js';
import { startServe, type ServeProcess } from '../support/serve-process.js';
import { waitFor } from '../support/wait.js';

// In CI a missing browser is a failure, never a skip: .ci/run installs Debian's chromium.
if (process.env['CI'] && !haveChromium) throw new Error(`Chromium not found at ${CHROMIUM}; .ci/run must install the chromium package`);
const SCREENSHOTS = process.env['SCREENSHOT_DIR'];

let browser: Browser;
const made = new TestServes();
const { serves, roots } = made;

beforeAll(async () => {
  if (haveChromium) browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(() => made.cleanUp());

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function demo(scenario: Record<string, unknown> = {}, port?: number, root = makeProject({ scenario })) {
  if (!roots.includes(root)) roots.push(root);
  const serve = await startServe(root, path.join(root, 'runner.db'), { SPRINT_SIM_PACE_MS: '5' }, port);
  serves.push(serve);
  return { serve, root };
}

async function open(url: string, width = 1400): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error('page error:', error));
  await page.goto(url);
  await page.getByTestId('run-status').waitFor();
  await expect.poll(() => page.getByTestId('connection-state').getAttribute('data-state').catch(() => null), { timeout: 15_000 }).toBe('open');
  return page;
}

const statusText = (page: Page) => page.getByTestId('run-status').textContent();
const shot = async (page: Page, name: string) => {
  if (SCREENSHOTS) await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
};

describe.skipIf(!haveChromium)('dashboard in Chromium', () => {
  it('Start with cycles 1 begins a batch, and live events appear', async () => {
    const { serve } = await demo({ commands: { 'code-review': ['slow:400'] } });
    const page = await open(serve.dashboardUrl);
    await page.getByTestId('run-cycles').fill('1');
    await page.getByTestId('run-start').click();
    await expect.poll(() => statusText(page), { timeout: 15_000 }).toMatch(/Running cycle 1\/1/);
    await expect.poll(() => page.getByTestId('log-row').count(), { timeout: 15_000 }).toBeGreaterThan(3);
    await expect.poll(() => page.getByTestId('event-log').textContent(), { timeout: 15_000 }).toContain('code-review-1');
    await expect.poll(() => statusText(page), { timeout: 30_000 }).toMatch(/Completed/);
    expect(await page.getByTestId('next-batch').isVisible()).toBe(true);
    await shot(page, 'run');
  });

  it('Pause, Resume and Stop work, and resume after stop completes', async () => {
    const { serve } = await demo({ commands: { 'dev-story': ['slow:1500'], 'code-review': ['slow:800'] } });
    const page = await open(serve.dashboardUrl);
    await page.getByTestId('run-cycles').fill('2');
    await page.getByTestId('run-start').click();
    await expect.poll(() => statusText(page), { timeout: 15_000 }).toMatch(/Running/);
    expect(await page.getByTestId('run-start').isDisabled()).toBe(true);

    await page.getByTestId('run-pause').click();
    await expect.poll(() => statusText(page)).toMatch(/Paused/);
    expect(await page.getByTestId('run-pause').isDisabled()).toBe(true);
    expect(await page.getByTestId('run-resume').isEnabled()).toBe(true);
    await page.getByTestId('run-resume').click();
    await expect.poll(() => statusText(page)).toMatch(/Running/);

    await page.getByTestId('run-stop').click();
    await expect.poll(() => statusText(page), { timeout: 15_000 }).toMatch(/^Stopped after .*Resume goes on/);
    expect(await page.getByTestId('run-stop').isDisabled()).toBe(true);
    // a stopped batch is resumed, or explicitly discarded: Start becomes "Discard and start new"
    expect(await page.getByTestId('run-start').textContent()).toBe('Discard and start new');
    expect((await serve.api<{ status: string }>('/api/state')).body.status).toBe('stopped');

    await page.getByTestId('run-resume').click();
    await expect.poll(() => statusText(page), { timeout: 60_000 }).toMatch(/Completed in .*: Batch complete/);
    const state = (await serve.api<{ batch: { cyclesCompleted: number } }>('/api/state')).body;
    expect(state.batch.cyclesCompleted).toBe(2);
  });

  it('after a restart, a stopped batch offers Resume or Discard and start new, and discarding records it abandoned', async () => {
    const port = await freePort();
    const first = await demo({ commands: { 'code-review': ['slow:1500'] } }, port);
    await first.serve.api('/api/batch/start', { method: 'POST', body: { cycles: 1 } });
    await waitFor(async () => ((await first.serve.api<{ status: string }>('/api/state')).body.status === 'running' ? true : null), 'the batch to run');
    await first.serve.api('/api/batch/stop', { method: 'POST' });
    first.serve.child.kill('SIGTERM');
    await first.serve.exited;
    serves.splice(serves.indexOf(first.serve), 1);

    const second = await demo({}, port, first.root);
    const page = await open(second.serve.dashboardUrl);
    await expect.poll(() => statusText(page), { timeout: 15_000 }).toMatch(/^Stopped after .*: Resume goes on from the exact step/);
    expect(await page.getByTestId('run-start').textContent()).toBe('Discard and start new');
    expect(await page.getByTestId('run-resume').isEnabled()).toBe(true);
    await page.getByTestId('run-cycles').fill('1');
    // discarding cannot be undone: the page asks first
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByTestId('run-start').click();
    await expect.poll(() => statusText(page), { timeout: 60_000 }).toMatch(/Completed/);
    expect(await page.getByTestId('run-error').textContent()).toBe('');
    const batches = (await second.serve.api<{ id: number; status: string }[]>('/api/batches')).body;
    expect(batches.map((b) => [b.id, b.status]).sort()).toEqual([
      [1, 'abandoned'],
      [2, 'completed'],
    ]);
  });

  it('a reload keeps the tab, the filters and the cycles input', async () => {
    const { serve } = await demo();
    const page = await open(serve.dashboardUrl);
    await page.getByTestId('run-cycles').fill('all');
    await page.getByTestId('log-filter-text').fill('review');
    await page.locator('[data-tab="stories"]').click();
    await page.getByTestId('stories-filter-status').selectOption('backlog');
    await page.reload();
    await page.getByTestId('run-status').waitFor({ state: 'attached' });
    expect(await page.locator('[data-tab="stories"]').getAttribute('aria-selected')).toBe('true');
    expect(await page.getByTestId('stories-filter-status').inputValue()).toBe('backlog');
    expect(await page.getByTestId('run-cycles').inputValue()).toBe('all');
    expect(await page.getByTestId('log-filter-text').inputValue()).toBe('review');
  });

  it('the same DOM node for a story row survives 50 updates', async () => {
    const { serve } = await demo();
    const page = await open(serve.dashboardUrl);
    await page.locator('[data-tab="stories"]').click();
    const row = page.locator('[data-testid="story-row"][data-key="2a-3-search-api"]');
    await row.waitFor();
    await row.evaluate((el) => ((el as HTMLElement & { marker?: string }).marker = 'original'));
    // 50 updates through the store's own topic, as pushed events cause them
    await page.evaluate(async () => {
      const { store } = (window as unknown as { sprintRunner: { store: { sprint: { stories: { key: string; status: string | null; rawStatus: string }[] }; emit: (t: string, v: unknown) => void } } }).sprintRunner;
      const statuses = ['backlog', 'ready-for-dev', 'in-progress', 'review', 'done'];
      for (let i = 0; i < 50; i++) {
        const sprint = structuredClone(store.sprint);
        const story = sprint.stories.find((s) => s.key === '2a-3-search-api')!;
        story.status = story.rawStatus = statuses[i % statuses.length]!;
        store.sprint = sprint;
        store.emit('sprint', sprint);
        await new Promise((resolve) => requestAnimationFrame(resolve));
      }
    });
    expect(await row.evaluate((el) => (el as HTMLElement & { marker?: string }).marker)).toBe('original');
    // the 50th update (index 49) set `done`
    expect(await row.textContent()).toContain('done');
  });

  it('a log row keeps its DOM node as newer events arrive, and a reader scrolled down stays on what they read', async () => {
    const { serve } = await demo();
    const page = await open(serve.dashboardUrl);
    type Win = { sprintRunner: { store: { lastEventId: number; apply: (e: unknown) => void } } };
    // events through the store's own entry point, as the WebSocket delivers them
    const push = (count: number) =>
      page.evaluate(async (n) => {
        const { store } = (window as unknown as Win).sprintRunner;
        for (let i = 0; i < n; i++) {
          const id = store.lastEventId + 1;
          store.apply({ id, type: 'warning', ts: Date.now(), payload: { message: `pushed ${id}` } });
        }
        await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      }, count);
    await push(60);
    const rowOf = (id: number) => page.locator(`[data-testid="log-row"][data-id="${id}"]`);
    const lastId = await page.evaluate(() => (window as unknown as Win).sprintRunner.store.lastEventId);
    const watched = rowOf(lastId - 2);
    await watched.evaluate((el) => ((el as HTMLElement & { marker?: string }).marker = 'original'));
    const topBefore = await watched.evaluate((el) => el.getBoundingClientRect().top);
    await push(1);
    // the row moved down one line with its text and its node
    expect(await watched.evaluate((el) => (el as HTMLElement & { marker?: string }).marker)).toBe('original');
    expect(await watched.textContent()).toContain(`pushed ${lastId - 2}`);
    expect(await watched.evaluate((el) => el.getBoundingClientRect().top)).toBeCloseTo(topBefore + 22, 0);
    // scrolled down, new events arrive above: the row the reader looks at stays where it is on screen
    const log = page.getByTestId('event-log');
    await log.evaluate((el) => (el.scrollTop = 220));
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    const read = rowOf(lastId - 20);
    const readTop = await read.evaluate((el) => el.getBoundingClientRect().top);
    await push(5);
    expect(await read.evaluate((el) => el.getBoundingClientRect().top)).toBeCloseTo(readTop, 0);
    expect(await read.textContent()).toContain(`pushed ${lastId - 20}`);
    // the DOM stays bounded: rows exist only for what is in view
    expect(await page.getByTestId('log-row').count()).toBeLessThan(60);
  });

  it('at 1920 px the content spans the viewport', async () => {
    const { serve } = await demo();
    const page = await open(serve.dashboardUrl, 1920);
    for (const tab of ['run', 'epics', 'stories', 'activity', 'timeline', 'inspector']) {
      await page.locator(`[data-tab="${tab}"]`).click();
      const width = await page.locator(`[data-view="${tab}"]`).evaluate((el) => el.getBoundingClientRect().width);
      expect(width, tab).toBeGreaterThan(1920 - 40);
    }
    const main = await page.locator('main').evaluate((el) => el.getBoundingClientRect().width);
    expect(main).toBeGreaterThanOrEqual(1920 - 20);
  });

  it('after the server restarts, the page reconnects and shows the events it missed', async () => {
    const port = await freePort();
    const first = await demo({ commands: { 'code-review': ['slow:300'] } }, port);
    const page = await open(first.serve.dashboardUrl);
    await page.getByTestId('run-cycles').fill('2');
    await page.getByTestId('run-start').click();
    await expect.poll(() => page.getByTestId('log-row').count(), { timeout: 15_000 }).toBeGreaterThan(3);
    first.serve.child.kill('SIGTERM');
    await first.serve.exited;
    serves.splice(serves.indexOf(first.serve), 1);
    await expect.poll(() => page.getByTestId('connection-state').getAttribute('data-state'), { timeout: 10_000 }).not.toBe('open');
    const seenBefore = await page.evaluate(() => (window as unknown as { sprintRunner: { store: { lastEventId: number } } }).sprintRunner.store.lastEventId);

    const second = await demo({}, port, first.root);
    // events happen while the page is still away: it must catch up on them from SQLite
    await second.serve.api('/api/batch/resume', { method: 'POST' });
    await waitFor(async () => ((await second.serve.api<{ status: string }>('/api/state')).body.status === 'completed' ? true : null), 'the resumed batch', 60_000);
    const last = (await second.serve.api<{ lastEventId: number }>('/api/state')).body.lastEventId;
    expect(last).toBeGreaterThan(seenBefore);
    await expect.poll(() => page.getByTestId('connection-state').getAttribute('data-state'), { timeout: 20_000 }).toBe('open');
    await expect
      .poll(() => page.evaluate(() => (window as unknown as { sprintRunner: { store: { lastEventId: number } } }).sprintRunner.store.lastEventId), { timeout: 20_000 })
      .toBe(last);
    const ids = await page.evaluate(() => (window as unknown as { sprintRunner: { store: { events: { id: number }[] } } }).sprintRunner.store.events.map((e) => e.id));
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => ids[0]! + i));
    await expect.poll(() => statusText(page), { timeout: 10_000 }).toMatch(/Completed/);
  });

  it('a sprint-status that cannot be read is said in Epics and Stories, and the file is left as it is', async () => {
    const { serve, root } = await demo();
    const file = path.join(root, SPRINT_STATUS_REL);
    rmSync(file);
    const page = await open(serve.dashboardUrl);
    await page.locator('[data-tab="epics"]').click();
    const problem = page.locator('.view-epics [data-testid="sprint-problem"]');
    await expect.poll(() => problem.textContent(), { timeout: 10_000 }).toContain('is missing. Run sprint planning first');
    expect(await problem.isVisible()).toBe(true);
    expect(await page.locator('[data-testid="card-stories"]').textContent()).toContain('sprint-status unreadable');
    await page.locator('[data-tab="stories"]').click();
    expect(await page.locator('.view-stories [data-testid="sprint-problem"]').textContent()).toContain('is missing');
    expect(existsSync(file)).toBe(false);
  });

  it('every view renders the demo data', async () => {
    const { serve } = await demo();
    await serve.api('/api/batch/start', { method: 'POST', body: { cycles: 2 } });
    await waitFor(async () => ((await serve.api<{ status: string }>('/api/state')).body.status === 'completed' ? true : null), 'the batch', 60_000);
    const page = await open(serve.dashboardUrl, 1600);
    expect(await page.getByTestId('card-stories').textContent()).toMatch(/\d+\/9/);
    await page.locator('[data-tab="epics"]').click();
    await expect.poll(() => page.getByTestId('epic-card').count()).toBe(3);
    await page.locator('[data-tab="stories"]').click();
    await expect.poll(() => page.getByTestId('story-row').count()).toBe(9);
    expect(await page.locator('[data-testid="story-row"][data-key="1-3-session-scanner"]').textContent()).toContain('done');
    await page.locator('[data-tab="activity"]').click();
    await expect.poll(() => page.getByTestId('activity-story').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-view="activity"]').textContent()).toContain('code-review-1');
    await page.locator('[data-tab="timeline"]').click();
    await expect.poll(() => page.getByTestId('timeline-bar').count()).toBeGreaterThan(5);
    await page.locator('[data-tab="inspector"]').click();
    await expect.poll(() => page.locator('[data-view="inspector"] svg').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    if (SCREENSHOTS) {
      for (const tab of ['run', 'epics', 'stories', 'activity', 'timeline', 'inspector']) {
        await page.locator(`[data-tab="${tab}"]`).click();
        await page.waitForTimeout(300);
        await shot(page, `tab-${tab}`);
      }
    }
  });
});
