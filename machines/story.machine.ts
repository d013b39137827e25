// Step 4 for one story: dev-story unless already in review, then the code-review loop with its four exit rules.
import { assign, enqueueActions, emit, fromPromise, setup } from 'xstate';
import { commandRunMachine, type CommandRunInput, type CommandRunOutput } from './command.machine.js';
import { commandRunInput } from './command-spec.js';
import { commandFailure, controlAfter, forwardToChildren } from './machine-parts.js';
import { decideReviewLoop, explainDecision, reviewModel, type CodeReviewReport } from './rules/code-review.js';
import { codeReviewVerdict, type CodeReviewVerdict } from './rules/review-verdict.js';
import type { SprintStatus } from './rules/sprint-status.js';
import { errorMessage, type CommandFailure, type CommandSuccess, type ControlEvent, type ControlMode, type ReviewProgress, type StoryRef, type WorkflowEmitted } from './types.js';

export interface StoryInput {
  story: StoryRef;
  review: ReviewProgress;
  control: ControlMode;
  /** scope for command run ids: which cycle this is */
  scope: string;
  implementationArtifacts: string;
}

export type StoryOutcome = 'done' | 'blocked' | 'skipped';

export type StoryOutput =
  | { type: 'ok'; outcome: StoryOutcome; review: ReviewProgress; successes: CommandSuccess[] }
  | { type: 'failed'; failure: CommandFailure; review: ReviewProgress; successes: CommandSuccess[] }
  | { type: 'error'; error: string; review: ReviewProgress; successes: CommandSuccess[] };

export interface WriteStoryStatusInput {
  key: string;
  status: 'done' | 'blocked';
}

type Decision = ReturnType<typeof decideReviewLoop>;

export interface StoryContext extends StoryInput {
  /** status as re-read from sprint-status before deciding (never cached across steps) */
  fileStatus: string | null;
  report: CodeReviewReport | null;
  /** where the last attempt's verdict came from (structured or text), its issue titles, any disagreement */
  verdict: Omit<CodeReviewVerdict, 'report'> | null;
  decision: Decision | null;
  outcome: StoryOutcome | null;
  failure: CommandFailure | null;
  error: string | null;
  /** commands of this story that succeeded in this cycle, in order */
  successes: CommandSuccess[];
}

/** The code-review-N command of this attempt: the invoke and the verdict events name the same run. */
function codeReviewRun(context: StoryContext): CommandRunInput {
  return commandRunInput(context, {
    kind: 'code-review',
    stories: [context.story],
    reviewAttempt: context.review.attempt,
    model: reviewModel(context.review.attempt),
  });
}

/** What names a review attempt in its verdict and decision events. */
function attemptRef(context: StoryContext) {
  const run = codeReviewRun(context);
  return { story: context.story, command: run.spec.command, runId: run.runId, attempt: context.review.attempt };
}

export const storyMachine = setup({
  types: {
    input: {} as StoryInput,
    context: {} as StoryContext,
    events: {} as ControlEvent,
    output: {} as StoryOutput,
    emitted: {} as WorkflowEmitted,
  },
  actors: {
    commandRun: commandRunMachine,
    readSprintStatus: fromPromise<SprintStatus>(async () => {
      throw new Error('readSprintStatus actor not provided');
    }),
    writeStoryStatus: fromPromise<void, WriteStoryStatusInput>(async () => {
      throw new Error('writeStoryStatus actor not provided');
    }),
  },
  guards: {
    alreadyFinished: ({ context }) => context.fileStatus === 'done' || context.fileStatus === 'blocked',
    notInFile: ({ context }) => context.fileStatus === null,
    alreadyInReview: ({ context }) => context.fileStatus === 'review',
    commandOk: (_, params: { output: CommandRunOutput }) => params.output.type === 'ok',
    decisionIs: ({ context }, params: { action: Decision['action'] }) => context.decision?.action === params.action,
    /** the file already says done: nothing to write, and the runner never writes over it */
    reviewerSetDone: ({ context }) => context.decision?.action === 'done' && context.decision.reason === 'reviewer-set-done',
  },
  actions: {
    assignControl: assign({ control: controlAfter }),
    forwardControl: enqueueActions(forwardToChildren),
    assignFileStatus: assign({
      fileStatus: ({ context }, params: { status: SprintStatus }) =>
        params.status.stories.find((s) => s.key === context.story.key)?.status ?? null,
    }),
    markSucceeded: assign({
      successes: ({ context }, params: { command: string }) => [...context.successes, { command: params.command, stories: [context.story.shortId] }],
    }),
    assignFailure: assign({ failure: (_, params: { failure: CommandFailure }) => params.failure }),
    assignError: assign({ error: (_, params: { error: string }) => params.error }),
    assignVerdict: assign((_, params: { output: CommandRunOutput }) => {
      const { report, ...verdict } = codeReviewVerdict(params.output.outcome.assistantText, params.output.outcome.result?.structuredOutput);
      return { report, verdict };
    }),
    decide: assign({
      decision: ({ context }): Decision => {
        const report = context.report!;
        // The reviewer may set the story done itself (its template says so for zero issues): that stands (spec Step 4.2).
        if (context.fileStatus === 'done') return { action: 'done', reason: 'reviewer-set-done' };
        return decideReviewLoop(context.review.attempt, [...context.review.patterns, report.pattern], report);
      },
    }),
    emitVerdict: emit(({ context }) => {
      const report = context.report!;
      return {
        type: 'review:verdict' as const,
        payload: {
          kind: 'code-review' as const,
          ...attemptRef(context),
          source: context.verdict?.source ?? 'text',
          basis: report.basis,
          highest: report.highest,
          counts: report.counts,
          zeroIssues: report.zeroIssues,
          hasCritical: report.hasCritical,
          issues: context.verdict?.issues ?? [],
          pattern: report.pattern,
          disagreement: context.verdict?.disagreement ?? null,
        },
      };
    }),
    emitDecision: emit(({ context }) => {
      const decision = context.decision!;
      return {
        type: 'review:decision' as const,
        payload: {
          ...attemptRef(context),
          action: decision.action,
          reason: 'reason' in decision ? decision.reason : 'next-attempt',
          message: explainDecision(context.review.attempt, decision, context.report!),
        },
      };
    }),
    warnVerdict: enqueueActions(({ context, enqueue }) => {
      const command = `code-review-${context.review.attempt}`;
      const disagreement = context.verdict?.disagreement;
      if (disagreement) {
        enqueue.emit({ type: 'warning', payload: { message: `${command} ${context.story.shortId}: ${disagreement}; the structured verdict decides`, story: context.story.shortId, command } });
      }
      const report = context.report;
      if (context.fileStatus === 'done' && report && !report.zeroIssues) {
        const read = report.parsed ? `reported ${report.highest ?? 'issues'}` : 'gave no verdict';
        enqueue.emit({
          type: 'warning',
          payload: { message: `${command} ${context.story.shortId}: the reviewer set the story done in sprint-status but its review ${read}; done stands`, story: context.story.shortId, command },
        });
      }
    }),
    nextAttempt: assign({
      review: ({ context }) => ({
        attempt: context.review.attempt + 1,
        patterns: [...context.review.patterns, context.report!.pattern],
      }),
    }),
    assignOutcome: assign({ outcome: (_, params: { outcome: StoryOutcome }) => params.outcome }),
    emitStatus: emit(({ context }, params: { status: 'done' | 'blocked' }) => ({
      type: 'story:status' as const,
      payload: {
        story: context.story,
        status: params.status,
        reason: context.decision && 'reason' in context.decision ? context.decision.reason : '',
      },
    })),
    warnMissing: emit(({ context }) => ({
      type: 'warning' as const,
      payload: { message: `story ${context.story.key} is no longer in sprint-status; passed over`, story: context.story.shortId },
    })),
  },
}).createMachine({
  id: 'story',
  description: 'Step 4 for one story: dev-story unless it is already in review, then code-review-N until an exit rule fires.',
  context: ({ input }) => ({
    ...input,
    fileStatus: null,
    report: null,
    verdict: null,
    decision: null,
    outcome: null,
    failure: null,
    error: null,
    successes: [],
  }),
  on: { CONTROL: { actions: ['assignControl', 'forwardControl'] } },
  initial: 'readingStatus',
  states: {
    readingStatus: {
      description: 'Re-reads sprint-status: subagents change it, so it is never cached.',
      invoke: {
        id: 'readStatus',
        src: 'readSprintStatus',
        onDone: { target: 'routing', actions: { type: 'assignFileStatus', params: ({ event }) => ({ status: event.output }) } },
        onError: { target: 'error', actions: { type: 'assignError', params: ({ event }) => ({ error: errorMessage(event.error) }) } },
      },
    },
    routing: {
      description: 'done or blocked is passed over; review goes straight to code review; anything else is developed first.',
      always: [
        { guard: 'notInFile', target: 'skipped', actions: 'warnMissing' },
        { guard: 'alreadyFinished', target: 'skipped' },
        { guard: 'alreadyInReview', target: 'codeReview' },
        { target: 'devStory' },
      ],
    },
    devStory: {
      description: 'dev-story for this story alone, default model.',
      invoke: {
        id: 'devStory',
        src: 'commandRun',
        input: ({ context }) => commandRunInput(context, { kind: 'dev-story', stories: [context.story] }),
        onDone: [
          { guard: { type: 'commandOk', params: ({ event }) => ({ output: event.output }) }, target: 'codeReview', actions: { type: 'markSucceeded', params: { command: 'dev-story' } } },
          {
            target: 'failed',
            actions: { type: 'assignFailure', params: ({ context, event }) => ({ failure: commandFailure(event.output, 'dev-story', [context.story]) }) },
          },
        ],
      },
    },
    codeReview: {
      description: 'code-review-N: default model for N = 1, haiku from N = 2. A failed run is retried later as the same N.',
      invoke: {
        id: 'codeReview',
        src: 'commandRun',
        input: ({ context }) => codeReviewRun(context),
        onDone: [
          {
            guard: { type: 'commandOk', params: ({ event }) => ({ output: event.output }) },
            target: 'rereadingStatus',
            actions: [
              { type: 'markSucceeded', params: ({ context }) => ({ command: `code-review-${context.review.attempt}` }) },
              { type: 'assignVerdict', params: ({ event }) => ({ output: event.output }) },
            ],
          },
          {
            target: 'failed',
            actions: {
              type: 'assignFailure',
              params: ({ context, event }) => ({ failure: commandFailure(event.output, `code-review-${context.review.attempt}`, [context.story]) }),
            },
          },
        ],
      },
    },
    rereadingStatus: {
      description: 'Re-reads sprint-status after the attempt: a reviewer that set the story done has decided.',
      invoke: {
        id: 'rereadStatus',
        src: 'readSprintStatus',
        onDone: { target: 'deciding', actions: { type: 'assignFileStatus', params: ({ event }) => ({ status: event.output }) } },
        onError: { target: 'error', actions: { type: 'assignError', params: ({ event }) => ({ error: errorMessage(event.error) }) } },
      },
    },
    deciding: {
      description: 'A reviewer\'s own done stands; else the loop exit rules in spec order: repeated pattern, zero issues, non-critical after 3, hard limit, else N+1.',
      entry: ['decide', 'emitVerdict', 'warnVerdict', 'emitDecision'],
      always: [
        { guard: 'reviewerSetDone', target: 'finished', actions: [{ type: 'emitStatus', params: { status: 'done' } }, { type: 'assignOutcome', params: { outcome: 'done' } }] },
        { guard: { type: 'decisionIs', params: { action: 'blocked' } }, target: 'markingBlocked' },
        { guard: { type: 'decisionIs', params: { action: 'done' } }, target: 'markingDone' },
        { target: 'codeReview', reenter: true, actions: 'nextAttempt' },
      ],
    },
    markingDone: {
      description: 'Writes `done` for this story, changing only that value in sprint-status.',
      invoke: {
        id: 'writeStatus',
        src: 'writeStoryStatus',
        input: ({ context }) => ({ key: context.story.key, status: 'done' as const }),
        onDone: { target: 'finished', actions: [{ type: 'emitStatus', params: { status: 'done' } }, { type: 'assignOutcome', params: { outcome: 'done' } }] },
        onError: { target: 'error', actions: { type: 'assignError', params: ({ event }) => ({ error: errorMessage(event.error) }) } },
      },
    },
    markingBlocked: {
      description: 'Writes `blocked` for this story: repeated error pattern or the hard limit of 10.',
      invoke: {
        id: 'writeStatus',
        src: 'writeStoryStatus',
        input: ({ context }) => ({ key: context.story.key, status: 'blocked' as const }),
        onDone: {
          target: 'finished',
          actions: [{ type: 'emitStatus', params: { status: 'blocked' } }, { type: 'assignOutcome', params: { outcome: 'blocked' } }],
        },
        onError: { target: 'error', actions: { type: 'assignError', params: ({ event }) => ({ error: errorMessage(event.error) }) } },
      },
    },
    skipped: {
      type: 'final',
      entry: { type: 'assignOutcome', params: { outcome: 'skipped' } },
    },
    finished: { type: 'final' },
    failed: { type: 'final', description: 'A command failed (spec step 5); the cycle restarts from the file.' },
    error: { type: 'final', description: 'sprint-status could not be read or written: the batch cannot go on safely.' },
  },
  output: ({ context }): StoryOutput => {
    const common = { review: context.review, successes: context.successes };
    if (context.error !== null) return { type: 'error', error: context.error, ...common };
    if (context.failure !== null) return { type: 'failed', failure: context.failure, ...common };
    return { type: 'ok', outcome: context.outcome ?? 'skipped', ...common };
  },
});
