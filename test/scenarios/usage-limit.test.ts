// Usage limits on real simulated-CLI children: the batch waits for the reset (plus a margin), follows a moved reset, goes on by itself.
import { afterEach, describe, expect, it } from 'vitest';
import { mainFlow, runBatch, type BatchRun } from '../support/scenario.js';

let run: BatchRun | null = null;
afterEach(async () => {
  await run?.cleanup();
  run = null;
});

const ONE_IN_PROGRESS = '  epic-1: in-progress\n  1-1-alpha: in-progress\n';
const states = (r: BatchRun) => r.events.flatMap((e) => (e.type === 'state' ? [e.payload.status] : []));

describe('usage limits', () => {
  it('a rejected rate-limit event pauses the batch until the reset, then the same step runs again, and it is no failure', async () => {
    const started = Date.now();
    run = await runBatch(
      { developmentStatus: ONE_IN_PROGRESS, scenario: { stories: { '1-1': { run: { 'dev-story': ['rate-limit:2', 'ok'] } } } } },
      1,
      { usageLimitMarginMs: 300 },
    );
    expect(run.output).toMatchObject({ type: 'ok', cyclesCompleted: 1 });
    expect(mainFlow(run)).toEqual(['dev-story 1-1', 'dev-story 1-1 #2', 'code-review-1 1-1', 'batch-commit 1-1']);
    const limit = run.events.find((e) => e.type === 'usage-limit');
    expect(limit?.payload).toMatchObject({ command: 'dev-story' });
    const until = (limit!.payload as { until: number }).until;
    // the reset time the CLI gave (now + 2 s, whole seconds) plus the margin
    expect(until).toBeGreaterThan(started + 1000);
    const retry = run.events.filter((e) => e.type === 'command:start')[1]!;
    expect(retry.ts).toBeGreaterThanOrEqual(until);
    expect(run.events.some((e) => e.type === 'usage-limit-end')).toBe(true);
    expect(states(run)).toEqual(['running', 'paused', 'running', 'completed']);
    expect(run.events.filter((e) => e.type === 'error')).toEqual([]);
    expect(run.statusOf('1-1-alpha')).toBe('done');
  });

  it('when the reset time moves, the wait follows it', async () => {
    run = await runBatch(
      { developmentStatus: ONE_IN_PROGRESS, scenario: { stories: { '1-1': { run: { 'dev-story': ['rate-limit:1', 'rate-limit:2', 'ok'] } } } } },
      1,
      { usageLimitMarginMs: 100 },
    );
    const limits = run.events.filter((e) => e.type === 'usage-limit').map((e) => (e.payload as { until: number }).until);
    expect(limits).toHaveLength(2);
    expect(limits[1]!).toBeGreaterThan(limits[0]!);
    const starts = run.events.filter((e) => e.type === 'command:start' && e.payload.command === 'dev-story');
    expect(starts).toHaveLength(3);
    expect(starts[2]!.ts).toBeGreaterThanOrEqual(limits[1]!);
    expect(run.output).toMatchObject({ type: 'ok' });
  });

  it('an API error (with an api_retry line) is a failure, not a usage limit', async () => {
    run = await runBatch(
      { developmentStatus: ONE_IN_PROGRESS, scenario: { stories: { '1-1': { run: { 'dev-story': ['is-error', 'ok'] } } } } },
      1,
      { usageLimitMarginMs: 100 },
    );
    expect(run.events.some((e) => e.type === 'usage-limit')).toBe(false);
    expect(run.events.filter((e) => e.type === 'error')).toHaveLength(1);
    expect(mainFlow(run)).toEqual(['dev-story 1-1', 'dev-story 1-1', 'code-review-1 1-1', 'batch-commit 1-1']);
  });

  it('stop during the wait keeps the limit; resume waits for what is left of it', async () => {
    const { startRunner, makeProject } = await import('../support/scenario.js');
    const scenarioRun = startRunner(
      makeProject({ developmentStatus: ONE_IN_PROGRESS, scenario: { stories: { '1-1': { run: { 'dev-story': ['rate-limit:2', 'ok'] } } } } }),
      { usageLimitMarginMs: 200 },
    );
    await scenarioRun.runner.start({ cycles: 1 });
    const { waitFor } = await import('../support/wait.js');
    await waitFor(() => scenarioRun.events.some((e) => e.type === 'usage-limit') || null, 'the usage limit');
    expect(scenarioRun.runner.status()).toBe('paused');
    expect(scenarioRun.runner.usageLimitUntil()).not.toBeNull();
    await scenarioRun.runner.stop();
    await scenarioRun.runner.resume();
    expect(scenarioRun.runner.status()).toBe('paused');
    const output = await scenarioRun.runner.done();
    expect(output).toMatchObject({ type: 'ok' });
    const until = scenarioRun.events.find((e) => e.type === 'usage-limit')!.payload as { until: number };
    const retry = scenarioRun.events.filter((e) => e.type === 'command:start')[1]!;
    expect(retry.ts).toBeGreaterThanOrEqual(until.until);
    await scenarioRun.cleanup();
  });
});
