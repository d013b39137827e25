// Faults real projects meet: a sprint-status half-written by a subagent that was stopped, and a project folder that vanished.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mainFlow, makeProject, SPRINT_STATUS_REL, startRunner, type ScenarioRun } from '../support/scenario.js';
import { waitFor } from '../support/wait.js';

let run: ScenarioRun | null = null;
afterEach(async () => {
  await run?.cleanup();
  run = null;
});

describe('a sprint-status left empty by a stopped subagent (spec §4)', () => {
  it('is restored to the last content read on resume, with a warning, and the batch ends as an uninterrupted one would', async () => {
    run = startRunner(
      makeProject({ developmentStatus: '  epic-1: in-progress\n  1-1-alpha: in-progress\n', scenario: { stories: { '1-1': { run: { 'dev-story': ['hang', 'ok'] } } } } }),
    );
    const file = path.join(run.root, SPRINT_STATUS_REL);
    const before = readFileSync(file, 'utf8');
    await run.runner.start({ cycles: 1 });
    const current = run;
    await waitFor(() => current.trace().find((t) => t.ev === 'grandchild'), 'the hanging dev-story');
    // the subagent was writing the file when it was ended: it truncated it first
    writeFileSync(file, '');
    await run.runner.stop();

    await run.runner.resume();
    const output = await run.runner.done();
    expect(output).toMatchObject({ type: 'ok', cyclesCompleted: 1 });
    const warnings = run.events.filter((e) => e.type === 'warning').map((e) => (e.payload as { message: string }).message);
    expect(warnings).toEqual([expect.stringMatching(/sprint-status\.yaml was empty after a subagent was ended .* restored/)]);
    expect(mainFlow(run)).toEqual(['dev-story 1-1', 'dev-story 1-1 #2', 'code-review-1 1-1', 'batch-commit 1-1']);
    expect(readFileSync(file, 'utf8')).toBe(before.replace('1-1-alpha: in-progress', '1-1-alpha: done'));
  });
});

describe('a project folder removed mid-run', () => {
  it('ends the batch in error saying the project is gone, and recreates nothing', async () => {
    run = startRunner(
      makeProject({ developmentStatus: '  epic-1: in-progress\n  1-1-alpha: in-progress\n', scenario: { stories: { '1-1': { run: { 'dev-story': ['hang'] } } } } }),
    );
    await run.runner.start({ cycles: 1 });
    const current = run;
    const sim = await waitFor(() => current.trace().find((t) => t.ev === 'start' && t.command === 'dev-story'), 'dev-story');
    // the folder leaves its path at once (a deleted or unmounted project), then the agent in it dies without a result
    const gone = `${run.root}-gone`;
    renameSync(run.root, gone);
    try {
      process.kill(sim.pid, 'SIGKILL');
      const output = await run.runner.done();
      expect(output.type).toBe('error');
      const errors = run.events.filter((e) => e.type === 'error' || e.type === 'batch:end').map((e) => JSON.stringify(e.payload));
      expect(errors.join('\n')).toMatch(/The project is gone: .* no longer exists/);
      expect(existsSync(run.root)).toBe(false);
    } finally {
      await run.runner.close();
      rmSync(gone, { recursive: true, force: true });
    }
  });
});
