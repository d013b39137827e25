// Scenario tests (real simulated-CLI children): every entry step, pairing rules, `all` across epics, unexpected statuses.
import { afterEach, describe, expect, it } from 'vitest';
import { mainFlow, runBatch, type BatchRun, type ScenarioRun } from '../support/scenario.js';

let run: BatchRun | null = null;
afterEach(async () => {
  await run?.cleanup();
  run = null;
});

describe('entry steps', () => {
  it('backlog enters at Step 2: create-story and discovery in parallel, review-1, then dev and review per story', async () => {
    run = await runBatch({ developmentStatus: '  epic-1: backlog\n  1-1-alpha: backlog\n  1-2-beta: backlog\n' }, 1);
    expect(run.commands()).toEqual([
      { command: 'create-story', stories: '1-1,1-2', reviewAttempt: null, attempt: 1, model: null, background: false },
      { command: 'story-discovery', stories: '1-1,1-2', reviewAttempt: null, attempt: 1, model: null, background: false },
      { command: 'story-review-1', stories: '1-1,1-2', reviewAttempt: 1, attempt: 1, model: null, background: false },
      { command: 'dev-story', stories: '1-1', reviewAttempt: null, attempt: 1, model: null, background: false },
      { command: 'code-review-1', stories: '1-1', reviewAttempt: 1, attempt: 1, model: null, background: false },
      { command: 'dev-story', stories: '1-2', reviewAttempt: null, attempt: 1, model: null, background: false },
      { command: 'code-review-1', stories: '1-2', reviewAttempt: 1, attempt: 1, model: null, background: false },
      { command: 'batch-commit', stories: '1-1,1-2', reviewAttempt: null, attempt: 1, model: null, background: false },
    ]);
    expect(run.statusOf('1-1-alpha')).toBe('done');
    expect(run.statusOf('1-2-beta')).toBe('done');
    expect(run.output).toMatchObject({ type: 'ok', message: 'Batch complete', cyclesCompleted: 1 });
  });

  it('ready-for-dev enters at Step 3: tech spec and its review, then Step 4', async () => {
    run = await runBatch({ developmentStatus: '  epic-1: in-progress\n  1-1-alpha: ready-for-dev\n  1-2-beta: backlog\n' }, 1);
    expect(mainFlow(run)).toEqual([
      'create-tech-spec 1-1',
      'tech-spec-review-1 1-1',
      'dev-story 1-1',
      'code-review-1 1-1',
      'batch-commit 1-1',
    ]);
  });

  it('in-progress enters at Step 4 with dev-story', async () => {
    run = await runBatch({ developmentStatus: '  epic-1: in-progress\n  1-1-alpha: in-progress\n' }, 1);
    expect(mainFlow(run)).toEqual(['dev-story 1-1', 'code-review-1 1-1', 'batch-commit 1-1']);
  });

  it('review enters at Step 4 and skips dev-story', async () => {
    run = await runBatch({ developmentStatus: '  epic-1: in-progress\n  1-1-alpha: review\n' }, 1);
    expect(mainFlow(run)).toEqual(['code-review-1 1-1', 'batch-commit 1-1']);
  });

  it('accepts the legacy alias drafted as ready-for-dev', async () => {
    run = await runBatch({ developmentStatus: '  epic-1: contexted\n  1-1-alpha: drafted\n' }, 1);
    expect(mainFlow(run)[0]).toBe('create-tech-spec 1-1');
  });
});

describe('pairing', () => {
  it('pairs the next eligible story of the same epic, passing over done ones', async () => {
    run = await runBatch({ developmentStatus: '  epic-1: in-progress\n  1-1-alpha: review\n  1-2-beta: done\n  1-3-gamma: review\n' }, 1);
    expect(mainFlow(run)).toEqual(['code-review-1 1-1', 'code-review-1 1-3', 'batch-commit 1-1,1-3']);
  });

  it('runs a single story when the candidate has another entry step, and searches no further', async () => {
    run = await runBatch({ developmentStatus: '  epic-1: in-progress\n  1-1-alpha: backlog\n  1-2-beta: review\n  1-3-gamma: backlog\n' }, 1);
    expect(run.commands()[0]).toMatchObject({ command: 'create-story', stories: '1-1' });
    expect(mainFlow(run)).not.toContain('create-story 1-1,1-3');
  });

  it('runs a single story when the next eligible story is in another epic', async () => {
    run = await runBatch({ developmentStatus: '  epic-1: in-progress\n  1-1-alpha: review\n  epic-2: backlog\n  2-1-delta: review\n' }, 1);
    expect(mainFlow(run)).toEqual(['code-review-1 1-1', 'batch-commit 1-1']);
  });

  it('orders epics naturally: 2 before 2a before 10, whatever the file order', async () => {
    run = await runBatch(
      { developmentStatus: '  epic-10: backlog\n  10-1-z: review\n  epic-2a: backlog\n  2a-1-y: review\n  epic-2: backlog\n  2-1-x: review\n' },
      'all',
    );
    expect(mainFlow(run)).toEqual([
      'code-review-1 2-1',
      'batch-commit 2-1',
      'code-review-1 2a-1',
      'batch-commit 2a-1',
      'code-review-1 10-1',
      'batch-commit 10-1',
    ]);
  });
});

describe('a batch of all', () => {
  it('runs every story of the demo sprint across three epics and ends with the sprint complete', async () => {
    run = await runBatch({}, 'all');
    const cycles = run.events.filter((e) => e.type === 'cycle:start').map((e) => (e.type === 'cycle:start' ? e.payload.stories.map((s) => s.shortId).join(',') : ''));
    expect(cycles).toEqual(['1-3', '2a-1,2a-2', '2a-3', '3-1,3-2', '3-3']);
    expect(run.output).toMatchObject({ type: 'ok', message: 'Sprint complete: 9 done, 0 blocked', cyclesCompleted: 5 });
    for (const key of ['1-3-session-scanner', '2a-1-log-parser', '2a-2-event-index', '2a-3-search-api', '3-1-dashboard-shell', '3-2-live-updates', '3-3-export-csv']) {
      expect(run.statusOf(key), key).toBe('done');
    }
  });
});

describe('unexpected statuses', () => {
  it('reports an unexpected status once per batch, passes the story over and leaves the file alone', async () => {
    run = await runBatch(
      { developmentStatus: '  epic-1: in-progress\n  1-1-alpha: wip  # someone typed this\n  1-2-beta: review\n  epic-2: backlog\n  2-1-gamma: review\n' },
      'all',
    );
    const errors = run.events.filter((e) => e.type === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.payload).toMatchObject({ story: '1-1', message: expect.stringContaining('unexpected status "wip"') });
    expect(mainFlow(run)).toEqual(['code-review-1 1-2', 'batch-commit 1-2', 'code-review-1 2-1', 'batch-commit 2-1']);
    expect(run.sprintStatus()).toContain('  1-1-alpha: wip  # someone typed this\n');
  });
});
