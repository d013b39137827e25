// The transcript view in Debian's Chromium against a real `serve`: a command's conversation, folded tools, the result, and no HTML injection.
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { haveChromium, useBrowser } from '../support/browser.js';
import { makeProject } from '../support/scenario.js';
import { startServe, type ServeProcess } from '../support/serve-process.js';
import { waitFor } from '../support/wait.js';

const { browser: chromiumBrowser, serves, roots } = useBrowser();

/** A finished one-story batch (code-review, batch-commit) on a real serve, and the dashboard on its Activity tab. */
async function finishedBatch(): Promise<{ serve: ServeProcess; page: Page }> {
  const root = makeProject({ developmentStatus: '  epic-1: in-progress\n  1-1-alpha: review\n' });
  roots.push(root);
  const serve = await startServe(root, path.join(root, 'runner.db'), { SPRINT_SIM_PACE_MS: '0' });
  serves.push(serve);
  await serve.api('/api/batch/start', { method: 'POST', body: { cycles: 1 } });
  await waitFor(async () => (await serve.api<{ status: string }>('/api/state')).body.status === 'completed' || null, 'the batch', 30_000);
  const page = await (await chromiumBrowser().newContext({ viewport: { width: 1400, height: 900 } })).newPage();
  page.on('pageerror', (error) => console.error('page error:', error));
  await page.goto(serve.dashboardUrl);
  await page.locator('[data-tab="activity"]').click();
  await expect.poll(() => page.getByTestId('open-transcript').count(), { timeout: 15_000 }).toBeGreaterThan(0);
  return { serve, page };
}

describe.skipIf(!haveChromium)('transcript view in Chromium', () => {
  it("shows a command's conversation: text, folded tool calls with their results, the result line, the resume command and the download", async () => {
    const { serve, page } = await finishedBatch();
    const review = page.locator('.activity-command', { hasText: 'code-review-1' }).first();
    await review.getByTestId('open-transcript').click();
    const dialog = page.getByTestId('transcript');
    await expect.poll(() => dialog.getByTestId('transcript-tool').count(), { timeout: 10_000 }).toBeGreaterThan(3);

    // the agent's words, as paragraphs
    expect(await dialog.getByTestId('transcript-text').count()).toBeGreaterThan(0);
    // tool calls are folded, with the Bash command in the summary and the result inside
    const firstTool = dialog.getByTestId('transcript-tool').first();
    expect(await firstTool.evaluate((el) => (el as HTMLDetailsElement).open)).toBe(false);
    expect(await firstTool.locator('summary').textContent()).toMatch(/^\$ _bmad\/scripts\/orchestrator\.sh 1 1-1 code-review-1 setup start/);
    expect(await firstTool.locator('.transcript-tool-result').textContent()).toContain('logged 1-1 code-review-1 setup start');
    expect(await dialog.getByTestId('transcript-result').textContent()).toMatch(/result: success · \d+ turns/);

    const commands = (await serve.api<{ id: number; runId: string; sessionId: string }[]>('/api/commands')).body;
    const row = commands.find((c) => c.runId === 'c1/code-review-1/1-1')!;
    expect(await dialog.getByTestId('transcript-resume').textContent()).toBe(`claude --resume ${row.sessionId}`);
    expect(await dialog.getByTestId('transcript-download').getAttribute('href')).toBe(`/api/commands/${row.id}/transcript.jsonl`);
    // the raw download holds the stream-json as printed
    const raw = await (await fetch(`${serve.url}/api/commands/${row.id}/transcript.jsonl`, { headers: { authorization: `Bearer ${serve.token}` } })).text();
    const lines = raw.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(lines[0]).toMatchObject({ type: 'system' });
    expect(lines.at(-1)).toMatchObject({ type: 'result' });
    await dialog.getByTestId('transcript-close').click();
    // a dialog's close event is a queued task: the dialog leaves the page just after the click returns
    await expect.poll(() => page.getByTestId('transcript').count()).toBe(0);
  });

  it('renders hostile text as text: no element, attribute or script from a transcript reaches the page; errors and the cut are shown', async () => {
    const { page } = await finishedBatch();
    const hostile = '<img src=x onerror="window.__pwned=1"> **bold** `<script>window.__pwned=2</script>`\n\n- item <b>one</b>\n\n```\n<iframe src="javascript:alert(1)"></iframe>\n```';
    // the edge we cannot make the simulated CLI say: a transcript with markup in every field the view shows
    await page.route(/\/api\/commands\/\d+\/transcript$/, (route) =>
      route.fulfill({
        contentType: 'application/json',
        body: JSON.stringify({
          commandId: 1, command: 'dev-story', attempt: 2, sessionId: 's-1', continuedFrom: 's-0', resumeCommand: 'claude --resume s-1', lines: 9000, bytes: 4_000_000,
          cut: { lines: 8000, bytes: 3_000_000 },
          head: [
            { type: 'assistant', message: { content: [{ type: 'text', text: hostile }, { type: 'tool_use', id: 't1', name: 'Edit', input: { file_path: '<svg onload=alert(1)>.ts', old_string: 'a <b>', new_string: 'b <i>' } }] } },
            { type: 'user', message: { content: [{ type: 'tool_result', tool_use_id: 't1', is_error: true, content: '<img src=y onerror="window.__pwned=3">failed' }] } },
          ],
          tail: [{ type: 'sprint-runner/unreadable', line: '<b>not json' }, { type: 'result', subtype: 'error_during_execution', is_error: true, errors: ['<i>boom</i>'], num_turns: 3 }],
        }),
      }),
    );
    await page.getByTestId('open-transcript').first().click();
    const dialog = page.getByTestId('transcript');
    await dialog.getByTestId('transcript-result').waitFor();
    expect(await dialog.locator('img, script, iframe, svg, b, i').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    const text = dialog.getByTestId('transcript-text').first();
    expect(await text.locator('strong').textContent()).toBe('bold');
    expect(await text.locator('code').first().textContent()).toBe('<script>window.__pwned=2</script>');
    expect(await text.locator('li').textContent()).toBe('item <b>one</b>');
    expect(await text.locator('pre').textContent()).toBe('<iframe src="javascript:alert(1)"></iframe>');
    const edit = dialog.getByTestId('transcript-tool').first();
    expect(await edit.getAttribute('data-error')).toBe('true');
    expect(await edit.locator('.del').textContent()).toBe('- a <b>\n');
    expect(await edit.locator('.add').textContent()).toBe('+ b <i>\n');
    expect(await dialog.getByTestId('transcript-cut').textContent()).toContain('8,000 lines');
    expect(await dialog.getByTestId('transcript-result').getAttribute('data-error')).toBe('true');
    expect(await dialog.getByTestId('transcript-result').textContent()).toContain('<i>boom</i>');
  });
});
