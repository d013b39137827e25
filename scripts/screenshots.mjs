#!/usr/bin/env node
// `npm run screenshots`: one screenshot of each dashboard view for the README, on a copy of the demo after a one-cycle
// batch (the simulated CLI), in Debian's Chromium. Writes docs/screenshots/<view>.png (or the folder given as argument).
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.resolve(process.argv[2] ?? path.join(root, 'docs', 'screenshots'));
const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const VIEWS = ['run', 'batches', 'epics', 'stories', 'activity', 'timeline', 'inspector'];

const project = mkdtempSync(path.join(tmpdir(), 'sprint-runner-shots-'));
cpSync(path.join(root, 'fixtures', 'demo-project'), project, { recursive: true });
rmSync(path.join(project, '.sprint-sim', 'state'), { recursive: true, force: true });
const serve = spawn(process.execPath, [path.join(root, 'dist', 'cli.js'), 'serve', '--project', project, '--db', path.join(project, 'runner.db'), '--port', '0', '--claude', path.join(root, 'fixtures', 'sim-claude', 'claude.mjs')], {
  env: { ...process.env, SPRINT_SIM_PACE_MS: '20', IS_SANDBOX: '1' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let output = '';
serve.stdout.on('data', (chunk) => (output += chunk));
const url = await new Promise((resolve, reject) => {
  const timer = setInterval(() => {
    const match = /dashboard: (http:\/\/\S+)/.exec(output);
    if (match) {
      clearInterval(timer);
      resolve(match[1]);
    }
  }, 100);
  serve.on('exit', () => reject(new Error(`serve exited:\n${output}`)));
});

const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  await page.goto(url);
  await page.getByTestId('run-cycles').fill('1');
  await page.getByTestId('run-start').click();
  await page.waitForFunction(() => /^Completed/.test(document.querySelector('[data-testid="run-status"]')?.textContent ?? ''), null, { timeout: 180_000 });
  mkdirSync(out, { recursive: true });
  for (const view of VIEWS) {
    await page.locator(`[data-tab="${view}"]`).click();
    if (view === 'timeline') await page.getByTestId('timeline-fit').click();
    if (view === 'batches') await page.getByTestId('batch-row').first().click();
    await page.waitForTimeout(view === 'inspector' ? 2500 : 600);
    const file = path.join(out, `${view}.png`);
    await page.screenshot({ path: file });
    console.log(file);
  }
} finally {
  await browser.close();
  serve.kill('SIGTERM');
  rmSync(project, { recursive: true, force: true });
}
