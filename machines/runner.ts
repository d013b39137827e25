// createSprintRunner: starts, steers and observes one batch on one BMAD project, committing every step to its store (its contract: runner-api.ts).
import { createActor, type Actor, type AnyActorRef, type InspectionEvent, type Snapshot } from 'xstate';
import { ProcessRegistry } from './actors/claude-command.js';
import type { BatchInput, BatchOutput } from './batch.machine.js';
import { MACHINE_VERSION, midHandover, prepareSnapshotForResume, type RunStore } from './persistence.js';
import { loadProjectLayout } from './project/layout.js';
import { BUDGET_REACHED, validateBudget, validateCycles, type RunnerEvent, type RunnerListener, type SprintRunner, type SprintRunnerOptions } from './runner-api.js';
import { RunnerError } from './runner-errors.js';
import { createRunnerWorld } from './runner-world.js';
import type { ActiveState, BatchStatus } from './wire.js';
import { SessionLedger } from './sessions.js';
import type { ControlMode, WorkflowEmitted } from './types.js';
import { provideWorkflow, type WorkflowMachine } from './workflow.js';

/** The active state of every machine actor in the tree, root first. */
export function activeStates(root: AnyActorRef): ActiveState[] {
  const out: ActiveState[] = [];
  const visit = (ref: AnyActorRef, path: string) => {
    const snapshot = ref.getSnapshot() as { value?: unknown; machine?: { id: string }; children?: Record<string, AnyActorRef | undefined>; status?: string };
    if (snapshot.value === undefined || !snapshot.machine || snapshot.status !== 'active') return;
    out.push({ path, machine: snapshot.machine.id, value: snapshot.value });
    for (const [id, child] of Object.entries(snapshot.children ?? {})) if (child) visit(child, `${path}/${id}`);
  };
  visit(root, 'batch');
  return out;
}

/** Without a database, events still get increasing ids, and nothing survives the process. */
function memoryStore(): RunStore {
  let nextId = 1;
  let batches = 0;
  return {
    beginBatch: () => ++batches,
    commit: (_, events) => events.map((event) => ({ ...event, id: nextId++ })),
    resumable: () => null,
  };
}

export function createSprintRunner(options: SprintRunnerOptions): SprintRunner {
  const registry = new ProcessRegistry();
  const listeners = new Set<RunnerListener>();
  const store = options.store ?? memoryStore();
  const ledger = new SessionLedger();
  ledger.seed(store.lastAttempts?.() ?? []);
  let continueSessions = options.continueSessions ?? true;
  let budgetUsd: number | null = null;
  let spentUsd = 0;
  let pauseReason: string | null = null;
  const layout = loadProjectLayout(options.projectRoot);
  // Keep an unobserved rejection from crashing the process; start() reports it.
  layout.catch(() => undefined);

  let actor: Actor<WorkflowMachine> | null = null;
  let batchId: number | null = null;
  let control: ControlMode = 'run';
  let finished: BatchOutput | null = null;
  let resolveDone: ((output: BatchOutput) => void) | null = null;
  let donePromise: Promise<BatchOutput> | null = null;
  const initiallyResumable = store.resumable();
  let lastStatus: BatchStatus = initiallyResumable?.status === 'stopped' ? 'stopped' : initiallyResumable ? 'interrupted' : 'idle';
  /** epoch ms until which a usage limit holds the batch (the machines decide; this mirrors their events) */
  let limitUntil: number | null = null;
  /** events emitted since the last commit: the store writes them with the snapshot of the transition */
  let pending: { type: string; ts: number; payload: unknown }[] = [];
  const warn = (message: string) => {
    pending.push({ type: 'warning', ts: Date.now(), payload: { message } });
  };
  const world = createRunnerWorld(options, {
    store,
    registry,
    ledger,
    continueSessions: () => continueSessions,
    remainingBudget: () => (budgetUsd === null ? null : Math.max(0, budgetUsd - spentUsd)),
    warn,
    // a stopped or crashed batch's children were ended: its first read may find a half-written file
    killedBefore: initiallyResumable !== null,
  });

  const publish = (event: RunnerEvent) => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch {
        // a failing subscriber must not stop the batch
      }
    }
  };

  let lastActive = '';
  /** A `machine` event whenever the tree's active states change: the inspector highlights them live. */
  const noteActiveStates = () => {
    if (!actor) return;
    const active = activeStates(actor);
    const json = JSON.stringify(active);
    if (json === lastActive) return;
    lastActive = json;
    pending.push({ type: 'machine', ts: Date.now(), payload: { actors: active } });
  };

  /** a commit held back while a finished actor's parent has not taken its end (see midHandover) */
  let heldBack: ReturnType<typeof setTimeout> | null = null;
  let heldSince: number | null = null;

  const commit = (withSnapshot: boolean) => {
    if (halted !== null) pending = [];
    if (batchId === null || halted !== null || (pending.length === 0 && !withSnapshot)) return;
    // Events and snapshot are written together or not at all: while a parent has yet to take a child's end,
    // both wait (its step follows at once and commits them). A handover still pending after a second is a
    // bug elsewhere: writing then is no worse than before this rule, and holding on would lose more.
    if (actor && actor.getSnapshot().status === 'active' && midHandover(actor)) {
      heldSince ??= Date.now();
      if (Date.now() - heldSince < 1000) {
        heldBack ??= setTimeout(() => {
          heldBack = null;
          commit(true);
        }, 10);
        return;
      }
    } else {
      heldSince = null;
    }
    if (withSnapshot && actor && actor.getSnapshot().status !== 'stopped') noteActiveStates();
    const events = pending;
    pending = [];
    // Stopping the actor itself (close) yields a `stopped` snapshot without children: never persist that
    // over the last real one, or the batch could not resume.
    const live = withSnapshot && actor && actor.getSnapshot().status !== 'stopped';
    const snapshot = live ? actor!.getPersistedSnapshot() : null;
    const limitBefore = limitUntil;
    let spentBefore = spentUsd;
    let written: ReturnType<RunStore['commit']>;
    try {
      written = store.commit(batchId, events, snapshot);
    } catch (error) {
      void halt(error).then(() => options.onStoreFailure?.(error));
      return;
    }
    for (const stored of written) {
      if (stored.type === 'usage-limit') limitUntil = (stored.payload as { until: number }).until;
      if (stored.type === 'usage-limit-end') limitUntil = null;
      if (stored.type.startsWith('command:')) ledger.note(stored.type, stored.payload);
      if (stored.type === 'command:end') spentUsd += (stored.payload as { outcome: { result: { costUsd: number } | null } }).outcome.result?.costUsd ?? 0;
      publish(stored as RunnerEvent);
    }
    if (limitUntil !== limitBefore) refreshStatus();
    if (spentUsd !== spentBefore) {
      spentBefore = spentUsd;
      if (budgetUsd !== null) publishBudget();
      checkBudget();
    }
  };

  /** At the cap no new command starts: the batch pauses (commands already running finish within their own cap). */
  const checkBudget = () => {
    if (budgetUsd === null || spentUsd < budgetUsd || pauseReason !== null || !actor || finished || control !== 'run') return;
    pauseReason = BUDGET_REACHED;
    warn(`budget reached: $${spentUsd.toFixed(2)} spent of $${budgetUsd.toFixed(2)}; raise the budget and resume to go on`);
    send('pause');
  };

  const publishBudget = () => {
    pending.push({ type: 'budget', ts: Date.now(), payload: { budgetUsd, spentUsd } });
    commit(false);
  };

  const computeStatus = (): BatchStatus => {
    if (halted !== null) return 'error';
    if (finished) return finished.type === 'ok' ? 'completed' : 'error';
    if (!actor) return lastStatus === 'interrupted' || lastStatus === 'stopped' ? lastStatus : 'idle';
    if (control === 'pause' || (control === 'run' && limitUntil !== null)) return 'paused';
    if (control === 'stop') return registry.size > 0 ? 'stopping' : 'stopped';
    return 'running';
  };

  const refreshStatus = () => {
    const status = computeStatus();
    if (status === lastStatus) return;
    lastStatus = status;
    pending.push({ type: 'state', ts: Date.now(), payload: status === 'paused' && pauseReason ? { status, reason: pauseReason } : { status } });
    commit(false);
  };

  const finish = (output: BatchOutput) => {
    if (finished) return;
    finished = output;
    refreshStatus();
    resolveDone?.(output);
  };

  /**
   * Most transitions only report progress (a task phase): their actor's value, context and children are the
   * same objects as before, and the persisted snapshot would be too. Serialising the tree for those would
   * cost more than everything else a progress line does.
   */
  const lastSeen = new WeakMap<object, { value: unknown; context: unknown; children: string }>();
  const changedState = (ref: object, snapshot: unknown): boolean => {
    const s = snapshot as { value?: unknown; context?: unknown; children?: Record<string, unknown>; status?: string };
    const seen = { value: s.value, context: s.context, children: Object.keys(s.children ?? {}).join(',') + (s.status ?? '') };
    const before = lastSeen.get(ref);
    lastSeen.set(ref, seen);
    return !before || before.value !== seen.value || before.context !== seen.context || before.children !== seen.children;
  };

  // Emitted events come from every actor of the tree, so listen on each one as it is created; a child's
  // transition does not notify subscribers of the root, so every actor's snapshot change is a commit.
  const inspect = (event: InspectionEvent) => {
    if (event.type === '@xstate.actor') {
      (event.actorRef as AnyActorRef).on('*', (emitted: WorkflowEmitted) => {
        if (emitted.type === 'command:end') world.noteCommandEnd(emitted.payload.outcome.failure);
        pending.push({ type: emitted.type, ts: Date.now(), payload: emitted.payload });
      });
    } else if (event.type === '@xstate.snapshot') {
      commit(changedState(event.actorRef, event.snapshot));
    }
  };

  const launch = (machine: WorkflowMachine, init: { input: BatchInput } | { snapshot: Snapshot<unknown> }) => {
    finished = null;
    donePromise = new Promise((resolve) => (resolveDone = resolve));
    // commands report a usage limit to the batch by this system id
    actor = createActor(machine, { ...init, inspect, systemId: 'batch' } as Parameters<typeof createActor<WorkflowMachine>>[1]);
    actor.subscribe({
      next: (snapshot) => {
        if (snapshot.status === 'done') finish(snapshot.output!);
      },
      // An exception inside the machine must end the batch visibly, never leave it `running` for ever.
      error: (error) => {
        pending.push({ type: 'error', ts: Date.now(), payload: { scope: 'runner', message: `internal error: ${String(error)}` } });
        void registry.stopAll();
        finish({ type: 'error', error: String(error), cyclesCompleted: 0 });
      },
    });
    actor.start();
  };

  const send = (mode: ControlMode) => {
    if (!actor || finished) return;
    control = mode;
    // the new status first: what the operator asked for precedes what it causes
    refreshStatus();
    actor.send({ type: 'CONTROL', mode });
    refreshStatus();
  };

  /** Records a resumable batch `abandoned` (its stopped actor, if this process holds one, is released first). */
  const abandon = (id: number) => {
    if (actor && !finished) {
      actor.stop();
      actor = null;
    }
    batchId = id;
    pending.push({ type: 'state', ts: Date.now(), payload: { status: 'abandoned' } });
    commit(false);
    lastStatus = 'idle';
  };

  let halted: Promise<void> | null = null;
  const halt = (cause: unknown): Promise<void> => {
    halted ??= (async () => {
      pending = [];
      // not from inside the transition that failed: XState is still processing it
      await new Promise((resolve) => setImmediate(resolve));
      control = 'stop';
      try {
        actor?.stop();
      } catch {
        // stopping must go on to the children whatever the machines do
      }
      await registry.stopAll();
      if (batchId !== null) {
        const message = cause instanceof Error ? cause.message : String(cause);
        try {
          store.commit(batchId, [{ type: 'error', ts: Date.now(), payload: { scope: 'storage', message } }], null);
        } catch {
          // the store is what failed: the next start's recovery records the interruption
        }
      }
      const output: BatchOutput = { type: 'error', error: String(cause), cyclesCompleted: 0 };
      finished ??= output;
      resolveDone?.(output);
    })();
    return halted;
  };

  const stop = async () => {
    send('stop');
    await registry.whenIdle();
    refreshStatus();
  };

  return {
    layout,
    async start(startOptions = {}) {
      // a stopped batch in this process is treated as after a restart: it can be resumed, so Start needs `discard`
      if (actor && !finished && computeStatus() !== 'stopped') throw new RunnerError('already-active', 'a batch is already active', batchId);
      if (halted !== null) throw new RunnerError('halted', 'the runner was halted: its store cannot be written');
      const maxCycles = validateCycles(startOptions.cycles);
      const budget = validateBudget(startOptions.budgetUsd);
      const projectLayout = await layout;
      const resumable = store.resumable();
      if (resumable && !startOptions.discard) {
        const state = resumable.status === 'stopped' ? 'stopped' : 'interrupted';
        const how =
          resumable.machineVersion === MACHINE_VERSION
            ? 'resume it, or discard it and start a new batch'
            : 'it was recorded by another version of the machines and cannot resume exactly: discard it and start a new batch';
        throw new RunnerError('resumable-batch', `batch ${resumable.batchId} is ${state}: ${how}`, resumable.batchId);
      }
      if (resumable) abandon(resumable.batchId);
      control = 'run';
      budgetUsd = budget;
      spentUsd = 0;
      pauseReason = null;
      try {
        batchId = store.beginBatch({ maxCycles, projectRoot: projectLayout.root, startedAt: Date.now(), budgetUsd: budget });
      } catch (error) {
        void halt(error).then(() => options.onStoreFailure?.(error));
        throw error;
      }
      if (budget !== null) publishBudget();
      await world.repairSprintStatus(projectLayout);
      launch(provideWorkflow(world.buildActors(projectLayout)), { input: { maxCycles, implementationArtifacts: projectLayout.implementationArtifactsRelative } });
      refreshStatus();
    },
    pause: () => send('pause'),
    async resume() {
      if (actor && !finished && budgetUsd !== null && spentUsd >= budgetUsd) {
        throw new RunnerError('budget-reached', `budget reached: $${spentUsd.toFixed(2)} spent of $${budgetUsd.toFixed(2)}; raise the budget before resuming`);
      }
      if (actor && !finished) {
        pauseReason = null;
        // after a stop in this process the children were ended: check the file before anything runs again
        if (control === 'stop') await world.repairSprintStatus(await layout);
        send('run');
        return;
      }
      if (halted !== null) throw new RunnerError('halted', 'the runner was halted: its store cannot be written');
      const resumable = store.resumable();
      if (!resumable) throw new RunnerError('nothing-to-resume', 'there is no stopped or interrupted batch to resume');
      if (resumable.machineVersion !== MACHINE_VERSION) {
        throw new RunnerError(
          'version-mismatch',
          `batch ${resumable.batchId} was recorded by another version of sprint-runner's machines (${resumable.machineVersion}, now ${MACHINE_VERSION}); it cannot resume exactly. Discard it and start a new batch.`,
          resumable.batchId,
        );
      }
      const projectLayout = await layout;
      batchId = resumable.batchId;
      budgetUsd = resumable.budgetUsd ?? null;
      spentUsd = store.spent?.(batchId) ?? 0;
      if (budgetUsd !== null && spentUsd >= budgetUsd) {
        throw new RunnerError('budget-reached', `budget reached: batch ${batchId} spent $${spentUsd.toFixed(2)} of $${budgetUsd.toFixed(2)}; raise the budget before resuming`);
      }
      pauseReason = null;
      await world.repairSprintStatus(projectLayout);
      control = 'stop';
      launch(provideWorkflow(world.buildActors(projectLayout)), { snapshot: prepareSnapshotForResume(resumable.snapshot) as Snapshot<unknown> });
      send('run');
    },
    stop,
    budget: () => ({ budgetUsd, spentUsd }),
    setBudget(next) {
      const value = validateBudget(next);
      // after a restart the stopped batch is not loaded yet: its row takes the new cap, read again on resume
      const target = actor && !finished ? batchId : (store.resumable()?.batchId ?? batchId);
      if (target === null) throw new RunnerError('no-batch', 'there is no batch to set a budget for');
      store.setBudget?.(target, value);
      if (target !== batchId) return;
      budgetUsd = value;
      publishBudget();
      if (pauseReason === BUDGET_REACHED && (value === null || spentUsd < value)) pauseReason = null;
      checkBudget();
    },
    pauseReason: () => (computeStatus() === 'paused' ? pauseReason : null),
    continueSessions: () => continueSessions,
    setContinueSessions(on) {
      continueSessions = on;
      warn(on ? 'interrupted steps continue their CLI session' : 'interrupted steps start afresh (continuing sessions is off)');
      commit(false);
    },
    status: computeStatus,
    usageLimitUntil: () => limitUntil,
    batchId: () => batchId,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    done() {
      if (!donePromise) return Promise.reject(new Error('no batch was started'));
      return donePromise;
    },
    async close() {
      if (halted !== null) await halted;
      if (actor && !finished) await stop();
      actor?.stop();
      await registry.stopAll();
      while (world.savingTranscripts.size > 0) await Promise.all([...world.savingTranscripts]);
      listeners.clear();
    },
    livePids: () => registry.pids(),
    halt,
  };
}
