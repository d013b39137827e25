// Scenario tests (real simulated-CLI children): Step 5 errors up to blocked, Step 0 project context, timing of parallel work.
import { afterEach, describe, expect, it } from 'vitest';
import { mainFlow, runBatch, type BatchRun, type ScenarioRun } from '../support/scenario.js';

let run: BatchRun | null = null;
afterEach(async () => {
  await run?.cleanup();
  run = null;
});

const errorMessages = (r: ScenarioRun) => r.events.filter((e) => e.type === 'error').map((e) => (e.type === 'error' ? e.payload.message : ''));

describe('Step 5: errors', () => {
  it.each(['no-result', 'is-error', 'error-subtype', 'crash', 'garbage-only'])(
    'a %s run fails the command three times, then the story is blocked',
    async (mode) => {
      run = await runBatch(
        { developmentStatus: '  epic-1: in-progress\n  1-1-alpha: in-progress\n', scenario: { stories: { '1-1': { run: { 'dev-story': [mode] } } } } },
        1,
      );
      expect(mainFlow(run)).toEqual(['dev-story 1-1', 'dev-story 1-1', 'dev-story 1-1']);
      expect(errorMessages(run)).toHaveLength(3);
      expect(run.statusOf('1-1-alpha')).toBe('blocked');
      expect(run.events.filter((e) => e.type === 'story:status').map((e) => e.payload)).toEqual([
        expect.objectContaining({ status: 'blocked', reason: '3 consecutive errors' }),
      ]);
      // failed cycles are not counted: the sprint ends because nothing eligible is left
      expect(run.output).toMatchObject({ type: 'ok', message: 'Sprint complete: 0 done, 1 blocked', cyclesCompleted: 0 });
    },
  );

  it('a success resets the count: fail, succeed, fail, fail does not block', async () => {
    run = await runBatch(
      {
        developmentStatus: '  epic-1: in-progress\n  1-1-alpha: in-progress\n',
        scenario: { stories: { '1-1': { run: { 'dev-story': ['no-result', 'ok'], 'code-review': ['is-error', 'is-error', 'ok'] }, codeReview: ['zero'] } } },
      },
      1,
    );
    expect(mainFlow(run)).toEqual(['dev-story 1-1', 'dev-story 1-1', 'code-review-1 1-1', 'code-review-1 1-1', 'code-review-1 1-1', 'batch-commit 1-1']);
    expect(run.statusOf('1-1-alpha')).toBe('done');
  });

  it('a failed code-review-N runs again as the same N in the next cycle', async () => {
    run = await runBatch(
      {
        developmentStatus: '  epic-1: in-progress\n  1-1-alpha: review\n',
        scenario: { stories: { '1-1': { run: { 'code-review': ['ok', 'no-result', 'ok'] }, codeReview: [{ high: 1, issues: ['HIGH Missing null check in src/a.ts:1'] }, 'zero'] } } },
      },
      1,
    );
    expect(mainFlow(run)).toEqual(['code-review-1 1-1', 'code-review-2 1-1 [haiku]', 'code-review-2 1-1 [haiku]', 'batch-commit 1-1']);
  });

  it('a failure of a two-story command counts once for each story', async () => {
    run = await runBatch(
      { developmentStatus: '  epic-1: backlog\n  1-1-alpha: backlog\n  1-2-beta: backlog\n', scenario: { stories: { '1-1': { run: { 'create-story': ['no-result'] } } } } },
      1,
    );
    expect(mainFlow(run).filter((c) => c.startsWith('create-story'))).toEqual(Array(3).fill('create-story 1-1,1-2'));
    expect(run.statusOf('1-1-alpha')).toBe('blocked');
    expect(run.statusOf('1-2-beta')).toBe('blocked');
  });

  it('a missing claude binary ends the batch with an error before any spawn, naming how to install it', async () => {
    run = await runBatch({}, 1, { claudeBin: '/nonexistent/claude' });
    expect(run.output).toMatchObject({ type: 'error', error: expect.stringContaining('npm install -g @anthropic-ai/claude-code') });
    expect(run.commands()).toEqual([]);
    expect(run.trace()).toEqual([]);
  });

  it('a failed batch commit is an error event; the cycle stays counted', async () => {
    run = await runBatch({ developmentStatus: '  epic-1: in-progress\n  1-1-alpha: review\n', scenario: { commands: { 'batch-commit': ['is-error'] } } }, 1);
    expect(errorMessages(run)).toEqual([expect.stringContaining('batch-commit failed')]);
    expect(run.output).toMatchObject({ type: 'ok', message: 'Batch complete', cyclesCompleted: 1 });
  });

  it('a background chain failure is recorded and changes nothing in the main flow', async () => {
    run = await runBatch(
      {
        developmentStatus: '  epic-1: backlog\n  1-1-alpha: backlog\n',
        scenario: { stories: { '1-1': { storyReview: [1] } }, commands: { 'background-review-chain': ['no-result'] } },
      },
      1,
    );
    expect(mainFlow(run)).toEqual(['create-story 1-1', 'story-discovery 1-1', 'story-review-1 1-1', 'dev-story 1-1', 'code-review-1 1-1', 'batch-commit 1-1']);
    expect(errorMessages(run)).toEqual([expect.stringContaining('background background-review-chain failed')]);
    expect(run.output).toMatchObject({ type: 'ok', cyclesCompleted: 1 });
  });
});

describe('Step 0: project context', () => {
  it('a missing context is generated first and awaited', async () => {
    run = await runBatch({ developmentStatus: '  epic-1: in-progress\n  1-1-alpha: review\n', projectContext: 'missing' }, 1);
    expect(run.commands()[0]).toEqual({ command: 'project-context', stories: '', reviewAttempt: null, attempt: 1, model: null, background: false });
    const trace = run.trace();
    const contextEnd = trace.find((t) => t.ev === 'end' && t.command === 'project-context')!.t;
    const reviewStart = trace.find((t) => t.ev === 'start' && t.command === 'code-review')!.t;
    expect(reviewStart).toBeGreaterThanOrEqual(contextEnd);
  });

  it('a context older than 24 h is refreshed in the background while the main flow goes on', async () => {
    run = await runBatch(
      { developmentStatus: '  epic-1: in-progress\n  1-1-alpha: review\n', projectContext: 'stale', scenario: { commands: { 'project-context': ['slow:1500'] } } },
      1,
    );
    expect(run.commands((c) => c.background)).toEqual([
      { command: 'project-context', stories: '', reviewAttempt: null, attempt: 1, model: null, background: true },
    ]);
    const trace = run.trace();
    const contextEnd = trace.find((t) => t.ev === 'end' && t.command === 'project-context')!.t;
    const reviewStart = trace.find((t) => t.ev === 'start' && t.command === 'code-review')!.t;
    expect(reviewStart).toBeLessThan(contextEnd);
    // and the batch waits for its background task before it ends
    const batchEnd = run.events.find((e) => e.type === 'batch:end')!.ts;
    expect(batchEnd).toBeGreaterThanOrEqual(contextEnd);
  });

  it('a fresh context is left alone', async () => {
    run = await runBatch({ developmentStatus: '  epic-1: in-progress\n  1-1-alpha: review\n' }, 1);
    expect(run.commands((c) => c.command === 'project-context')).toEqual([]);
  });
});

describe('timing', () => {
  it('create-story and story-discovery overlap in time', async () => {
    run = await runBatch(
      { developmentStatus: '  epic-1: backlog\n  1-1-alpha: backlog\n', scenario: { commands: { 'create-story': ['slow:400'], 'story-discovery': ['slow:400'] } } },
      1,
    );
    const trace = run.trace();
    const span = (command: string) => [trace.find((t) => t.ev === 'start' && t.command === command)!.t, trace.find((t) => t.ev === 'end' && t.command === command)!.t] as const;
    const [createStart, createEnd] = span('create-story');
    const [discoveryStart, discoveryEnd] = span('story-discovery');
    expect(createStart).toBeLessThan(discoveryEnd);
    expect(discoveryStart).toBeLessThan(createEnd);
  });

  it('a background chain never delays the main flow', async () => {
    run = await runBatch(
      {
        developmentStatus: '  epic-1: backlog\n  1-1-alpha: backlog\n',
        scenario: { stories: { '1-1': { storyReview: [1] } }, commands: { 'background-review-chain': ['slow:3000'] } },
      },
      1,
    );
    const trace = run.trace();
    const chainEnd = trace.find((t) => t.ev === 'end' && t.command === 'background-review-chain')!.t;
    const mainEnds = trace.filter((t) => t.ev === 'end' && ['dev-story', 'code-review', 'batch-commit'].includes(t.command ?? ''));
    expect(mainEnds).toHaveLength(3);
    for (const end of mainEnds) expect(end.t).toBeLessThan(chainEnd);
  });
});
