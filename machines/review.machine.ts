// Steps 2b / 3b: review-1 on all the cycle's stories, then fork the background review chain when it found critical issues.
import { assign, enqueueActions, emit, sendParent, setup } from 'xstate';
import { commandRunMachine, type CommandRunOutput } from './command.machine.js';
import { buildCommandSpec, commandRunInput } from './command-spec.js';
import { commandFailure, controlAfter, forwardToChildren } from './machine-parts.js';
import { storyReviewVerdict, type StoryReviewVerdict } from './rules/review-verdict.js';
import type { CommandFailure, CommandSpec, ControlEvent, ControlMode, StoryRef, WorkflowEmitted } from './types.js';

export type ReviewType = 'story-review' | 'tech-spec-review';

export interface ReviewInput {
  reviewType: ReviewType;
  stories: StoryRef[];
  control: ControlMode;
  scope: string;
  implementationArtifacts: string;
}

/** Sent up the tree to the batch, which owns background tasks so they outlive this cycle. */
export type BackgroundStartEvent = { type: 'BACKGROUND.START'; spec: CommandSpec; scope: string };

export type ReviewOutput =
  | { type: 'ok'; critical: boolean }
  | { type: 'failed'; failure: CommandFailure };

export interface ReviewContext extends ReviewInput {
  critical: boolean;
  markerFound: boolean;
  /** review-1's verdict: structured or text, per story, and any disagreement between the two */
  verdict: StoryReviewVerdict | null;
  failure: CommandFailure | null;
}

export const reviewMachine = setup({
  types: {
    input: {} as ReviewInput,
    context: {} as ReviewContext,
    events: {} as ControlEvent,
    output: {} as ReviewOutput,
    emitted: {} as WorkflowEmitted,
  },
  actors: { commandRun: commandRunMachine },
  guards: {
    commandOk: (_, params: { output: CommandRunOutput }) => params.output.type === 'ok',
    critical: ({ context }) => context.critical,
    markerMissing: ({ context }) => !context.markerFound,
  },
  actions: {
    assignControl: assign({ control: controlAfter }),
    forwardControl: enqueueActions(forwardToChildren),
    assignVerdict: assign(({ context }, params: { output: CommandRunOutput }) => {
      const { outcome } = params.output;
      const verdict = storyReviewVerdict(outcome.assistantText, outcome.result?.structuredOutput, context.stories.map((s) => s.shortId));
      return { critical: verdict.critical, markerFound: verdict.markerFound, verdict };
    }),
    emitVerdict: enqueueActions(({ context, enqueue }) => {
      const verdict = context.verdict;
      if (verdict === null) return;
      const run = commandRunInput(context, { kind: context.reviewType, stories: context.stories, reviewAttempt: 1 });
      enqueue.emit({
        type: 'review:verdict',
        payload: {
          kind: context.reviewType,
          stories: context.stories,
          command: run.spec.command,
          runId: run.runId,
          source: verdict.source,
          critical: verdict.critical,
          markerFound: verdict.markerFound,
          perStory: verdict.perStory,
          disagreement: verdict.disagreement,
        },
      });
      if (verdict.disagreement) {
        enqueue.emit({
          type: 'warning',
          payload: { message: `${run.spec.command}: ${verdict.disagreement}; the structured verdict decides`, command: run.spec.command },
        });
      }
    }),
    assignFailure: assign({
      failure: ({ context }, params: { output: CommandRunOutput }) => commandFailure(params.output, `${context.reviewType}-1`, context.stories),
    }),
    warnNoMarker: emit(({ context }) => ({
      type: 'warning' as const,
      payload: {
        message: `${context.reviewType}-1 printed no critical-issues marker; treated as critical`,
        command: `${context.reviewType}-1`,
      },
    })),
    startBackgroundChain: sendParent(({ context }): BackgroundStartEvent => ({
      type: 'BACKGROUND.START',
      scope: context.scope,
      spec: buildCommandSpec({
        kind: 'background-review-chain',
        stories: context.stories,
        implementationArtifacts: context.implementationArtifacts,
        model: 'haiku',
        background: true,
        chain: { reviewType: context.reviewType, promptFile: `prompts/${context.reviewType}.md` },
      }),
    })),
  },
}).createMachine({
  id: 'review',
  description: 'Review-1 of the cycle\'s stories; critical issues fork one background chain that the main flow never waits for.',
  context: ({ input }) => ({ ...input, critical: false, markerFound: false, verdict: null, failure: null }),
  on: { CONTROL: { actions: ['assignControl', 'forwardControl'] } },
  initial: 'reviewing',
  states: {
    reviewing: {
      description: 'story-review-1 or tech-spec-review-1, default model, all the cycle\'s stories.',
      invoke: {
        id: 'review1',
        src: 'commandRun',
        input: ({ context }) => commandRunInput(context, { kind: context.reviewType, stories: context.stories, reviewAttempt: 1 }),
        onDone: [
          {
            guard: { type: 'commandOk', params: ({ event }) => ({ output: event.output }) },
            target: 'deciding',
            actions: { type: 'assignVerdict', params: ({ event }) => ({ output: event.output }) },
          },
          { target: 'failed', actions: { type: 'assignFailure', params: ({ event }) => ({ output: event.output }) } },
        ],
      },
    },
    deciding: {
      description: 'Any CRITICAL ISSUES FOUND: n > 0 (or a structured count), or no marker at all, is critical.',
      entry: 'emitVerdict',
      always: [
        { guard: 'markerMissing', target: 'forkingChain', actions: 'warnNoMarker' },
        { guard: 'critical', target: 'forkingChain' },
        { target: 'reviewed' },
      ],
    },
    forkingChain: {
      description: 'Hands the background chain (haiku) to the batch, which owns it; the main flow goes on at once.',
      entry: 'startBackgroundChain',
      always: 'reviewed',
    },
    reviewed: { type: 'final' },
    failed: { type: 'final', description: 'review-1 failed (spec step 5).' },
  },
  output: ({ context }): ReviewOutput =>
    context.failure ? { type: 'failed', failure: context.failure } : { type: 'ok', critical: context.critical },
});
