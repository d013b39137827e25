// Interrupted work continues (issue 14): the next attempt of a stopped, limited or stalled step forks the last session.
import { afterEach, describe, expect, it } from 'vitest';
import type { RunnerEvent } from '../../machines/runner-api.js';
import { makeProject, startRunner, type ScenarioRun } from '../support/scenario.js';
import { waitFor } from '../support/wait.js';

const IN_PROGRESS = '  epic-1: in-progress\n  1-1-alpha: in-progress\n';

/** The sim's trace of each dev-story spawn: the session it ran as, the one it continued and what it found done. */
interface SpawnTrace {
  ev: string;
  logged: string;
  sessionId: string;
  resumed: string | null;
  alreadyDone: string[];
  argv: string[];
}

const spawns = (run: ScenarioRun, logged = 'dev-story') => (run.trace() as unknown as SpawnTrace[]).filter((t) => t.ev === 'start' && t.logged === logged);

type SessionProgress = { kind: 'session'; runId: string; sessionId: string; continuedFrom: string | null; note: string | null };
const sessionEvents = (events: RunnerEvent[]) =>
  events.flatMap((e) => (e.type === 'command:progress' && e.payload.kind === 'session' ? [e.payload as unknown as SessionProgress] : []));

/** Task phases a dev-story attempt logged, `story|task` for each end. */
const endedPhases = (events: RunnerEvent[], attempt: number) => {
  const out: string[] = [];
  let current = 0;
  for (const e of events) {
    if (e.type === 'command:start' && e.payload.command === 'dev-story') current = e.payload.attempt;
    if (e.type === 'command:progress' && e.payload.kind === 'task' && e.payload.command === 'dev-story' && current === attempt && e.payload.task.status === 'end') {
      out.push(`${e.payload.task.story}|${e.payload.task.taskId}`);
    }
  }
  return out;
};

let run: ScenarioRun | null = null;
afterEach(async () => {
  await run?.cleanup();
  run = null;
});

describe('an interrupted step continues its session', () => {
  it('after stop and resume, attempt 2 forks attempt 1 and does only what was left', async () => {
    run = startRunner(makeProject({ developmentStatus: IN_PROGRESS, scenario: { stories: { '1-1': { run: { 'dev-story': ['stall:9', 'ok'] } } } } }));
    await run.runner.start({ cycles: 1 });
    const r = run;
    await waitFor(() => endedPhases(r.events, 1).length >= 2 || null, 'two dev-story phases done');
    await run.runner.stop();
    await run.runner.resume();
    await run.runner.done();

    const [first, second] = spawns(run);
    expect(first!.resumed).toBeNull();
    expect(first!.argv).toContain('--session-id');
    // the continued attempt forks the first session into an id of its own, chosen before the spawn
    expect(second!.resumed).toBe(first!.sessionId);
    expect(second!.sessionId).not.toBe(first!.sessionId);
    expect(second!.argv).toEqual(expect.arrayContaining(['--resume', first!.sessionId, '--fork-session', '--session-id', second!.sessionId]));
    const doneBefore = endedPhases(run.events, 1);
    expect(second!.alreadyDone.sort()).toEqual([...doneBefore].sort());
    // nothing finished before is done again; the rest is
    const doneAfter = endedPhases(run.events, 2);
    expect(doneAfter.filter((p) => doneBefore.includes(p))).toEqual([]);
    expect([...doneBefore, ...doneAfter].sort()).toEqual(['1-1|finalize', '1-1|implement', '1-1|setup', '1-1|tests', '1-1|validate']);

    const sessions = sessionEvents(run.events).filter((s) => s.runId.includes('dev-story'));
    expect(sessions.map((s) => [s.sessionId, s.continuedFrom])).toEqual([
      [first!.sessionId, null],
      [second!.sessionId, first!.sessionId],
    ]);
    expect(run.statusOf('1-1-alpha')).toBe('done');
  });

  it('a usage limit: the attempt after the reset continues the limited session', async () => {
    run = startRunner(makeProject({ developmentStatus: IN_PROGRESS, scenario: { stories: { '1-1': { run: { 'dev-story': ['rate-limit:1', 'ok'] } } } } }), { usageLimitMarginMs: 200 });
    await run.runner.start({ cycles: 1 });
    await run.runner.done();
    const [first, second] = spawns(run);
    expect(second!.resumed).toBe(first!.sessionId);
    expect(run.commands((c) => c.command === 'dev-story').map((c) => c.attempt)).toEqual([1, 2]);
  });

  it('an idle watchdog: the step run again in the next cycle continues the stalled session, and the failure still counts', async () => {
    run = startRunner(makeProject({ developmentStatus: IN_PROGRESS, scenario: { stories: { '1-1': { run: { 'dev-story': ['stall:4', 'ok'] } } } } }), {
      idleTimeoutMs: 1500,
    });
    await run.runner.start({ cycles: 2 });
    await run.runner.done();
    const [first, second] = spawns(run);
    expect(second!.resumed).toBe(first!.sessionId);
    expect(second!.alreadyDone.length).toBeGreaterThan(0);
    const ends = run.events.filter((e): e is Extract<RunnerEvent, { type: 'command:end' }> => e.type === 'command:end' && e.payload.command === 'dev-story');
    expect(ends.map((e) => [e.payload.status, e.payload.outcome.failure])).toEqual([
      ['failed', 'watchdog-idle'],
      ['ok', null],
    ]);
  });

  it('a failed step (an error result) starts afresh', async () => {
    run = startRunner(makeProject({ developmentStatus: IN_PROGRESS, scenario: { stories: { '1-1': { run: { 'dev-story': ['error-subtype', 'ok'] } } } } }));
    await run.runner.start({ cycles: 2 });
    await run.runner.done();
    const [first, second] = spawns(run);
    expect(first!.resumed).toBeNull();
    expect(second!.resumed).toBeNull();
    expect(second!.argv).not.toContain('--resume');
  });

  it('with the switch off, an interrupted step starts afresh', async () => {
    run = startRunner(makeProject({ developmentStatus: IN_PROGRESS, scenario: { stories: { '1-1': { run: { 'dev-story': ['stall:3', 'ok'] } } } } }), {
      continueSessions: false,
    });
    await run.runner.start({ cycles: 1 });
    const r = run;
    await waitFor(() => endedPhases(r.events, 1).length >= 1 || null, 'a dev-story phase done');
    await run.runner.stop();
    expect(run.runner.continueSessions()).toBe(false);
    await run.runner.resume();
    await run.runner.done();
    const [, second] = spawns(run);
    expect(second!.resumed).toBeNull();
    expect(endedPhases(run.events, 2)).toContain('1-1|setup');
  });

  it('a session the CLI no longer has: the fork is refused at once and the same attempt starts afresh', async () => {
    run = startRunner(
      makeProject({ developmentStatus: IN_PROGRESS, scenario: { stories: { '1-1': { run: { 'dev-story': ['stall:3', 'ok', 'ok'] } } } } }),
    );
    await run.runner.start({ cycles: 1 });
    const r = run;
    await waitFor(() => endedPhases(r.events, 1).length >= 1 || null, 'a dev-story phase done');
    await run.runner.stop();
    // the CLI's session store lost it (cleaned up, another machine, another HOME)
    const { rmSync } = await import('node:fs');
    rmSync(`${run.root}/.sprint-sim/sessions`, { recursive: true, force: true });
    await run.runner.resume();
    await run.runner.done();

    const all = (run.trace() as unknown as (SpawnTrace & { message?: string })[]).filter((t) => t.logged === 'dev-story' || t.ev === 'rejected');
    const rejected = all.find((t) => t.ev === 'rejected');
    expect(rejected?.message).toMatch(/^No conversation found with session ID: /);
    const [first, second] = spawns(run);
    expect(second!.resumed).toBeNull();
    const sessions = sessionEvents(run.events).filter((s) => s.runId.includes('dev-story'));
    expect(sessions).toHaveLength(3);
    expect(sessions[1]).toMatchObject({ continuedFrom: first!.sessionId });
    expect(sessions[2]).toMatchObject({ continuedFrom: null, sessionId: second!.sessionId });
    expect(sessions[2]!.note).toMatch(/could not continue session .* started afresh/);
    // still one attempt in our records
    expect(run.commands((c) => c.command === 'dev-story').map((c) => c.attempt)).toEqual([1, 2]);
    expect(run.statusOf('1-1-alpha')).toBe('done');
  });
});
