// One cycle: Step 1 selection and pairing, the entry step, Steps 2, 2b, 3, 3b, 4 per story, and the 4c batch commit.
import { assign, emit, enqueueActions, fromPromise, sendParent, setup } from 'xstate';
import { commandRunMachine, type CommandRunOutput } from './command.machine.js';
import { commandRunInput } from './command-spec.js';
import { createRegion, reviewStep } from './cycle-steps.js';
import { commandFailure, controlAfter, forwardToChildren } from './machine-parts.js';
import { reviewMachine, type BackgroundStartEvent, type ReviewOutput } from './review.machine.js';
import { storyMachine, type StoryOutput } from './story.machine.js';
import { parseTechSpecDecisions } from './rules/markers.js';
import { selectCycle, type EntryStep } from './rules/selection.js';
import type { SprintStatus, StoryEntry } from './rules/sprint-status.js';
import {
  errorMessage,
  type CommandFailure,
  type CommandSuccess,
  type ControlEvent,
  type ControlMode,
  type ReviewProgress,
  type StoryRef,
  type WorkflowEmitted,
} from './types.js';

export interface CycleInput {
  /** 1-based number of the cycle among counted ones: cycles_completed + 1 */
  cycleNumber: number;
  /** unique per cycle run, counted or not: prefixes command run ids */
  scope: string;
  control: ControlMode;
  review: Record<string, ReviewProgress>;
  /** stories whose unexpected status was already reported in this batch (once per batch) */
  unexpectedReported: string[];
  implementationArtifacts: string;
}

export interface CycleCommon {
  review: Record<string, ReviewProgress>;
  /** commands that succeeded in this cycle, in order (they may end error streaks) */
  successes: CommandSuccess[];
  unexpectedReported: string[];
}

export type CycleOutput = CycleCommon &
  (
    | { type: 'ok' }
    | { type: 'complete'; done: number; blocked: number }
    | { type: 'failed'; failure: CommandFailure }
    | { type: 'error'; error: string }
  );

export interface InjectContextInput {
  stories: StoryRef[];
}

export interface CycleContext extends CycleInput {
  stories: StoryRef[];
  /** Step 4c: the cycle's stories that are not blocked */
  commitStories: StoryRef[];
  entryStep: EntryStep | null;
  complete: { done: number; blocked: number } | null;
  createStoryText: string;
  techSpecNeeded: boolean;
  storyIndex: number;
  successes: CommandSuccess[];
  failure: CommandFailure | null;
  error: string | null;
}

type Selection = ReturnType<typeof selectCycle>;

const toRef = (s: StoryEntry): StoryRef => ({ key: s.key, shortId: s.shortId, epicId: s.epicId });

export const cycleMachine = setup({
  types: {
    input: {} as CycleInput,
    context: {} as CycleContext,
    events: {} as ControlEvent | BackgroundStartEvent,
    output: {} as CycleOutput,
    emitted: {} as WorkflowEmitted,
  },
  actors: {
    commandRun: commandRunMachine,
    review: reviewMachine,
    story: storyMachine,
    readSprintStatus: fromPromise<SprintStatus>(async () => {
      throw new Error('readSprintStatus actor not provided');
    }),
    injectProjectContext: fromPromise<{ warnings: string[] }, InjectContextInput>(async () => {
      throw new Error('injectProjectContext actor not provided');
    }),
  },
  guards: {
    sprintComplete: ({ context }) => context.complete !== null,
    entryIs: ({ context }, params: { step: EntryStep }) => context.entryStep === params.step,
    commandOk: (_, params: { output: CommandRunOutput }) => params.output.type === 'ok',
    reviewOk: (_, params: { output: ReviewOutput }) => params.output.type === 'ok',
    storyOutputIs: (_, params: { output: StoryOutput; type: StoryOutput['type'] }) => params.output.type === params.type,
    hasFailure: ({ context }) => context.failure !== null,
    techSpecNeeded: ({ context }) => context.techSpecNeeded,
    storiesLeft: ({ context }) => context.storyIndex < context.stories.length,
    nothingToCommit: ({ context }) => context.commitStories.length === 0,
  },
  actions: {
    assignControl: assign({ control: controlAfter }),
    forwardControl: enqueueActions(forwardToChildren),
    forwardToBatch: sendParent(({ event }) => event),
    assignSelection: assign((_, params: { selection: Selection }) => {
      const { selection } = params;
      return selection.kind === 'complete'
        ? { complete: { done: selection.done, blocked: selection.blocked }, stories: [], entryStep: null }
        : { complete: null, stories: selection.stories.map(toRef), entryStep: selection.entryStep };
    }),
    // An unexpected status is reported once per batch for that story (spec Step 1).
    reportNewUnexpected: enqueueActions(({ context, enqueue }, params: { selection: Selection }) => {
      const fresh = params.selection.unexpected.filter((s) => !context.unexpectedReported.includes(s.key));
      if (fresh.length === 0) return;
      for (const story of fresh) {
        enqueue.emit({
          type: 'error',
          payload: {
            scope: 'sprint-status',
            story: story.shortId,
            message: `story ${story.key} has unexpected status "${story.rawStatus}"; passed over`,
          },
        });
      }
      enqueue.assign({ unexpectedReported: [...context.unexpectedReported, ...fresh.map((s) => s.key)] });
    }),
    emitCycleStart: emit(({ context }) => ({
      type: 'cycle:start' as const,
      payload: { cycle: context.cycleNumber, stories: context.stories, entryStep: context.entryStep ?? '' },
    })),
    emitCycleEnd: emit(({ context }) => ({
      type: 'cycle:end' as const,
      payload: {
        cycle: context.cycleNumber,
        counted: context.failure === null && context.error === null,
        stories: context.stories.map((s) => s.shortId),
        failure: context.failure,
      },
    })),
    markSucceeded: assign({
      successes: ({ context }, params: { command: string }) => [
        ...context.successes,
        { command: params.command, stories: context.stories.map((s) => s.shortId) },
      ],
    }),
    assignCommandFailure: assign({
      failure: ({ context }, params: { output: CommandRunOutput; command: string }) => commandFailure(params.output, params.command, context.stories),
    }),
    /** the review and story machines report their failure in their output */
    assignOutputFailure: assign({
      failure: ({ context }, params: { output: { type: string; failure?: CommandFailure } }) => params.output.failure ?? context.failure,
    }),
    assignError: assign({ error: (_, params: { error: string }) => params.error }),
    assignCreateText: assign({ createStoryText: (_, params: { output: CommandRunOutput }) => params.output.outcome.assistantText }),
    decideTechSpec: enqueueActions(({ context, enqueue }) => {
      const decisions = parseTechSpecDecisions(context.createStoryText, context.stories.map((s) => s.shortId));
      enqueue.assign({ techSpecNeeded: decisions.needed });
      if (decisions.missing.length > 0) {
        enqueue.emit({
          type: 'warning',
          payload: { message: `no tech-spec decision for ${decisions.missing.join(', ')}; treated as REQUIRED`, command: 'create-story' },
        });
      }
    }),
    emitWarnings: enqueueActions(({ enqueue }, params: { messages: string[] }) => {
      for (const message of params.messages) enqueue.emit({ type: 'warning', payload: { message } });
    }),
    emitError: emit((_, params: { message: string; command?: string }) => ({
      type: 'error' as const,
      payload: { scope: 'cycle', message: params.message, ...(params.command ? { command: params.command } : {}) },
    })),
    recordStory: assign(({ context }, params: { output: StoryOutput }) => {
      const story = context.stories[context.storyIndex]!;
      return {
        review: { ...context.review, [story.shortId]: params.output.review },
        successes: [...context.successes, ...params.output.successes],
        storyIndex: context.storyIndex + 1,
      };
    }),
    assignCommitStories: assign({
      commitStories: ({ context }, params: { status: SprintStatus }) => completedStories(context.stories, params.status),
    }),
  },
}).createMachine({
  id: 'cycle',
  description: 'One cycle of the sprint: pick one story or a pair, run it from its entry step through code review, then commit.',
  context: ({ input }) => ({
    ...input,
    stories: [],
    commitStories: [],
    entryStep: null,
    complete: null,
    createStoryText: '',
    techSpecNeeded: false,
    storyIndex: 0,
    successes: [],
    failure: null,
    error: null,
  }),
  on: {
    CONTROL: { actions: ['assignControl', 'forwardControl'] },
    'BACKGROUND.START': { actions: 'forwardToBatch' },
  },
  initial: 'selecting',
  states: {
    selecting: {
      description: 'Step 1: re-read sprint-status and pick the first eligible story and, with the same epic and entry step, the next one.',
      invoke: {
        id: 'readStatus',
        src: 'readSprintStatus',
        onDone: {
          target: 'routing',
          actions: [
            { type: 'assignSelection', params: ({ event }) => ({ selection: selectCycle(event.output) }) },
            { type: 'reportNewUnexpected', params: ({ event }) => ({ selection: selectCycle(event.output) }) },
          ],
        },
        onError: { target: 'error', actions: { type: 'assignError', params: ({ event }) => ({ error: errorMessage(event.error) }) } },
      },
    },
    routing: {
      description: 'The entry step comes from the first story\'s status: backlog creates, ready-for-dev specs, in-progress or review develops.',
      always: [
        { guard: 'sprintComplete', target: 'sprintComplete' },
        { guard: { type: 'entryIs', params: { step: 'create' } }, target: 'creating', actions: 'emitCycleStart' },
        { guard: { type: 'entryIs', params: { step: 'tech-spec' } }, target: 'techSpec', actions: 'emitCycleStart' },
        { target: 'developing', actions: 'emitCycleStart' },
      ],
    },
    creating: {
      description: 'Step 2: create-story and story-discovery run in parallel on all the cycle\'s stories; both are awaited.',
      type: 'parallel',
      states: {
        createStory: createRegion('createStory', 'create-story'),
        storyDiscovery: createRegion('storyDiscovery', 'story-discovery'),
      },
      onDone: [{ guard: 'hasFailure', target: 'failed' }, { target: 'injectingContext' }],
    },
    injectingContext: {
      description: 'Appends the project context to each story\'s discovery file, once.',
      invoke: {
        id: 'injectContext',
        src: 'injectProjectContext',
        input: ({ context }) => ({ stories: context.stories }),
        onDone: {
          target: 'decidingTechSpec',
          actions: { type: 'emitWarnings', params: ({ event }) => ({ messages: event.output.warnings }) },
        },
        onError: {
          target: 'decidingTechSpec',
          actions: { type: 'emitError', params: ({ event }) => ({ message: `project context injection failed: ${errorMessage(event.error)}` }) },
        },
      },
    },
    decidingTechSpec: {
      description: 'Reads [TECH-SPEC-DECISION: ...] markers from create-story\'s whole assistant text, per story.',
      entry: 'decideTechSpec',
      always: 'storyReview',
    },
    storyReview: {
      description: 'Step 2b: story-review-1, then maybe the background chain.',
      invoke: reviewStep('story-review', 'routingAfterReview'),
    },
    routingAfterReview: {
      always: [{ guard: 'techSpecNeeded', target: 'techSpec' }, { target: 'developing' }],
    },
    techSpec: {
      description: 'Step 3: create-tech-spec on all the cycle\'s stories.',
      invoke: {
        id: 'createTechSpec',
        src: 'commandRun',
        input: ({ context }) => commandRunInput(context, { kind: 'create-tech-spec', stories: context.stories }),
        onDone: [
          {
            guard: { type: 'commandOk', params: ({ event }) => ({ output: event.output }) },
            target: 'techSpecReview',
            actions: { type: 'markSucceeded', params: { command: 'create-tech-spec' } },
          },
          { target: 'failed', actions: { type: 'assignCommandFailure', params: ({ event }) => ({ output: event.output, command: 'create-tech-spec' }) } },
        ],
      },
    },
    techSpecReview: {
      description: 'Step 3b: tech-spec-review-1, then maybe the background chain; always on to Step 4.',
      invoke: reviewStep('tech-spec-review', 'developing'),
    },
    developing: {
      description: 'Step 4: each story in order, one after the other.',
      initial: 'nextStory',
      states: {
        nextStory: {
          always: [{ guard: 'storiesLeft', target: 'story' }, { target: '#cycle.committing' }],
        },
        story: {
          invoke: {
            id: 'story',
            src: 'story',
            input: ({ context }) => {
              const story = context.stories[context.storyIndex]!;
              return {
                story,
                review: context.review[story.shortId] ?? { attempt: 1, patterns: [] },
                control: context.control,
                scope: context.scope,
                implementationArtifacts: context.implementationArtifacts,
              };
            },
            onDone: [
              {
                guard: { type: 'storyOutputIs', params: ({ event }) => ({ output: event.output, type: 'ok' }) },
                target: 'nextStory',
                actions: { type: 'recordStory', params: ({ event }) => ({ output: event.output }) },
              },
              {
                guard: { type: 'storyOutputIs', params: ({ event }) => ({ output: event.output, type: 'failed' }) },
                target: '#cycle.failed',
                actions: [
                  { type: 'recordStory', params: ({ event }) => ({ output: event.output }) },
                  { type: 'assignOutputFailure', params: ({ event }) => ({ output: event.output }) },
                ],
              },
              {
                target: '#cycle.error',
                actions: [
                  { type: 'recordStory', params: ({ event }) => ({ output: event.output }) },
                  {
                    type: 'assignError',
                    params: ({ event }) => ({ error: (event.output as Extract<StoryOutput, { type: 'error' }>).error }),
                  },
                ],
              },
            ],
          },
        },
      },
    },
    committing: {
      description: 'Step 4c: completed = the cycle\'s stories that are not blocked, as the file now says.',
      invoke: {
        id: 'readStatus',
        src: 'readSprintStatus',
        onDone: {
          target: 'decidingCommit',
          actions: { type: 'assignCommitStories', params: ({ event }) => ({ status: event.output }) },
        },
        onError: { target: 'error', actions: { type: 'assignError', params: ({ event }) => ({ error: errorMessage(event.error) }) } },
      },
    },
    decidingCommit: {
      always: [{ guard: 'nothingToCommit', target: 'counted' }, { target: 'batchCommit' }],
    },
    batchCommit: {
      description: 'The batch-commit subagent on the completed stories. Its failure is an error event; the cycle stays counted.',
      invoke: {
        id: 'batchCommit',
        src: 'commandRun',
        input: ({ context }) => commandRunInput(context, { kind: 'batch-commit', stories: context.commitStories }),
        onDone: [
          { guard: { type: 'commandOk', params: ({ event }) => ({ output: event.output }) }, target: 'counted' },
          {
            target: 'counted',
            actions: {
              type: 'emitError',
              params: ({ event }) => ({
                message: `batch-commit failed: ${event.output.type === 'error' ? event.output.error : ''}`,
                command: 'batch-commit',
              }),
            },
          },
        ],
      },
    },
    counted: { type: 'final', entry: 'emitCycleEnd' },
    sprintComplete: { type: 'final', description: 'No eligible story is left.' },
    failed: { type: 'final', entry: 'emitCycleEnd', description: 'A command failed: the batch counts the error and starts Step 1 again.' },
    error: { type: 'final', entry: 'emitCycleEnd', description: 'sprint-status could not be read or written.' },
  },
  output: ({ context }): CycleOutput => {
    const common: CycleCommon = { review: context.review, successes: context.successes, unexpectedReported: context.unexpectedReported };
    if (context.error !== null) return { type: 'error', error: context.error, ...common };
    if (context.failure !== null) return { type: 'failed', failure: context.failure, ...common };
    if (context.complete !== null) return { type: 'complete', ...context.complete, ...common };
    return { type: 'ok', ...common };
  },
});

function completedStories(stories: readonly StoryRef[], status: SprintStatus): StoryRef[] {
  return stories.filter((s) => status.stories.find((e) => e.key === s.key)?.status !== 'blocked');
}
