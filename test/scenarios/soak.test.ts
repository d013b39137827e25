// A night in compressed time: `all` over a 20-story sprint (10+ cycles) with hangs, garbage, errors and a usage limit injected.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive } from '../../machines/claude/process-tree.js';
import { mainFlow, runBatch, SPRINT_STATUS_REL, type BatchRun } from '../support/scenario.js';

let run: BatchRun | null = null;
afterEach(async () => {
  await run?.cleanup();
  run = null;
});

const EPICS = ['1', '2', '2a', '3'];
const STORIES = EPICS.flatMap((epic) => Array.from({ length: 5 }, (_, i) => `${epic}-${i + 1}-story-${epic}-${i + 1}`));

describe('soak', () => {
  it('10+ cycles of all with faults end with a correct sprint-status and no orphans', async () => {
    const developmentStatus = EPICS.map((epic) => [`  epic-${epic}: backlog`, ...STORIES.filter((k) => k.startsWith(`${epic}-`)).map((k) => `  ${k}: backlog  # planned`)].join('\n')).join('\n') + '\n';
    run = await runBatch(
      {
        developmentStatus,
        scenario: {
          stories: {
            '1-1': { run: { 'dev-story': ['hang', 'ok'] } },
            '1-3': { run: { 'create-story': ['garbage'], 'code-review': ['is-error', 'ok'] }, codeReview: [{ high: 1, issues: ['HIGH Missing null check in src/a.ts:1'] }, 'zero'] },
            '2-2': { storyReview: [1], techSpec: 'REQUIRED' },
            '2a-1': { run: { 'dev-story': ['rate-limit:1', 'ok'] } },
            '2a-4': { run: { 'story-review': ['crash', 'ok'] } },
            '3-5': { run: { 'dev-story': ['no-result'] } }, // fails every time: blocked after 3
          },
          commands: { 'background-review-chain': ['garbage'] },
        },
      },
      'all',
      { idleTimeoutMs: 1500, usageLimitMarginMs: 200, resultGraceMs: 1000 },
    );
    expect(run.output).toMatchObject({ type: 'ok', message: 'Sprint complete: 19 done, 1 blocked' });
    expect(run.output.type === 'ok' && run.output.cyclesCompleted).toBeGreaterThanOrEqual(10);
    // the file: every story done but the one that always fails, every comment and byte elsewhere as it was
    const text = readFileSync(path.join(run.root, SPRINT_STATUS_REL), 'utf8');
    for (const key of STORIES) expect(text, key).toContain(`  ${key}: ${key.startsWith('3-5-') ? 'blocked' : 'done'}  # planned\n`);
    // faults happened and were handled
    const ends = run.events.flatMap((e) => (e.type === 'command:end' ? [`${e.payload.command}:${e.payload.outcome.failure ?? 'ok'}`] : []));
    expect(ends).toContain('dev-story:watchdog-idle');
    expect(ends).toContain('code-review-1:is-error');
    expect(ends).toContain('story-review-1:no-result');
    expect(run.events.some((e) => e.type === 'usage-limit')).toBe(true);
    expect(mainFlow(run).filter((c) => c === 'dev-story 3-5')).toHaveLength(3);
    // no orphans: every process any command started, and every grandchild, is gone
    for (const line of run.trace().filter((t) => t.ev === 'start' || t.ev === 'grandchild')) expect(isAlive(line.pid), `pid ${line.pid}`).toBe(false);
    expect(run.runner.livePids()).toEqual([]);
  }, 180_000);
});
