// The operator's dashboard in Chromium: after a batch on the demo and on a real project with days of legacy history,
// what ran, what failed and why, how long and what it cost read true at a glance.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { copyRealWorld, haveChromium, launchChromium, openDashboard, REAL_WORLD, TestServes } from '../support/browser.js';
import { makeProject } from '../support/scenario.js';
import { startServe, type ServeProcess } from '../support/serve-process.js';

if (process.env['CI'] && !haveChromium) throw new Error('Chromium not found; .ci/run must install the chromium package');
const SCREENSHOTS = process.env['SCREENSHOT_DIR'];

let browser: Browser;
const made = new TestServes();
beforeAll(async () => {
  if (haveChromium) browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(() => made.cleanUp());

async function serveProject(root: string, pace = '5'): Promise<ServeProcess> {
  made.roots.push(root);
  const serve = await startServe(root, path.join(root, 'runner.db'), { SPRINT_SIM_PACE_MS: pace });
  made.serves.push(serve);
  return serve;
}

const shot = async (page: Page, name: string) => {
  if (SCREENSHOTS) await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: false });
};
const text = (page: Page, testid: string) => page.getByTestId(testid).first().textContent();
const tab = (page: Page, id: string) => page.locator(`[data-tab="${id}"]`).click();

async function runBatch(page: Page, cycles: string): Promise<void> {
  await page.getByTestId('run-cycles').fill(cycles);
  await page.getByTestId('run-start').click();
  await expect.poll(() => text(page, 'run-status'), { timeout: 90_000 }).toMatch(/^Completed in /);
}

/** The right edge of the rightmost timeline bar and the scroller's visible right edge, in page pixels. */
async function timelineFit(page: Page): Promise<{ barsRight: number; viewRight: number; bars: number }> {
  return page.evaluate(() => {
    const scroller = document.querySelector<HTMLElement>('[data-testid="timeline"]')!;
    const bars = [...document.querySelectorAll<HTMLElement>('[data-testid="timeline-bar"]')];
    return { barsRight: Math.max(...bars.map((b) => b.getBoundingClientRect().right)), viewRight: scroller.getBoundingClientRect().right, bars: bars.length };
  });
}

describe.skipIf(!haveChromium)('the operator dashboard in Chromium', () => {
  it('after a demo batch: its history row, the Batch card, tab counts, title, favicon, last update, collapsed activity, a timeline that fits', async () => {
    const serve = await serveProject(makeProject({ scenario: { commands: { 'code-review': ['slow:300'] } } }));
    const page = await openDashboard(browser, serve.dashboardUrl);
    await runBatch(page, '1');

    // the Batch card and the status line use the same words for cycles, and say how long it took
    await expect.poll(() => text(page, 'card-batch')).toMatch(/completed · 1 of 1 cycle completed · \d+s · \$[\d.]+ this batch/);
    expect(await text(page, 'run-status')).toMatch(/^Completed in \d+s: /);
    await expect.poll(() => text(page, 'last-update'), { timeout: 5000 }).toMatch(/^last update \d+s ago$/);

    // Start is the primary action again, nothing runs now
    expect(await page.getByTestId('run-start').getAttribute('class')).toContain('primary');
    expect(await page.getByTestId('now-command').count()).toBe(0);

    // counts on tabs; the title and favicon show the state
    await expect.poll(() => text(page, 'tab-count-batches')).toBe('1');
    expect(await text(page, 'tab-count-stories')).toMatch(/^\d+\/9$/);
    await expect.poll(() => page.title()).toMatch(/^completed · sprint-runner$/);
    expect(await page.locator('link[rel="icon"]').getAttribute('href')).toContain('3fb950');

    // the history: one row with duration, cycles, cost, outcome and stories, openable to its commands
    await tab(page, 'batches');
    const row = page.getByTestId('batch-row').first();
    await expect.poll(() => row.textContent()).toMatch(/#1.*\d+s1\/1\$[\d.]+completed\d+0$/);
    await row.click();
    await expect.poll(() => page.getByTestId('batch-detail').textContent()).toContain('code-review-1');
    await shot(page, 'batches');

    // activity: one story open (the newest), the others collapsed with their totals and dates
    await tab(page, 'activity');
    const open = await page.locator('[data-testid="activity-story"][data-open="true"]').count();
    const all = await page.getByTestId('activity-story').count();
    expect(open).toBe(1);
    expect(all).toBeGreaterThan(1);
    expect(await text(page, 'activity-totals')).toMatch(/\d+ commands? · .* busy · \$[\d.]+.* in all batches/);
    // a code-review attempt has its verdict slot
    expect(await page.locator('[data-testid="activity-story"][data-open="true"] [data-testid="review-verdict"]').count()).toBeGreaterThan(0);
    await shot(page, 'activity');

    // timeline: Fit puts every bar in view; a legend names the command kinds; each label shows a duration
    await tab(page, 'timeline');
    await page.getByTestId('timeline-fit').click();
    const fit = await timelineFit(page);
    expect(fit.bars).toBeGreaterThan(5);
    expect(fit.barsRight).toBeLessThanOrEqual(fit.viewRight);
    expect(await page.getByTestId('timeline-legend').textContent()).toContain('code-review');
    expect(await page.locator('[data-testid="timeline-label"][data-kind="story"] .tl-label-duration').first().textContent()).toMatch(/\d+s/);
    // the first axis label carries the date
    expect(await page.getByTestId('timeline-tick').first().textContent()).toMatch(/^[A-Z][a-z]{2} \d{1,2} \d\d:\d\d/);
    // a story hidden is gone from the chart until shown again
    const stories = await page.locator('[data-testid="timeline-label"][data-kind="story"]').count();
    await page.getByTestId('timeline-hide').first().click();
    await expect.poll(() => page.locator('[data-testid="timeline-label"][data-kind="story"]').count()).toBe(stories - 1);
    await page.getByTestId('timeline-unhide').click();
    await expect.poll(() => page.locator('[data-testid="timeline-label"][data-kind="story"]').count()).toBe(stories);
    await shot(page, 'timeline');

    // 1-3 has lines in the demo's legacy CSV from weeks ago: they are never joined to today's run
    expect(await page.locator('[data-testid="timeline-label"][data-kind="story"]').allTextContents()).toContainEqual(expect.stringMatching(/^.*1-3 session scanner \(before the tool\)/));
    expect(await text(page, 'timeline-range')).not.toMatch(/\d{3,}h/);
    await tab(page, 'stories');
    const duration = await page.locator('[data-testid="story-row"][data-key="1-3-session-scanner"] [data-cell="duration"]').textContent();
    expect(duration).toMatch(/^(\d+s|\d+m \d\ds)$/);

    // the inspector lights the batch's final state, not a stale `cycling`
    await tab(page, 'inspector');
    await expect.poll(() => page.evaluate(() => [...document.querySelectorAll('.view-inspector g.active')].map((g) => g.textContent ?? '').join('|')), { timeout: 20_000 }).toMatch(/completed/);
    expect(await page.evaluate(() => [...document.querySelectorAll('.view-inspector g.active')].some((g) => /cycling/.test(g.textContent ?? '')))).toBe(false);
    // the cycle chart at Fit stays readable (its 13 px state names drawn at 8.7 px or more): it scrolls for the rest
    await page.getByTestId('inspector-machine').selectOption('cycle');
    await page.getByTestId('inspector-fit').click();
    expect(Number((await text(page, 'inspector-zoom'))?.replace('%', ''))).toBeGreaterThanOrEqual(67);
  });

  it('on a stopped batch: Resume is the primary action, Start becomes "Discard and start new", Now and the inspector show nothing running', async () => {
    const serve = await serveProject(makeProject({ scenario: { commands: { 'code-review': ['slow:20000'], 'dev-story': ['slow:20000'], 'create-story': ['slow:20000'] } } }));
    const page = await openDashboard(browser, serve.dashboardUrl);
    await page.getByTestId('run-cycles').fill('2');
    await page.getByTestId('run-start').click();
    await expect.poll(() => page.getByTestId('now-command').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    expect(await text(page, 'run-status')).toMatch(/^Running cycle 1\/2 · \d+s elapsed · 0 completed/);
    await page.getByTestId('run-stop').click();
    await expect.poll(() => text(page, 'run-status'), { timeout: 30_000 }).toMatch(/^Stopped after \d+s \(0 of 2 cycles completed\): Resume/);
    expect(await text(page, 'run-start')).toBe('Discard and start new');
    expect(await page.getByTestId('run-start').getAttribute('class')).toContain('secondary');
    expect(await page.getByTestId('run-resume').getAttribute('class')).toContain('primary');
    await expect.poll(() => page.getByTestId('now-command').count()).toBe(0);
    // the interrupted command is shown interrupted, never counting up
    await tab(page, 'activity');
    expect(await page.locator('[data-testid="activity-command"][data-status="running"]').count()).toBe(0);
    await tab(page, 'inspector');
    await page.waitForTimeout(500);
    expect(await page.locator('.view-inspector g.active').count()).toBe(0);
    await shot(page, 'stopped');
  });

  it('a failed command is in the problems panel with its reason, and its link opens the command', async () => {
    const serve = await serveProject(makeProject({ scenario: { stories: { '1-3': { run: { 'code-review': ['is-error', 'ok'] } } } } }));
    const page = await openDashboard(browser, serve.dashboardUrl);
    await runBatch(page, '1');
    const failure = page.locator('[data-testid="failure"][data-level="failed"]').first();
    await expect.poll(() => failure.textContent(), { timeout: 10_000 }).toMatch(/failed.*code-review-1 1-3/);
    expect(await text(page, 'tab-count-run')).toMatch(/^\d+ ⚠$/);
    expect(await page.title()).toMatch(/^\(\d+\) completed/);
    await shot(page, 'run');
    await failure.getByRole('button', { name: 'open command' }).click();
    await expect.poll(() => page.locator('[data-view="activity"]').isVisible()).toBe(true);
    await expect.poll(() => page.locator('[data-testid="activity-command"][data-focus="true"]').count()).toBe(1);
    expect(await page.locator('[data-testid="activity-command"][data-focus="true"]').getAttribute('data-status')).toBe('failed');
  });

  it('notifications are off by default; once turned on (permission granted) a batch end notifies', async () => {
    const serve = await serveProject(makeProject());
    const page = await openDashboard(browser, serve.dashboardUrl, {
      setup: async (context) => {
        await context.grantPermissions(['notifications'], { origin: serve.url });
        // record what the page shows through the real Notification API
        await context.addInitScript(() => {
          const Real = window.Notification;
          const shown: string[] = [];
          (window as unknown as { shownNotifications: string[] }).shownNotifications = shown;
          class Recording extends Real {
            constructor(title: string, options?: NotificationOptions) {
              super(title, options);
              shown.push(`${title}: ${options?.body ?? ''}`);
            }
          }
          Object.defineProperty(window, 'Notification', { value: Recording });
        });
      },
    });
    const toggle = page.getByTestId('notify-toggle');
    expect(await toggle.isChecked()).toBe(false);
    await toggle.check();
    await expect.poll(() => toggle.isChecked()).toBe(true);
    await runBatch(page, '1');
    await expect.poll(() => page.evaluate(() => (window as unknown as { shownNotifications: string[] }).shownNotifications)).toContainEqual(expect.stringMatching(/^Batch completed: /));
    // the choice is remembered across a reload
    await page.reload();
    await page.getByTestId('run-status').waitFor();
    expect(await page.getByTestId('notify-toggle').isChecked()).toBe(true);
  });

  it.skipIf(!existsSync(REAL_WORLD))('on a real project with days of legacy history: Fit fits, gaps are compacted with dates, nothing phantom runs, legacy is never joined to runs', async () => {
    const serve = await serveProject(copyRealWorld(), '0');
    const page = await openDashboard(browser, serve.dashboardUrl);
    await tab(page, 'timeline');
    await expect.poll(() => page.getByTestId('timeline-bar').count(), { timeout: 20_000 }).toBeGreaterThan(20);
    await page.getByTestId('timeline-fit').click();
    const fit = await timelineFit(page);
    expect(fit.barsRight).toBeLessThanOrEqual(fit.viewRight);
    expect(await page.getByTestId('timeline-gap').count()).toBeGreaterThan(0);
    // the range names its dates: history spans days
    expect(await text(page, 'timeline-range')).toMatch(/[A-Z][a-z]{2} \d{1,2} \d\d:\d\d – [A-Z][a-z]{2} \d{1,2} \d\d:\d\d/);
    expect(await page.locator('[data-testid="timeline-bar"][data-running="true"]').count()).toBe(0);
    expect(await page.getByTestId('timeline-now').isVisible()).toBe(false);
    await shot(page, 'timeline-legacy');
    await tab(page, 'activity');
    await expect.poll(() => page.getByTestId('activity-story').count()).toBeGreaterThan(3);
    expect(await page.locator('[data-testid="activity-story"][data-open="true"]').count()).toBe(1);
    expect(await page.locator('[data-status="running"]').count()).toBe(0);
    // legacy commands are counted apart: no story totals "in all batches" before any batch ran
    const totals = await page.getByTestId('activity-totals').allTextContents();
    expect(totals.every((t) => !/in all batches/.test(t))).toBe(true);
    expect(totals.some((t) => /before the tool/.test(t))).toBe(true);
    await shot(page, 'activity-legacy');
  });
});
