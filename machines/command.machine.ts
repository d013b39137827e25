// One workflow step's command: waits while paused, runs the claude child, and after a stop runs it again as a new attempt.
import { assign, emit, enqueueActions, sendTo, setup, fromCallback } from 'xstate';
import type { ClaudeProcessMessage, CommandOutcome } from './claude/types.js';
import type { CommandProgress, CommandSpec, ControlEvent, ControlMode, WorkflowEmitted } from './types.js';

export interface CommandRunInput {
  spec: CommandSpec;
  runId: string;
  control: ControlMode;
}

export interface ClaudeCommandInput {
  spec: CommandSpec;
  runId: string;
  attempt: number;
}

/** The session the actor chose before the spawn (`--session-id`), and the one it forked to continue (issue 14). */
export type SessionMessage = { type: 'session'; sessionId: string; continuedFrom: string | null; model: string | null; note: string | null };

export type ProgressMessage = Exclude<ClaudeProcessMessage, { type: 'exit' }> | SessionMessage;

/** What the claude actor sends back: every message, then exactly one exit. It accepts `KILL`. */
export type ClaudeActorEvent =
  /** the messages of one stdout chunk, in order: a flood of lines costs one transition per chunk, not per line */
  | { type: 'CLAUDE.PROGRESS'; messages: ProgressMessage[] }
  /** the account hit its usage limit: no command can succeed before `until` (epoch ms, margin included) */
  | { type: 'CLAUDE.LIMIT'; until: number }
  | { type: 'CLAUDE.EXIT'; outcome: CommandOutcome };

/** Sent to the batch (systemId `batch`), which holds every command until the limit resets. */
export type UsageLimitEvent = { type: 'USAGE_LIMIT'; until: number; command: string };

export type CommandRunOutput =
  | { type: 'ok'; outcome: CommandOutcome }
  | { type: 'error'; error: string; outcome: CommandOutcome };

export interface CommandRunContext {
  spec: CommandSpec;
  runId: string;
  control: ControlMode;
  /** spawns so far; an interrupted attempt is followed by a new one */
  attempt: number;
  outcome: CommandOutcome | null;
  /** set by a rejected rate-limit event during the attempt: its failure is the limit, not the command */
  limitedUntil: number | null;
}

/** A stand-in outcome when the actor itself failed (it should not: it reports spawn errors as exits). */
export function actorFailureOutcome(message: string): CommandOutcome {
  return {
    ok: false,
    failure: 'spawn-failed',
    message,
    exitCode: null,
    signal: null,
    result: null,
    assistantText: '',
    sessionId: null,
    model: null,
    pid: null,
    stderrTail: '',
    warnings: 0,
  };
}

function toProgress(message: ProgressMessage): CommandProgress | null {
  switch (message.type) {
    case 'spawned':
      return { kind: 'spawned', pid: message.pid, startTime: message.startTime };
    case 'init':
      return { kind: 'init', sessionId: message.sessionId, model: message.model };
    case 'session':
      return { kind: 'session', sessionId: message.sessionId, continuedFrom: message.continuedFrom, model: message.model, note: message.note };
    case 'task':
      return { kind: 'task', task: message.task, known: message.known };
    case 'rate-limit':
      return { kind: 'rate-limit', info: message.info };
    case 'api-retry':
      return { kind: 'api-retry', attempt: message.attempt, errorStatus: message.errorStatus };
    case 'warning':
      return { kind: 'warning', message: message.message };
    case 'result':
      // the result is reported once, with the exit
      return null;
  }
}

export const commandRunMachine = setup({
  types: {
    input: {} as CommandRunInput,
    context: {} as CommandRunContext,
    events: {} as ControlEvent | ClaudeActorEvent | { type: 'xstate.error.actor.claude'; error: unknown },
    output: {} as CommandRunOutput,
    emitted: {} as WorkflowEmitted,
  },
  actors: {
    // Provided by the runtime (the real child process) or by tests (a fake). This default says so loudly.
    claudeCommand: fromCallback<{ type: 'KILL' }, ClaudeCommandInput>(() => {
      throw new Error('claudeCommand actor not provided');
    }),
  },
  guards: {
    controlIsRun: ({ context }) => context.control === 'run',
    stopRequested: ({ event }) => event.type === 'CONTROL' && event.mode === 'stop',
    reportsProgress: ({ event }) => event.type === 'CLAUDE.PROGRESS' && event.messages.some((message) => toProgress(message) !== null),
    outcomeOk: ({ event }) => event.type === 'CLAUDE.EXIT' && event.outcome.ok,
    outcomeInterrupted: ({ event }) => event.type === 'CLAUDE.EXIT' && event.outcome.failure === 'interrupted',
    endedForBudget: ({ event }) => event.type === 'CLAUDE.EXIT' && event.outcome.failure === 'budget',
    hitUsageLimit: ({ context }) => context.limitedUntil !== null,
  },
  actions: {
    assignControl: assign({
      control: ({ context, event }) => (event.type === 'CONTROL' ? event.mode : context.control),
    }),
    countAttempt: assign({ attempt: ({ context }) => context.attempt + 1, outcome: null, limitedUntil: null }),
    assignLimit: assign({ limitedUntil: (_, params: { until: number }) => params.until }),
    // hold until the batch says the limit has reset: it answers with CONTROL run
    holdForLimit: assign({ control: 'pause' as const }),
    // hold until the operator raises the budget and resumes (the runner pauses the whole batch)
    holdForBudget: assign({ control: 'pause' as const }),
    reportLimit: sendTo(
      ({ system }) => system.get('batch'),
      ({ context }): UsageLimitEvent => ({ type: 'USAGE_LIMIT', until: context.limitedUntil!, command: context.spec.command }),
    ),
    assignOutcome: assign({
      outcome: (_, params: { outcome: CommandOutcome }) => params.outcome,
    }),
    emitStart: emit(({ context }) => ({
      type: 'command:start' as const,
      payload: {
        runId: context.runId,
        command: context.spec.command,
        kind: context.spec.kind,
        stories: context.spec.stories,
        model: context.spec.model,
        background: context.spec.background,
        reviewAttempt: context.spec.reviewAttempt,
        attempt: context.attempt,
      },
    })),
    emitProgress: enqueueActions(({ context, enqueue }, params: { progress: CommandProgress[] }) => {
      const stories = context.spec.stories.map((s) => s.shortId);
      for (const progress of params.progress) {
        enqueue.emit({ type: 'command:progress', payload: { ...progress, runId: context.runId, command: context.spec.command, stories } });
      }
    }),
    emitEnd: emit(({ context }, params: { status: 'ok' | 'failed' | 'interrupted' }) => ({
      type: 'command:end' as const,
      payload: {
        runId: context.runId,
        command: context.spec.command,
        stories: context.spec.stories.map((s) => s.shortId),
        background: context.spec.background,
        attempt: context.attempt,
        status: params.status,
        outcome: context.outcome ?? actorFailureOutcome('no outcome'),
      },
    })),
    killChild: sendTo('claude', { type: 'KILL' }),
  },
}).createMachine({
  id: 'commandRun',
  description: 'Runs one command of the workflow. Pause holds it before it starts; stop interrupts it, and resume runs it again.',
  context: ({ input }) => ({ spec: input.spec, runId: input.runId, control: input.control, attempt: 0, outcome: null, limitedUntil: null }),
  initial: 'gate',
  on: {
    CONTROL: { actions: 'assignControl' },
  },
  states: {
    gate: {
      description: 'Decides whether the command may start now: only while the batch is running.',
      always: [{ guard: 'controlIsRun', target: 'running' }, { target: 'held' }],
    },
    held: {
      description: 'Paused or stopped before this attempt started; a resume lets it start.',
      on: { CONTROL: { target: 'gate', actions: 'assignControl' } },
    },
    running: {
      description: 'The claude child process is alive; its messages are reported as progress.',
      entry: ['countAttempt', 'emitStart'],
      invoke: {
        id: 'claude',
        src: 'claudeCommand',
        input: ({ context }) => ({ spec: context.spec, runId: context.runId, attempt: context.attempt }),
        onError: {
          target: 'failed',
          actions: {
            type: 'assignOutcome',
            params: ({ event }) => ({ outcome: actorFailureOutcome(`claude actor failed: ${String(event.error)}`) }),
          },
        },
      },
      on: {
        'CLAUDE.PROGRESS': {
          guard: 'reportsProgress',
          actions: {
            type: 'emitProgress',
            params: ({ event }) => ({ progress: event.messages.map(toProgress).filter((progress) => progress !== null) }),
          },
        },
        'CLAUDE.LIMIT': { actions: { type: 'assignLimit', params: ({ event }) => ({ until: event.until }) } },
        'CLAUDE.EXIT': [
          {
            guard: 'outcomeOk',
            target: 'succeeded',
            actions: { type: 'assignOutcome', params: ({ event }) => ({ outcome: event.outcome }) },
          },
          {
            guard: 'hitUsageLimit',
            target: 'limited',
            actions: { type: 'assignOutcome', params: ({ event }) => ({ outcome: event.outcome }) },
          },
          {
            guard: 'endedForBudget',
            target: 'budgetReached',
            actions: { type: 'assignOutcome', params: ({ event }) => ({ outcome: event.outcome }) },
          },
          {
            guard: 'outcomeInterrupted',
            target: 'interrupted',
            actions: { type: 'assignOutcome', params: ({ event }) => ({ outcome: event.outcome }) },
          },
          {
            target: 'failed',
            actions: { type: 'assignOutcome', params: ({ event }) => ({ outcome: event.outcome }) },
          },
        ],
      },
      initial: 'active',
      states: {
        active: {
          description: 'Working. A pause lets it finish; a stop ends its process tree.',
          on: {
            CONTROL: [
              { guard: 'stopRequested', target: 'stopping', actions: 'assignControl' },
              { actions: 'assignControl' },
            ],
          },
        },
        stopping: {
          description: 'Its whole process tree is being ended; the exit that follows marks the attempt interrupted.',
          entry: 'killChild',
        },
      },
    },
    interrupted: {
      description: 'The attempt was ended by a stop. It never counts as a failure; the step runs again on resume.',
      entry: { type: 'emitEnd', params: { status: 'interrupted' } },
      always: 'gate',
    },
    limited: {
      description: 'The account hit its usage limit: not a failure. The batch holds everything until the reset, then this runs again.',
      entry: [{ type: 'emitEnd', params: { status: 'interrupted' } }, 'holdForLimit', 'reportLimit'],
      always: 'held',
    },
    budgetReached: {
      description: 'The batch budget is used up (the CLI ended at its --max-budget-usd, or none was left to start). Not a failure: it continues when the operator raises the budget and resumes.',
      entry: [{ type: 'emitEnd', params: { status: 'interrupted' } }, 'holdForBudget'],
      always: 'held',
    },
    succeeded: {
      type: 'final',
      entry: { type: 'emitEnd', params: { status: 'ok' } },
    },
    failed: {
      type: 'final',
      entry: { type: 'emitEnd', params: { status: 'failed' } },
    },
  },
  output: ({ context }) => {
    const outcome = context.outcome ?? actorFailureOutcome('no outcome');
    return outcome.ok ? { type: 'ok', outcome } : { type: 'error', error: outcome.message, outcome };
  },
});
