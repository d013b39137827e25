// The batch: Step 0 project context, cycles until the count or the sprint is done, Step 5 error counting, Step 6, background tasks.
import { assign, emit, enqueueActions, fromCallback, fromPromise, setup, stopChild } from 'xstate';
import { commandRunMachine, type CommandRunOutput, type UsageLimitEvent } from './command.machine.js';
import { buildCommandSpec, commandRunId, commandRunInput } from './command-spec.js';
import { childrenOf } from './machine-parts.js';
import { cycleMachine, type CycleOutput } from './cycle.machine.js';
import type { BackgroundStartEvent } from './review.machine.js';
import type { WriteStoryStatusInput } from './story.machine.js';
import { MAX_CONSECUTIVE_ERRORS, recordFailure, recordSuccess, type ErrorStreaks } from './rules/errors.js';
import {
  errorMessage,
  type CommandFailure,
  type CommandSpec,
  type ControlEvent,
  type ControlMode,
  type ReviewProgress,
  type StoryRef,
  type WorkflowEmitted,
} from './types.js';

export type MaxCycles = number | 'all';

export interface BatchInput {
  maxCycles: MaxCycles;
  implementationArtifacts: string;
}

/** spec Step 0: how old the project context is */
export type ProjectContextState = 'missing' | 'stale' | 'fresh';

export interface BackgroundTask {
  id: string;
  runId: string;
  command: string;
  stories: string[];
  status: 'running' | 'ok' | 'failed';
  message: string;
}

export interface BatchFailureRecord extends CommandFailure {
  scope: string;
}

export type BatchOutput =
  | { type: 'ok'; status: 'completed'; message: string; cyclesCompleted: number }
  | { type: 'error'; error: string; cyclesCompleted: number };

export interface BatchContext extends BatchInput {
  /** what every child is told: the operator's wish, held at pause while a usage limit lasts */
  control: ControlMode;
  /** what the operator asked for last */
  operator: ControlMode;
  /** epoch ms until which the account's usage limit holds every command; null when none */
  limitUntil: number | null;
  cyclesCompleted: number;
  /** every cycle run, counted or not; names command runs uniquely */
  cycleSeq: number;
  review: Record<string, ReviewProgress>;
  /** Step 5 per story: consecutive errors and the command failing; they survive restarts */
  errorStreaks: ErrorStreaks;
  /** the last failures, newest last (bounded) */
  errorHistory: BatchFailureRecord[];
  unexpectedReported: string[];
  background: BackgroundTask[];
  /** stories the third consecutive error blocks, written one by one */
  pendingBlocks: StoryRef[];
  endMessage: string;
  error: string | null;
}

const ERROR_HISTORY_LIMIT = 200;

type BackgroundDoneEvent = { type: `xstate.done.actor.bg.${number}`; output: CommandRunOutput };
type LimitElapsedEvent = { type: 'LIMIT.ELAPSED'; until: number };

/** The largest delay setTimeout accepts; longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Waits for an absolute time. A callback actor is restarted on restore, so the wait survives a restart. */
export const waitUntilActor = fromCallback<{ type: 'never' }, { until: number }>(({ input, sendBack }) => {
  let timer: ReturnType<typeof setTimeout>;
  const arm = () => {
    const left = input.until - Date.now();
    if (left <= 0) return sendBack({ type: 'LIMIT.ELAPSED', until: input.until } satisfies LimitElapsedEvent);
    timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
  };
  arm();
  return () => clearTimeout(timer);
});

const effectiveControl = (operator: ControlMode, limitUntil: number | null): ControlMode =>
  operator === 'run' && limitUntil !== null ? 'pause' : operator;

export const batchMachine = setup({
  types: {
    input: {} as BatchInput,
    context: {} as BatchContext,
    events: {} as ControlEvent | BackgroundStartEvent | BackgroundDoneEvent | UsageLimitEvent | LimitElapsedEvent,
    output: {} as BatchOutput,
    emitted: {} as WorkflowEmitted,
  },
  actors: {
    cycle: cycleMachine,
    commandRun: commandRunMachine,
    waitUntil: waitUntilActor,
    checkProject: fromPromise<void>(async () => {
      throw new Error('checkProject actor not provided');
    }),
    checkProjectContext: fromPromise<ProjectContextState>(async () => {
      throw new Error('checkProjectContext actor not provided');
    }),
    writeStoryStatus: fromPromise<void, WriteStoryStatusInput>(async () => {
      throw new Error('writeStoryStatus actor not provided');
    }),
  },
  guards: {
    contextIs: (_, params: { state: ProjectContextState; actual: ProjectContextState }) => params.state === params.actual,
    commandOk: (_, params: { output: CommandRunOutput }) => params.output.type === 'ok',
    cycleIs: (_, params: { output: CycleOutput; type: CycleOutput['type'] }) => params.output.type === params.type,
    reachedMaxCycles: ({ context }) => context.maxCycles !== 'all' && context.cyclesCompleted >= context.maxCycles,
    blocksPending: ({ context }) => context.pendingBlocks.length > 0,
    backgroundIdle: ({ context }) => context.background.every((task) => task.status !== 'running'),
  },
  actions: {
    assignControl: assign(({ context, event }) => {
      const operator = event.type === 'CONTROL' ? event.mode : context.operator;
      return { operator, control: effectiveControl(operator, context.limitUntil) };
    }),
    /** children hear the effective control: a usage limit holds them even while the operator says run */
    forwardControl: enqueueActions(({ enqueue, context, self }) => {
      for (const child of childrenOf(self)) if (!child.id.startsWith('limit')) enqueue.sendTo(child, { type: 'CONTROL', mode: context.control });
    }),
    // The newest reset time wins: if the CLI moves it, the wait follows it.
    startLimitWait: enqueueActions(({ context, enqueue, event }) => {
      if (event.type !== 'USAGE_LIMIT') return;
      if (context.limitUntil !== null) enqueue(stopChild('limitTimer'));
      enqueue.assign({ limitUntil: event.until, control: effectiveControl(context.operator, event.until) });
      enqueue.spawnChild('waitUntil', { id: 'limitTimer', input: { until: event.until } });
      enqueue.emit({ type: 'usage-limit', payload: { until: event.until, command: event.command } });
    }),
    endLimitWait: enqueueActions(({ context, enqueue, event }) => {
      // a timer for an older reset time is stale once the reset moved
      if (event.type !== 'LIMIT.ELAPSED' || event.until !== context.limitUntil) return;
      enqueue(stopChild('limitTimer'));
      enqueue.assign({ limitUntil: null, control: context.operator });
      enqueue.emit({ type: 'usage-limit-end', payload: { until: event.until } });
    }),
    emitBatchStart: emit(({ context }) => ({ type: 'batch:start' as const, payload: { maxCycles: context.maxCycles } })),
    emitError: emit((_, params: { message: string; command?: string; story?: string }) => ({
      type: 'error' as const,
      payload: { scope: 'batch', ...params },
    })),
    startBackground: enqueueActions(({ context, enqueue }, params: { spec: CommandSpec; scope: string }) => {
      const id = `bg.${context.background.length + 1}`;
      const runId = commandRunId(`${params.scope}/bg`, params.spec);
      enqueue.spawnChild('commandRun', { id, input: { spec: params.spec, runId, control: context.control } });
      enqueue.assign({
        background: [
          ...context.background,
          {
            id,
            runId,
            command: params.spec.command,
            stories: params.spec.stories.map((s) => s.shortId),
            status: 'running',
            message: '',
          },
        ],
      });
    }),
    // A background task's failure is recorded and never changes the main flow (spec step 5).
    finishBackground: enqueueActions(({ context, enqueue, event }) => {
      if (!('output' in event)) return;
      const id = event.type.slice('xstate.done.actor.'.length);
      const output = event.output as CommandRunOutput;
      const failed = output.type === 'error';
      enqueue.assign({
        background: context.background.map((task) =>
          task.id === id ? { ...task, status: failed ? 'failed' : 'ok', message: output.outcome.message } : task,
        ),
      });
      const task = context.background.find((t) => t.id === id);
      if (failed && task) {
        enqueue.emit({
          type: 'error',
          payload: { scope: 'background', command: task.command, message: `background ${task.command} failed: ${output.error}` },
        });
      }
    }),
    beginCycle: assign({ cycleSeq: ({ context }) => context.cycleSeq + 1 }),
    /** The cycle's successes (in order) may end error streaks before its failure, if any, counts. */
    absorbCycle: enqueueActions(({ context, enqueue }, params: { output: CycleOutput }) => {
      const { output } = params;
      let streaks = output.successes.reduce((acc, success) => recordSuccess(acc, success.stories, success.command), context.errorStreaks);
      let newlyBlocked: string[] = [];
      const updates: Partial<BatchContext> = {
        review: output.review,
        unexpectedReported: output.unexpectedReported,
      };
      if (output.type === 'failed') {
        const recorded = recordFailure(streaks, output.failure.stories.map((s) => s.shortId), output.failure.command);
        streaks = recorded.streaks;
        newlyBlocked = recorded.newlyBlocked;
        updates.errorHistory = [...context.errorHistory, { ...output.failure, scope: `c${context.cycleSeq}` }].slice(-ERROR_HISTORY_LIMIT);
        enqueue.emit({
          type: 'error',
          payload: {
            scope: 'command',
            command: output.failure.command,
            story: output.failure.stories.map((s) => s.shortId).join(','),
            message: `${output.failure.command} failed (${output.failure.reason}): ${output.failure.message}`,
          },
        });
      }
      if (output.type === 'ok') updates.cyclesCompleted = context.cyclesCompleted + 1;
      updates.errorStreaks = streaks;
      if (output.type === 'failed') {
        updates.pendingBlocks = output.failure.stories.filter((s) => newlyBlocked.includes(s.shortId));
      }
      enqueue.assign(updates);
    }),
    assignEnd: assign({ endMessage: (_, params: { message: string }) => params.message }),
    assignError: assign({ error: (_, params: { error: string }) => params.error }),
    shiftBlock: assign({ pendingBlocks: ({ context }) => context.pendingBlocks.slice(1) }),
    emitBlocked: emit(({ context }) => ({
      type: 'story:status' as const,
      payload: {
        story: context.pendingBlocks[0]!,
        status: 'blocked' as const,
        reason: `${MAX_CONSECUTIVE_ERRORS} consecutive errors`,
      },
    })),
    emitBatchEnd: emit(({ context }) => ({
      type: 'batch:end' as const,
      payload:
        context.error !== null
          ? { status: 'error' as const, message: context.error, cyclesCompleted: context.cyclesCompleted }
          : { status: 'completed' as const, message: context.endMessage, cyclesCompleted: context.cyclesCompleted },
    })),
  },
}).createMachine({
  id: 'batch',
  description: 'A batch of cycles started by the operator with a count or all; it ends completed or in error, never silently.',
  context: ({ input }) => ({
    ...input,
    control: 'run',
    operator: 'run',
    limitUntil: null,
    cyclesCompleted: 0,
    cycleSeq: 0,
    review: {},
    errorStreaks: {},
    errorHistory: [],
    unexpectedReported: [],
    background: [],
    pendingBlocks: [],
    endMessage: '',
    error: null,
  }),
  on: {
    CONTROL: { actions: ['assignControl', 'forwardControl'] },
    USAGE_LIMIT: { actions: ['startLimitWait', 'forwardControl'] },
    'LIMIT.ELAPSED': { actions: ['endLimitWait', 'forwardControl'] },
    'BACKGROUND.START': { actions: { type: 'startBackground', params: ({ event }) => ({ spec: event.spec, scope: event.scope }) } },
    'xstate.done.actor.bg.*': { actions: 'finishBackground' },
  },
  initial: 'preflight',
  states: {
    preflight: {
      description: 'Checks templates, taxonomy and folders before anything is spawned.',
      entry: 'emitBatchStart',
      invoke: {
        id: 'checkProject',
        src: 'checkProject',
        onDone: 'projectContext',
        onError: { target: 'failed', actions: { type: 'assignError', params: ({ event }) => ({ error: errorMessage(event.error) }) } },
      },
    },
    projectContext: {
      description: 'Step 0: a missing context is generated and awaited; one older than 24 h is refreshed in the background.',
      invoke: {
        id: 'checkProjectContext',
        src: 'checkProjectContext',
        onDone: [
          { guard: { type: 'contextIs', params: ({ event }) => ({ state: 'missing', actual: event.output }) }, target: 'generatingContext' },
          {
            guard: { type: 'contextIs', params: ({ event }) => ({ state: 'stale', actual: event.output }) },
            target: 'cycling',
            actions: {
              type: 'startBackground',
              params: ({ context }) => ({
                spec: buildCommandSpec({ kind: 'project-context', stories: [], implementationArtifacts: context.implementationArtifacts, background: true }),
                scope: 'batch',
              }),
            },
          },
          { target: 'cycling' },
        ],
        onError: {
          target: 'cycling',
          actions: { type: 'emitError', params: ({ event }) => ({ message: `project context check failed: ${errorMessage(event.error)}` }) },
        },
      },
    },
    generatingContext: {
      description: 'The project-context subagent; its failure is an error event and the batch goes on without it.',
      invoke: {
        id: 'projectContext',
        src: 'commandRun',
        input: ({ context }) => commandRunInput({ ...context, scope: 'batch' }, { kind: 'project-context', stories: [] }),
        onDone: [
          { guard: { type: 'commandOk', params: ({ event }) => ({ output: event.output }) }, target: 'cycling' },
          {
            target: 'cycling',
            actions: {
              type: 'emitError',
              params: ({ event }) => ({ message: `project-context failed: ${event.output.type === 'error' ? event.output.error : ''}`, command: 'project-context' }),
            },
          },
        ],
      },
    },
    cycling: {
      description: 'One cycle runs; its output decides what comes next.',
      entry: 'beginCycle',
      invoke: {
        id: 'cycle',
        src: 'cycle',
        input: ({ context }) => ({
          cycleNumber: context.cyclesCompleted + 1,
          scope: `c${context.cycleSeq}`,
          control: context.control,
          review: context.review,
          unexpectedReported: context.unexpectedReported,
          implementationArtifacts: context.implementationArtifacts,
        }),
        onDone: [
          {
            guard: { type: 'cycleIs', params: ({ event }) => ({ output: event.output, type: 'complete' }) },
            target: 'finishing',
            actions: [
              { type: 'absorbCycle', params: ({ event }) => ({ output: event.output }) },
              {
                type: 'assignEnd',
                params: ({ event }) => {
                  const out = event.output as Extract<CycleOutput, { type: 'complete' }>;
                  return { message: `Sprint complete: ${out.done} done, ${out.blocked} blocked` };
                },
              },
            ],
          },
          {
            guard: { type: 'cycleIs', params: ({ event }) => ({ output: event.output, type: 'error' }) },
            target: 'failed',
            actions: [
              { type: 'absorbCycle', params: ({ event }) => ({ output: event.output }) },
              { type: 'assignError', params: ({ event }) => ({ error: (event.output as Extract<CycleOutput, { type: 'error' }>).error }) },
            ],
          },
          { target: 'afterCycle', actions: { type: 'absorbCycle', params: ({ event }) => ({ output: event.output }) } },
        ],
      },
    },
    afterCycle: {
      description: 'Step 5 blocks stories at their third consecutive error; Step 6 ends a fixed batch at its count.',
      always: [
        { guard: 'blocksPending', target: 'blocking' },
        { guard: 'reachedMaxCycles', target: 'finishing', actions: { type: 'assignEnd', params: { message: 'Batch complete' } } },
        { target: 'cycling' },
      ],
    },
    blocking: {
      description: 'Writes `blocked` for a story that failed three times in a row.',
      invoke: {
        id: 'writeStatus',
        src: 'writeStoryStatus',
        input: ({ context }) => ({ key: context.pendingBlocks[0]!.key, status: 'blocked' as const }),
        onDone: { target: 'afterCycle', actions: ['emitBlocked', 'shiftBlock'] },
        onError: { target: 'failed', actions: { type: 'assignError', params: ({ event }) => ({ error: errorMessage(event.error) }) } },
      },
    },
    finishing: {
      description: 'Before a batch ends it waits for its background tasks.',
      always: { guard: 'backgroundIdle', target: 'completed' },
    },
    completed: { type: 'final', entry: 'emitBatchEnd' },
    failed: { type: 'final', entry: 'emitBatchEnd' },
  },
  output: ({ context }): BatchOutput =>
    context.error !== null
      ? { type: 'error', error: context.error, cyclesCompleted: context.cyclesCompleted }
      : { type: 'ok', status: 'completed', message: context.endMessage, cyclesCompleted: context.cyclesCompleted },
});
