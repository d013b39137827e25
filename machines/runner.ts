// createSprintRunner: the public API that starts, steers and observes one batch on one BMAD project.
import { createActor, fromPromise, type Actor, type AnyActorRef, type InspectionEvent } from 'xstate';
import {
  checkClaudeSettings,
  createClaudeCommandActor,
  ProcessRegistry,
  type ClaudeSettings,
  type PermissionMode,
} from './actors/claude-command.js';
import {
  injectProjectContextFiles,
  projectContextState,
  readSprintStatusFile,
  writeStoryStatusFile,
} from './actors/sprint-files.js';
import type { BatchOutput, MaxCycles } from './batch.machine.js';
import { checkProjectFiles, loadProjectLayout, type ProjectLayout, type Taxonomy } from './project/layout.js';
import type { ControlMode, WorkflowEmitted } from './types.js';
import { provideWorkflow, type WorkflowActors, type WorkflowMachine } from './workflow.js';

export interface SprintRunnerOptions {
  projectRoot: string;
  /** the Claude CLI: a name on PATH or a path (default `claude`) */
  claudeBin?: string;
  /** default `bypassPermissions`: see the README, "Permissions" */
  permissionMode?: PermissionMode;
  /** added to the environment the children get */
  env?: NodeJS.ProcessEnv;
  /** ms a child may take to exit after its `result` line (default 5000) */
  resultGraceMs?: number;
  idleTimeoutMs?: number;
  totalTimeoutMs?: number;
}

export type BatchStatus = 'idle' | 'running' | 'paused' | 'stopping' | 'stopped' | 'completed' | 'error';

/** Every event a subscriber sees: the spec's event types plus `state` when the batch status changes. */
export type RunnerEvent =
  | (WorkflowEmitted & { ts: number })
  | { type: 'state'; ts: number; payload: { status: BatchStatus } };

export type RunnerListener = (event: RunnerEvent) => void;

export interface SprintRunner {
  readonly layout: Promise<ProjectLayout>;
  /** Starts a batch; rejects only when the project itself cannot be found. Everything later is an event. */
  start(options?: { cycles?: MaxCycles }): Promise<void>;
  pause(): void;
  resume(): void;
  /** Ends every running child's whole tree; resolves when none is left. The batch stays resumable. */
  stop(): Promise<void>;
  status(): BatchStatus;
  subscribe(listener: RunnerListener): () => void;
  /** The batch's final output: resolves when it ends (completed or error). */
  done(): Promise<BatchOutput>;
  /** Stops everything, waits for the children to be gone, and releases the runner. */
  close(): Promise<void>;
  /** PIDs of children alive right now (for tests and the dashboard). */
  livePids(): number[];
}

const DEFAULT_CYCLES = 2;

export function validateCycles(cycles: unknown): MaxCycles {
  if (cycles === undefined) return DEFAULT_CYCLES;
  if (cycles === 'all') return 'all';
  if (typeof cycles === 'number' && Number.isInteger(cycles) && cycles >= 1) return cycles;
  throw new Error(`cycles must be a whole number of at least 1, or "all" (got ${JSON.stringify(cycles)})`);
}

export function createSprintRunner(options: SprintRunnerOptions): SprintRunner {
  const registry = new ProcessRegistry();
  const listeners = new Set<RunnerListener>();
  const settings: ClaudeSettings = {
    bin: options.claudeBin ?? 'claude',
    permissionMode: options.permissionMode ?? 'bypassPermissions',
    env: { ...process.env, ...options.env },
    ...(options.resultGraceMs !== undefined ? { resultGraceMs: options.resultGraceMs } : {}),
    ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
    ...(options.totalTimeoutMs !== undefined ? { totalTimeoutMs: options.totalTimeoutMs } : {}),
  };
  const layout = loadProjectLayout(options.projectRoot);
  // Keep an unobserved rejection from crashing the process; start() reports it.
  layout.catch(() => undefined);

  let actor: Actor<WorkflowMachine> | null = null;
  let control: ControlMode = 'run';
  let lastStatus: BatchStatus = 'idle';
  let finished: BatchOutput | null = null;
  let resolveDone: ((output: BatchOutput) => void) | null = null;
  let donePromise: Promise<BatchOutput> | null = null;

  const publish = (event: RunnerEvent) => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch {
        // a failing subscriber must not stop the batch
      }
    }
  };

  const computeStatus = (): BatchStatus => {
    if (finished) return finished.type === 'ok' ? 'completed' : 'error';
    if (!actor) return 'idle';
    if (control === 'pause') return 'paused';
    if (control === 'stop') return registry.size > 0 ? 'stopping' : 'stopped';
    return 'running';
  };

  const refreshStatus = () => {
    const status = computeStatus();
    if (status === lastStatus) return;
    lastStatus = status;
    publish({ type: 'state', ts: Date.now(), payload: { status } });
  };

  const finish = (output: BatchOutput) => {
    if (finished) return;
    finished = output;
    refreshStatus();
    resolveDone?.(output);
  };

  const buildActors = (projectLayout: ProjectLayout): WorkflowActors => {
    let taxonomy: Taxonomy = {};
    return {
      claudeCommand: createClaudeCommandActor(projectLayout, () => taxonomy, settings, registry),
      readSprintStatus: fromPromise(() => readSprintStatusFile(projectLayout)),
      writeStoryStatus: fromPromise(({ input }) => writeStoryStatusFile(projectLayout, input.key, input.status)),
      injectProjectContext: fromPromise(({ input }) => injectProjectContextFiles(projectLayout, input.stories)),
      checkProject: fromPromise(async () => {
        taxonomy = await checkProjectFiles(projectLayout);
        await checkClaudeSettings(settings);
      }),
      checkProjectContext: fromPromise(() => projectContextState(projectLayout)),
    };
  };

  // Emitted events come from every actor of the tree, so listen on each one as it is created.
  const inspect = (event: InspectionEvent) => {
    if (event.type !== '@xstate.actor') return;
    (event.actorRef as AnyActorRef).on('*', (emitted: WorkflowEmitted) => {
      publish({ ...emitted, ts: Date.now() } as RunnerEvent);
      refreshStatus();
    });
  };

  const send = (mode: ControlMode) => {
    if (!actor || finished) return;
    control = mode;
    actor.send({ type: 'CONTROL', mode });
    refreshStatus();
  };

  return {
    layout,
    async start(startOptions = {}) {
      if (actor && !finished) throw new Error('a batch is already active');
      const maxCycles = validateCycles(startOptions.cycles);
      const projectLayout = await layout;
      finished = null;
      control = 'run';
      donePromise = new Promise((resolve) => (resolveDone = resolve));
      const machine = provideWorkflow(buildActors(projectLayout));
      actor = createActor(machine, { input: { maxCycles, implementationArtifacts: projectLayout.implementationArtifactsRelative }, inspect });
      actor.subscribe({
        next: (snapshot) => {
          if (snapshot.status === 'done') finish(snapshot.output!);
        },
        // An exception inside the machine must end the batch visibly, never leave it `running` for ever.
        error: (error) => {
          publish({ type: 'error', ts: Date.now(), payload: { scope: 'runner', message: `internal error: ${String(error)}` } });
          void registry.stopAll();
          finish({ type: 'error', error: String(error), cyclesCompleted: 0 });
        },
      });
      actor.start();
      refreshStatus();
    },
    pause: () => send('pause'),
    resume: () => send('run'),
    async stop() {
      send('stop');
      await registry.whenIdle();
      refreshStatus();
    },
    status: computeStatus,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    done() {
      if (!donePromise) return Promise.reject(new Error('no batch was started'));
      return donePromise;
    },
    async close() {
      actor?.stop();
      await registry.stopAll();
      listeners.clear();
    },
    livePids: () => registry.pids(),
  };
}
