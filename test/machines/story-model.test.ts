// Model-based test of the story machine: xstate/graph walks every reachable state with fake actor results.
import { describe, expect, it } from 'vitest';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import type { SnapshotFrom } from 'xstate';
import { storyMachine, type StoryInput } from '../../machines/story.machine.js';
import { actorFailureOutcome } from '../../machines/command.machine.js';
import type { SprintStatus, StoryStatus } from '../../machines/rules/sprint-status.js';

type StorySnapshot = SnapshotFrom<typeof storyMachine>;

const STORY = { key: '2a-1-log-parser', shortId: '2a-1', epicId: '2a' };
const INPUT: StoryInput = { story: STORY, review: { attempt: 1, patterns: [] }, control: 'run', scope: 'c1', implementationArtifacts: 'impl' };

function sprintWith(status: StoryStatus | 'absent'): SprintStatus {
  return {
    project: 'demo',
    epics: [{ key: 'epic-2a', epicId: '2a', status: 'in-progress' }],
    stories: status === 'absent' ? [] : [{ ...STORY, storyNumber: 1, rawStatus: status, status }],
  };
}

const ok = (text: string) => ({ type: 'ok', outcome: { ...actorFailureOutcome(''), ok: true, failure: null, assistantText: text } });
const failedRun = { type: 'error', error: 'no result', outcome: { ...actorFailureOutcome('no result'), failure: 'no-result' } };

/** Review texts: each names its issues, so patterns differ exactly where the issues differ. */
const REVIEWS: Record<string, string> = {
  zero: 'ZERO ISSUES',
  highA: 'HIGHEST SEVERITY: HIGH\nIssues: 0 CRITICAL, 1 HIGH, 0 MEDIUM, 0 LOW\n- [HIGH] Missing null check in src/a.ts:10',
  highB: 'HIGHEST SEVERITY: HIGH\nIssues: 0 CRITICAL, 1 HIGH, 0 MEDIUM, 0 LOW\n- [HIGH] Unbounded retry loop in src/b.ts:7',
  critical: 'HIGHEST SEVERITY: CRITICAL\nIssues: 1 CRITICAL, 0 HIGH, 0 MEDIUM, 0 LOW\n- [CRITICAL] SQL injection in src/db.ts:3',
  criticalB: 'HIGHEST SEVERITY: CRITICAL\nIssues: 1 CRITICAL, 0 HIGH, 0 MEDIUM, 0 LOW\n- [CRITICAL] Secrets written to logs in src/log.ts:9',
  unparsed: 'I looked at the code and it seems fine overall.',
};

type ReviewKind = keyof typeof REVIEWS;

function eventsFor(snapshot: StorySnapshot): any[] {
  if (snapshot.matches('readingStatus')) {
    return (['backlog', 'ready-for-dev', 'in-progress', 'review', 'done', 'blocked', 'absent'] as const).map((s) => ({
      type: 'xstate.done.actor.readStatus',
      output: sprintWith(s),
    }));
  }
  // after each attempt: the reviewer left the story in review, or set it done itself
  if (snapshot.matches('rereadingStatus')) {
    return (['review', 'done'] as const).map((s) => ({ type: 'xstate.done.actor.rereadStatus', output: sprintWith(s), reread: s }));
  }
  if (snapshot.matches('devStory')) return [{ type: 'xstate.done.actor.devStory', output: ok('') }, { type: 'xstate.done.actor.devStory', output: failedRun }];
  if (snapshot.matches('codeReview')) {
    return [
      ...Object.entries(REVIEWS).map(([kind, text]) => ({ type: 'xstate.done.actor.codeReview', output: ok(text), kind })),
      { type: 'xstate.done.actor.codeReview', output: failedRun, kind: 'failed' },
    ];
  }
  if (snapshot.matches('markingDone') || snapshot.matches('markingBlocked')) return [{ type: 'xstate.done.actor.writeStatus' }];
  return [];
}

/** The decision depends only on N and the last three patterns; fold the rest so the graph stays finite. */
function serialize(snapshot: StorySnapshot): string {
  const { review, decision, fileStatus, failure, report } = snapshot.context;
  // between an attempt and its decision (rereadingStatus) the attempt's own pattern is the third that rule 1 compares
  const pending = snapshot.matches('rereadingStatus') ? (report?.pattern ?? null) : null;
  return JSON.stringify([snapshot.value, review.attempt, review.patterns.slice(-2), pending, decision, fileStatus, failure?.command ?? null]);
}

const reviewKinds = (events: { type: string; kind?: string }[]) =>
  events.filter((e) => e.type === 'xstate.done.actor.codeReview').map((e) => e.kind as ReviewKind | 'failed');

describe('story machine model', () => {
  const paths = getShortestPaths(storyMachine, { input: INPUT, events: eventsFor, serializeState: serialize });

  it('reaches every state of the machine', () => {
    const reached = new Set(paths.map((p) => JSON.stringify(p.state.value)));
    for (const state of ['readingStatus', 'devStory', 'codeReview', 'rereadingStatus', 'markingDone', 'markingBlocked', 'skipped', 'finished', 'failed']) {
      expect([...reached].some((v) => v.includes(`"${state}"`)), state).toBe(true);
    }
  });

  it('never blocks or finishes a story against the exit rules, on any shortest path', () => {
    let blockedSeen = 0;
    for (const path of paths) {
      const snapshot = path.state;
      if (snapshot.status !== 'done') continue;
      const output = snapshot.output!;
      const events = path.steps.map((s) => s.event as { type: string; kind?: string; reread?: string });
      const reviews = reviewKinds(events).filter((k) => k !== 'failed');
      const last = reviews[reviews.length - 1];
      const rereads = events.filter((e) => e.type === 'xstate.done.actor.rereadStatus');
      const reviewerDone = rereads[rereads.length - 1]?.reread === 'done';
      if (output.type === 'ok' && output.outcome === 'done') {
        // a reviewer's own done stands whatever its text said; otherwise the exit rules decide
        expect(reviewerDone || last === 'zero' || (reviews.length >= 3 && last !== 'critical' && last !== 'unparsed'), JSON.stringify(reviews)).toBe(true);
        if (reviewerDone) expect(snapshot.context.decision).toEqual({ action: 'done', reason: 'reviewer-set-done' });
      }
      if (output.type === 'ok' && output.outcome === 'blocked') {
        expect(reviewerDone, 'a story the reviewer set done is never blocked').toBe(false);
        const tail = reviews.slice(-3);
        const repeated = tail.length === 3 && tail.every((k) => k === tail[0]);
        expect(repeated || reviews.length === 10, JSON.stringify(reviews)).toBe(true);
        blockedSeen++;
      }
      if (output.type === 'failed') {
        // a failed run keeps N: the next cycle re-runs the same code-review-N
        expect(output.review.attempt).toBe(reviews.length + 1);
      }
    }
    expect(blockedSeen).toBeGreaterThan(0);
  });

  it('uses the default model for code-review-1 and haiku from code-review-2 on', () => {
    const deep = getSimplePaths(storyMachine, {
      input: INPUT,
      events: (s) => eventsFor(s).filter((e) => !('kind' in e) || e.kind === 'highA' || e.kind === 'highB' || e.kind === 'critical'),
      serializeState: serialize,
      stopWhen: (s) => s.context.review.attempt > 4,
    });
    let checked = 0;
    for (const path of deep) {
      for (const step of path.steps) {
        const child = step.state.children['codeReview'];
        if (!child || !step.state.matches('codeReview')) continue;
        const spec = (child.getSnapshot() as { context: { spec: { model: string | null; command: string; reviewAttempt: number } } }).context.spec;
        expect(spec.command).toBe(`code-review-${spec.reviewAttempt}`);
        expect(spec.model).toBe(spec.reviewAttempt >= 2 ? 'haiku' : null);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  // Only critical issues keep the loop going past N = 3 (rule 3), so alternate two different critical ones.
  it('blocks at the hard limit of 10 when critical issues keep changing', () => {
    const alternating = getShortestPaths(storyMachine, {
      input: { ...INPUT, story: STORY },
      events: (s) => {
        if (s.matches('readingStatus')) return [{ type: 'xstate.done.actor.readStatus', output: sprintWith('review') }] as any[];
        if (s.matches('rereadingStatus')) return [{ type: 'xstate.done.actor.rereadStatus', output: sprintWith('review') }] as any[];
        if (s.matches('codeReview')) {
          const text = s.context.review.attempt % 2 === 0 ? REVIEWS.critical! : REVIEWS.criticalB!;
          return [{ type: 'xstate.done.actor.codeReview', output: ok(text) }] as any[];
        }
        return eventsFor(s);
      },
      serializeState: serialize,
    });
    const blocked = alternating.find((p) => p.state.status === 'done' && p.state.output?.type === 'ok' && p.state.output.outcome === 'blocked');
    expect(blocked?.state.context.decision).toEqual({ action: 'blocked', reason: 'hard-limit' });
    expect(blocked?.state.context.review.attempt).toBe(10);
  });
});
