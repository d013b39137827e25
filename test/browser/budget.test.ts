// The budget and the continue switch on the Run tab, in Debian's Chromium against a real `serve`.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { haveChromium, useBrowser } from '../support/browser.js';
import { makeProject } from '../support/scenario.js';
import { startServe } from '../support/serve-process.js';

const { browser: chromiumBrowser, serves, roots } = useBrowser();

describe.skipIf(!haveChromium)('budget on the Run tab', () => {
  it('a batch started with a budget pauses at it, shows the spend beside the cap, and resumes once it is raised', async () => {
    const root = makeProject({ developmentStatus: '  epic-1: in-progress\n  1-1-alpha: in-progress\n' });
    roots.push(root);
    const serve = await startServe(root, path.join(root, 'runner.db'), { SPRINT_SIM_PACE_MS: '0' });
    serves.push(serve);
    const page = await (await chromiumBrowser().newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    await page.goto(serve.dashboardUrl);
    await page.getByTestId('run-status').waitFor();
    await expect.poll(() => page.getByTestId('run-start').isEnabled(), { timeout: 15_000 }).toBe(true);

    await page.getByTestId('run-cycles').fill('1');
    await page.getByTestId('run-budget').fill('0.5');
    await page.getByTestId('run-start').click();
    await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 30_000 }).toMatch(/^Paused: budget reached \(\$0\.\d{4} of \$0\.5000\)/);
    expect(await page.getByTestId('run-budget-line').textContent()).toMatch(/^\$0\.\d{4} of \$0\.5000$/);
    expect((await serve.api<{ budget: { budgetUsd: number } }>('/api/state')).body.budget).toMatchObject({ budgetUsd: 0.5 });

    // resume without more money is refused with the reason; raising the cap lets it finish
    await page.getByTestId('run-resume').click();
    await expect.poll(() => page.getByTestId('run-error').textContent()).toMatch(/budget reached/);
    await page.getByTestId('run-budget').fill('20');
    await page.getByTestId('run-set-budget').click();
    await expect.poll(() => page.getByTestId('run-budget-line').textContent()).toMatch(/of \$20\.00$/);
    await page.getByTestId('run-resume').click();
    await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 30_000 }).toMatch(/^Completed/);

    // the continue switch reaches the runner
    expect(await page.getByTestId('run-continue').isChecked()).toBe(true);
    await page.getByTestId('run-continue').uncheck();
    await expect.poll(async () => (await serve.api<{ continueSessions: boolean }>('/api/state')).body.continueSessions).toBe(false);
  });
});
