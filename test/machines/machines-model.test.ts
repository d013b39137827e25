// Model-based tests of the commandRun, review, cycle and batch machines: xstate/graph walks their paths with fake actor results.
import { describe, expect, it } from 'vitest';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import type { AnyMachineSnapshot } from 'xstate';
import { actorFailureOutcome, commandRunMachine } from '../../machines/command.machine.js';
import { reviewMachine } from '../../machines/review.machine.js';
import { cycleMachine } from '../../machines/cycle.machine.js';
import { batchMachine } from '../../machines/batch.machine.js';
import { buildCommandSpec } from '../../machines/command-spec.js';
import type { SprintStatus, StoryStatus } from '../../machines/rules/sprint-status.js';
import type { CycleOutput } from '../../machines/cycle.machine.js';

const STORY_A = { key: '1-1-alpha', shortId: '1-1', epicId: '1' };
const STORY_B = { key: '1-2-beta', shortId: '1-2', epicId: '1' };
const outcome = (ok: boolean, failure: string | null = ok ? null : 'no-result', text = '') => ({
  ...actorFailureOutcome(ok ? 'ok' : 'failed'),
  ok,
  failure,
  assistantText: text,
});
const commandDone = (id: string, ok: boolean, text = '') => ({
  type: `xstate.done.actor.${id}`,
  output: ok ? { type: 'ok', outcome: outcome(true, null, text) } : { type: 'error', error: 'failed', outcome: outcome(false) },
});
const statesReached = (paths: { state: AnyMachineSnapshot }[]) => new Set(paths.map((p) => JSON.stringify(p.state.value)));
const expectStates = (paths: { state: AnyMachineSnapshot }[], names: string[]) => {
  const reached = [...statesReached(paths)];
  for (const name of names) expect(reached.some((v) => v.includes(`"${name}"`)), name).toBe(true);
};

describe('commandRun machine model', () => {
  const spec = buildCommandSpec({ kind: 'dev-story', stories: [STORY_A], implementationArtifacts: 'impl' });
  const events = (s: AnyMachineSnapshot): any[] => [
    { type: 'CONTROL', mode: 'run' },
    { type: 'CONTROL', mode: 'pause' },
    { type: 'CONTROL', mode: 'stop' },
    ...(s.matches('running')
      ? [
          { type: 'CLAUDE.EXIT', outcome: outcome(true) },
          { type: 'CLAUDE.EXIT', outcome: outcome(false) },
          { type: 'CLAUDE.EXIT', outcome: outcome(false, 'interrupted') },
        ]
      : []),
  ];
  const serialize = (s: AnyMachineSnapshot) => JSON.stringify([s.value, s.context.control, Math.min(s.context.attempt, 3)]);

  it.each(['run', 'pause', 'stop'] as const)('starting with control %s reaches every state, and runs only while control is run', (control) => {
    const paths = getSimplePaths(commandRunMachine, {
      input: { spec, runId: 'c1/dev-story/1-1', control },
      events,
      serializeState: serialize,
      stopWhen: (s) => s.context.attempt > 2,
    });
    expectStates(paths, ['held', 'running', 'succeeded', 'failed']);
    for (const path of paths) {
      let interrupted = 0;
      for (const step of path.steps) {
        const exit = step.event as { type: string; outcome?: { failure: string | null } };
        if (exit.type === 'CLAUDE.EXIT' && exit.outcome?.failure === 'interrupted') interrupted++;
        // one spawn per attempt: every run after an interruption is a new attempt
        if (step.state.matches('running')) expect(step.state.context.attempt).toBe(interrupted + 1);
        if (step.state.matches({ running: 'active' })) expect(step.state.context.control).not.toBe('stop');
      }
    }
  });

  it('an interrupted attempt is never a final failure: it waits and runs again', () => {
    const paths = getShortestPaths(commandRunMachine, { input: { spec, runId: 'r', control: 'run' }, events, serializeState: serialize });
    const afterInterrupt = paths.filter((p) => p.steps.some((s) => (s.event as { outcome?: { failure: string } }).outcome?.failure === 'interrupted'));
    expect(afterInterrupt.length).toBeGreaterThan(0);
    for (const path of afterInterrupt) {
      const i = path.steps.findIndex((s) => (s.event as { outcome?: { failure: string } }).outcome?.failure === 'interrupted');
      const next = path.steps[i]!.state;
      expect(next.status).toBe('active');
    }
  });
});

describe('review machine model', () => {
  const input = { reviewType: 'story-review' as const, stories: [STORY_A, STORY_B], control: 'run' as const, scope: 'c1', implementationArtifacts: 'impl' };
  const texts = ['NO CRITICAL ISSUES FOUND', 'CRITICAL ISSUES FOUND: 2', 'CRITICAL ISSUES FOUND: 0', 'nothing to see'];
  const events = (s: AnyMachineSnapshot): any[] =>
    s.matches('reviewing') ? [...texts.map((t) => commandDone('review1', true, t)), commandDone('review1', false)] : [];

  it('forks the background chain exactly when the review is critical or unmarked', () => {
    // the chain request goes to the parent, which a machine walked on its own does not have
    const paths = getShortestPaths(reviewMachine.provide({ actions: { startBackgroundChain: () => {} } }), { input, events });
    expectStates(paths, ['reviewing', 'reviewed', 'failed']);
    const finals = paths.filter((p) => p.state.status === 'done');
    expect(finals.length).toBeGreaterThanOrEqual(2);
    for (const path of paths.filter((p) => p.steps.length > 0 && p.state.status === 'done')) {
      const last = path.steps[path.steps.length - 1]!.event as unknown as { output: { type: string; outcome: { assistantText: string } } };
      const output = path.state.output!;
      if (last.output.type !== 'ok') {
        expect(output).toMatchObject({ type: 'failed', failure: { command: 'story-review-1', stories: [STORY_A, STORY_B] } });
        continue;
      }
      const text = last.output.outcome.assistantText;
      expect(output).toEqual({ type: 'ok', critical: text === 'CRITICAL ISSUES FOUND: 2' || text === 'nothing to see' });
    }
  });
});

function sprint(stories: [typeof STORY_A, StoryStatus][]): SprintStatus {
  return {
    project: 'demo',
    epics: [{ key: 'epic-1', epicId: '1', status: 'in-progress' }],
    stories: stories.map(([ref, status], i) => ({ ...ref, storyNumber: i + 1, rawStatus: status, status })),
  };
}

describe('cycle machine model', () => {
  const input = { cycleNumber: 1, scope: 'c1', control: 'run' as const, review: {}, unexpectedReported: [], implementationArtifacts: 'impl' };
  const storyOut = (type: 'ok' | 'failed' | 'error') => ({
    type: 'xstate.done.actor.story',
    output:
      type === 'ok'
        ? { type, outcome: 'done', review: { attempt: 2, patterns: ['p'] }, successes: [] }
        : type === 'failed'
          ? { type, failure: { command: 'dev-story', stories: [STORY_A], message: 'x', reason: 'no-result' }, review: { attempt: 1, patterns: [] }, successes: [] }
          : { type, error: 'disk full', review: { attempt: 1, patterns: [] }, successes: [] },
  });
  const reviewOut = (id: string, ok: boolean) => ({
    type: `xstate.done.actor.${id}`,
    output: ok ? { type: 'ok', critical: false } : { type: 'failed', failure: { command: `${id}-1`, stories: [STORY_A], message: 'x', reason: 'no-result' } },
  });
  const events = (s: AnyMachineSnapshot): any[] => {
    if (s.matches('selecting')) {
      return [
        sprint([[STORY_A, 'done'], [STORY_B, 'blocked']]),
        sprint([[STORY_A, 'backlog'], [STORY_B, 'backlog']]),
        sprint([[STORY_A, 'ready-for-dev'], [STORY_B, 'backlog']]),
        sprint([[STORY_A, 'review'], [STORY_B, 'in-progress']]),
      ].map((output) => ({ type: 'xstate.done.actor.readStatus', output }));
    }
    if (s.matches('committing')) {
      return [sprint([[STORY_A, 'done'], [STORY_B, 'done']]), sprint([[STORY_A, 'blocked'], [STORY_B, 'blocked']])].map((output) => ({
        type: 'xstate.done.actor.readStatus',
        output,
      }));
    }
    return [
      commandDone('createStory', true, '1-1 [TECH-SPEC-DECISION: REQUIRED]\n1-2 [TECH-SPEC-DECISION: SKIP]'),
      commandDone('createStory', true, '1-1 [TECH-SPEC-DECISION: SKIP]\n1-2 [TECH-SPEC-DECISION: SKIP]'),
      commandDone('createStory', false),
      commandDone('storyDiscovery', true),
      commandDone('storyDiscovery', false),
      { type: 'xstate.done.actor.injectContext', output: { warnings: [] } },
      reviewOut('storyReview', true),
      reviewOut('storyReview', false),
      commandDone('createTechSpec', true),
      commandDone('createTechSpec', false),
      reviewOut('techSpecReview', true),
      reviewOut('techSpecReview', false),
      storyOut('ok'),
      storyOut('failed'),
      storyOut('error'),
      commandDone('batchCommit', true),
      commandDone('batchCommit', false),
    ];
  };
  const paths = getShortestPaths(cycleMachine, {
    input,
    events,
    serializeState: (s) => JSON.stringify([s.value, s.context.entryStep, s.context.techSpecNeeded, s.context.storyIndex, s.context.failure !== null, s.context.commitStories.length]),
  });

  it('reaches every state of the cycle', () => {
    expectStates(paths, ['creating', 'injectingContext', 'storyReview', 'techSpec', 'techSpecReview', 'developing', 'committing', 'batchCommit', 'counted', 'sprintComplete', 'failed', 'error']);
  });

  it('ends with an output that matches how it ended', () => {
    for (const path of paths.filter((p) => p.state.status === 'done')) {
      const output = path.state.output as CycleOutput;
      const value = JSON.stringify(path.state.value);
      if (value === '"counted"') expect(output.type).toBe('ok');
      if (value === '"failed"') expect(output).toMatchObject({ type: 'failed', failure: expect.any(Object) });
      if (value === '"error"') expect(output.type).toBe('error');
      if (value === '"sprintComplete"') expect(output).toMatchObject({ type: 'complete', done: 1, blocked: 1 });
    }
  });

  it('runs the batch commit only for stories that are not blocked', () => {
    for (const path of paths) {
      const commit = path.state.children['batchCommit'];
      if (!commit || !path.state.matches('batchCommit')) continue;
      expect(path.state.context.commitStories.length).toBeGreaterThan(0);
    }
    const allBlocked = paths.find((p) => p.steps.some((s) => s.state.matches('committing')) && p.state.matches('counted') && p.state.context.commitStories.length === 0);
    expect(allBlocked).toBeDefined();
  });
});

describe('batch machine model', () => {
  const cycleOut = (type: CycleOutput['type']) => ({
    type: 'xstate.done.actor.cycle',
    output: {
      type,
      review: {},
      successes: [],
      unexpectedReported: [],
      ...(type === 'failed' ? { failure: { command: 'dev-story', stories: [STORY_A], message: 'x', reason: 'no-result' } } : {}),
      ...(type === 'error' ? { error: 'broken sprint-status' } : {}),
      ...(type === 'complete' ? { done: 2, blocked: 0 } : {}),
    },
  });
  const chainSpec = buildCommandSpec({ kind: 'background-review-chain', stories: [STORY_A], implementationArtifacts: 'impl', background: true, model: 'haiku' });
  const events = (s: AnyMachineSnapshot): any[] => {
    const always = [{ type: 'BACKGROUND.START', spec: chainSpec, scope: 'c1' }];
    const bgDone = (s.context.background as { id: string; status: string }[])
      .filter((t) => t.status === 'running')
      .map((t) => ({ type: `xstate.done.actor.${t.id}`, output: { type: 'ok', outcome: outcome(true) } }));
    if (s.matches('preflight')) return [{ type: 'xstate.done.actor.checkProject' }, { type: 'xstate.error.actor.checkProject', error: new Error('template missing') }];
    if (s.matches('projectContext')) return (['missing', 'stale', 'fresh'] as const).map((output) => ({ type: 'xstate.done.actor.checkProjectContext', output }));
    if (s.matches('generatingContext')) return [commandDone('projectContext', true), commandDone('projectContext', false)];
    if (s.matches('cycling')) return [...(['ok', 'complete', 'failed', 'error'] as const).map(cycleOut), ...always, ...bgDone];
    if (s.matches('blocking')) return [{ type: 'xstate.done.actor.writeStatus' }];
    return bgDone;
  };
  const serialize = (s: AnyMachineSnapshot) =>
    JSON.stringify([s.value, s.context.cyclesCompleted, s.context.errorStreaks, s.context.background.map((t: { status: string }) => t.status), s.context.pendingBlocks.length]);

  it.each([1, 2, 'all'] as const)('with max cycles %s, ends completed only at the count or when the sprint is complete, never with background work running', (maxCycles) => {
    const paths = getSimplePaths(batchMachine, {
      input: { maxCycles, implementationArtifacts: 'impl' },
      events,
      serializeState: serialize,
      stopWhen: (s) => s.context.cyclesCompleted > 3 || s.context.background.length > 1 || s.context.cycleSeq > 4,
    });
    expectStates(paths, ['preflight', 'projectContext', 'generatingContext', 'cycling', 'blocking', 'completed', 'failed']);
    for (const path of paths.filter((p) => p.state.status === 'done')) {
      const { context } = path.state;
      const output = path.state.output!;
      if (output.type === 'error') continue;
      expect(context.background.every((t: { status: string }) => t.status !== 'running')).toBe(true);
      const lastCycle = [...path.steps].reverse().find((s) => (s.event.type as string) === 'xstate.done.actor.cycle')!.event as unknown as { output: CycleOutput };
      if (lastCycle.output.type === 'complete') expect(output.message).toBe('Sprint complete: 2 done, 0 blocked');
      else expect(context.cyclesCompleted).toBe(maxCycles);
    }
  });

  it('blocks a story at its third consecutive failure, and only then', () => {
    const paths = getSimplePaths(batchMachine, {
      input: { maxCycles: 'all', implementationArtifacts: 'impl' },
      events: (s) => events(s).filter((e) => e.type !== 'BACKGROUND.START'),
      serializeState: serialize,
      stopWhen: (s) => s.context.cycleSeq > 4,
    });
    for (const path of paths) {
      for (const step of path.steps) {
        if (!step.state.matches('blocking')) continue;
        const failures = path.steps.slice(0, path.steps.indexOf(step) + 1).filter((s) => (s.event as { output?: { type: string } }).output?.type === 'failed');
        expect(failures.length).toBeGreaterThanOrEqual(3);
        expect(step.state.context.errorStreaks['1-1']?.count).toBe(3);
      }
    }
    expect(paths.some((p) => p.steps.some((s) => s.state.matches('blocking')))).toBe(true);
  });
});
