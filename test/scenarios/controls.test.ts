// Operator controls on real children: stop ends whole process trees (PIDs checked), pause holds the next step, resume goes on.
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive } from '../../machines/claude/process-tree.js';
import { mainFlow, makeProject, startRunner, type ScenarioRun } from '../support/scenario.js';
import { waitFor } from '../support/wait.js';

let run: ScenarioRun | null = null;
afterEach(async () => {
  await run?.cleanup();
  run = null;
});


describe('stop', () => {
  it('ends the whole tree of a running command, including a grandchild in its own session, and resume runs it again', async () => {
    run = startRunner(
      makeProject({ developmentStatus: '  epic-1: in-progress\n  1-1-alpha: in-progress\n', scenario: { stories: { '1-1': { run: { 'dev-story': ['hang', 'ok'] } } } } }),
    );
    await run.runner.start({ cycles: 1 });
    const current = run;
    const grandchild = await waitFor(() => current.trace().find((t) => t.ev === 'grandchild'), 'the hanging sleep');
    const sim = current.trace().find((t) => t.ev === 'start' && t.command === 'dev-story')!;
    expect(isAlive(sim.pid)).toBe(true);
    expect(isAlive(grandchild.pid)).toBe(true);

    await run.runner.stop();
    expect(run.runner.status()).toBe('stopped');
    expect(isAlive(sim.pid)).toBe(false);
    expect(isAlive(grandchild.pid)).toBe(false);
    expect(run.runner.livePids()).toEqual([]);
    const ends = run.events.filter((e) => e.type === 'command:end').map((e) => (e.type === 'command:end' ? e.payload.status : ''));
    expect(ends).toEqual(['interrupted']);

    // nothing new starts while stopped
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(run.commands()).toHaveLength(1);

    run.runner.resume();
    const output = await run.runner.done();
    expect(output).toMatchObject({ type: 'ok', cyclesCompleted: 1 });
    expect(mainFlow(run)).toEqual(['dev-story 1-1', 'dev-story 1-1 #2', 'code-review-1 1-1', 'batch-commit 1-1']);
    // an interrupted attempt is not an error: no error events, the story is done
    expect(run.events.filter((e) => e.type === 'error')).toEqual([]);
    expect(run.statusOf('1-1-alpha')).toBe('done');
  });

  it('ends background tasks too, and resumes them', async () => {
    run = startRunner(
      makeProject({
        developmentStatus: '  epic-1: backlog\n  1-1-alpha: backlog\n',
        scenario: { stories: { '1-1': { storyReview: [1], run: { 'dev-story': ['hang', 'ok'] } } }, commands: { 'background-review-chain': ['hang', 'ok'] } },
      }),
    );
    await run.runner.start({ cycles: 1 });
    const current = run;
    await waitFor(() => current.trace().filter((t) => t.ev === 'grandchild').length === 2 || null, 'both hanging commands');
    const pids = current.trace().filter((t) => t.ev === 'start' || t.ev === 'grandchild').map((t) => t.pid);
    await run.runner.stop();
    for (const pid of pids) expect(isAlive(pid), `pid ${pid}`).toBe(false);

    run.runner.resume();
    await run.runner.done();
    expect(run.commands((c) => c.background).map((c) => `${c.command} #${c.attempt}`)).toEqual(['background-review-chain #1', 'background-review-chain #2']);
  });

  it('close() ends everything even without a stop', async () => {
    run = startRunner(
      makeProject({ developmentStatus: '  epic-1: in-progress\n  1-1-alpha: in-progress\n', scenario: { stories: { '1-1': { run: { 'dev-story': ['hang-stubborn'] } } } } }),
    );
    await run.runner.start({ cycles: 1 });
    const current = run;
    const grandchild = await waitFor(() => current.trace().find((t) => t.ev === 'grandchild'), 'the hanging sleep');
    const sim = current.trace().find((t) => t.ev === 'start')!;
    await run.runner.close();
    expect(isAlive(sim.pid)).toBe(false);
    expect(isAlive(grandchild.pid)).toBe(false);
  });
});

describe('pause', () => {
  it('lets the running command finish, starts nothing new, and resume goes on from the next step', async () => {
    run = startRunner(
      makeProject({ developmentStatus: '  epic-1: in-progress\n  1-1-alpha: in-progress\n', scenario: { commands: { 'dev-story': ['slow:800'] } } }),
    );
    await run.runner.start({ cycles: 1 });
    const current = run;
    await waitFor(() => current.commands().length === 1 || null, 'dev-story to start');
    run.runner.pause();
    expect(run.runner.status()).toBe('paused');
    await waitFor(() => current.events.find((e) => e.type === 'command:end'), 'dev-story to finish');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(run.events.filter((e) => e.type === 'command:end').map((e) => (e.type === 'command:end' ? e.payload.status : ''))).toEqual(['ok']);
    expect(mainFlow(run)).toEqual(['dev-story 1-1']);

    run.runner.resume();
    expect(run.runner.status()).toBe('running');
    await run.runner.done();
    expect(mainFlow(run)).toEqual(['dev-story 1-1', 'code-review-1 1-1', 'batch-commit 1-1']);
    const states = run.events.filter((e) => e.type === 'state').map((e) => (e.type === 'state' ? e.payload.status : ''));
    expect(states).toEqual(['running', 'paused', 'running', 'completed']);
  });

  it('refuses a second start while a batch is active', async () => {
    run = startRunner(makeProject({ developmentStatus: '  epic-1: in-progress\n  1-1-alpha: review\n', scenario: { commands: { 'code-review': ['slow:500'] } } }));
    await run.runner.start({ cycles: 1 });
    await expect(run.runner.start({ cycles: 1 })).rejects.toThrow('a batch is already active');
    await run.runner.done();
  });

  it.each([0, -1, 1.5, 'some', null])('refuses cycles = %j with a clear error', async (cycles) => {
    run = startRunner(makeProject());
    await expect(run.runner.start({ cycles: cycles as never })).rejects.toThrow('cycles must be a whole number of at least 1, or "all"');
  });
});
