// What the runner persists and how a persisted snapshot is made safe to resume: the contract with the store.
import { createHash } from 'node:crypto';
import type { AnyActorRef, AnyStateNode } from 'xstate';
import { batchMachine, type MaxCycles } from './batch.machine.js';
import { commandRunMachine } from './command.machine.js';
import { cycleMachine } from './cycle.machine.js';
import { reviewMachine } from './review.machine.js';
import type { TranscriptRecord } from './claude/transcript.js';
import type { AttemptRecord } from './sessions.js';
import { storyMachine } from './story.machine.js';

/** `root.definition` leaves out eventless (`always`) transitions; the inspector and the version hash need them. */
function definitionWithAlways(node: AnyStateNode): Record<string, unknown> {
  return {
    ...node.definition,
    ...(node.always?.length ? { always: node.always } : {}),
    states: Object.fromEntries(Object.entries(node.states).map(([key, child]) => [key, definitionWithAlways(child)])),
  };
}

/** The machine definitions as JSON, for the inspector and for the version hash. */
export function machineDefinitions(): Record<string, unknown> {
  return {
    batch: definitionWithAlways(batchMachine.root),
    cycle: definitionWithAlways(cycleMachine.root),
    story: definitionWithAlways(storyMachine.root),
    review: definitionWithAlways(reviewMachine.root),
    commandRun: definitionWithAlways(commandRunMachine.root),
  };
}

/**
 * A snapshot restores only into the machines that wrote it: any change to a state, transition or
 * invoke changes this hash, and an older snapshot is refused with a clear message instead of misbehaving.
 */
export const MACHINE_VERSION = createHash('sha256').update(JSON.stringify(machineDefinitions())).digest('hex').slice(0, 16);

/** One event as the runner publishes it, after the store gave it its id. */
export interface StoredRunnerEvent {
  id: number;
  type: string;
  ts: number;
  payload: unknown;
  /** the payload as the store wrote it (JSON): each WebSocket client sends this text instead of serialising again */
  payloadJson?: string;
}

export interface ResumableBatch {
  batchId: number;
  status: 'stopped' | 'interrupted' | 'paused';
  maxCycles: MaxCycles;
  machineVersion: string;
  snapshot: unknown;
  /** the batch's spending cap in USD, or null (issue 14) */
  budgetUsd?: number | null;
}

/**
 * Where a runner keeps its history. `commit` is called once per transition of any actor in the tree, with
 * the events that transition emitted and the root's persisted snapshot; a store writes them in one
 * transaction, so a crash at any instant leaves both or neither.
 */
export interface RunStore {
  beginBatch(info: { maxCycles: MaxCycles; projectRoot: string; startedAt: number; budgetUsd?: number | null }): number;
  commit(batchId: number, events: { type: string; ts: number; payload: unknown }[], snapshot: unknown | null): StoredRunnerEvent[];
  /** the newest batch that can be resumed (stopped, interrupted, or paused when the runner died) */
  resumable(): ResumableBatch | null;
  /** each step's newest attempt, so an interrupted one can be continued after a restart (issue 14) */
  lastAttempts?(): AttemptRecord[];
  /** USD the batch's commands have cost so far */
  spent?(batchId: number): number;
  setBudget?(batchId: number, budgetUsd: number | null): void;
  /** a finished attempt's stream-json (issue 13) */
  saveTranscript?(key: { runId: string; attempt: number }, record: TranscriptRecord): void;
}

type PersistedNode = {
  value?: unknown;
  context?: Record<string, unknown>;
  children?: Record<string, { snapshot: PersistedNode; src: unknown }>;
  status?: string;
};

/**
 * Whether a parent has taken the done event of its child `id`, which is finished. An invoked child leaves its
 * parent's children when the parent takes the event (every onDone of ours has a target); a background task
 * (`bg.N`, spawned by the batch) stays, and the batch's list says whether its end was recorded.
 */
function handedOver(parentContext: Record<string, unknown> | undefined, id: string): boolean {
  if (!id.startsWith('bg.')) return false;
  const tasks = (parentContext?.['background'] ?? []) as { id: string; status: string }[];
  return tasks.find((task) => task.id === id)?.status !== 'running';
}

const finished = (status: string | undefined) => status === 'done' || status === 'error';

/**
 * True while some actor of the tree has finished and its parent has not yet taken its done event. A snapshot
 * persisted then would be one XState cannot resume from: on restore it starts only the active children, so
 * the finished one never reports and its parent waits for ever (a crash test caught a SIGKILL in that gap).
 * The runner keeps such a moment's events and snapshot back until the parent has moved on.
 */
export function midHandover(root: AnyActorRef): boolean {
  const visit = (ref: AnyActorRef): boolean => {
    const snapshot = ref.getSnapshot() as { context?: Record<string, unknown>; children?: Record<string, AnyActorRef | undefined> };
    for (const [id, child] of Object.entries(snapshot.children ?? {})) {
      if (!child) continue;
      if (finished((child.getSnapshot() as { status?: string }).status)) {
        if (!handedOver(snapshot.context, id)) return true;
      } else if (visit(child)) {
        return true;
      }
    }
    return false;
  };
  return visit(root);
}

/**
 * Makes a persisted snapshot restorable as a stopped batch. XState restarts in-flight invoked actors on
 * restore, which for a claude child means a silent re-spawn; instead, every machine comes back with control
 * `stop`, and every command that was running comes back `held` without its child, so that resume runs it
 * again as a new attempt and nothing starts before the operator says so. A command that had finished but
 * whose end its parent had not taken (a snapshot written by a version without `midHandover`) comes back
 * `held` too: its end was never stored, so it is run again like an interrupted one.
 */
export function prepareSnapshotForResume<T>(snapshot: T): T {
  const copy = structuredClone(snapshot) as PersistedNode;
  const visit = (node: PersistedNode, src: unknown) => {
    if (node.context && 'control' in node.context) node.context['control'] = 'stop';
    const running = typeof node.value === 'object' && node.value !== null && 'running' in node.value;
    if (src === 'commandRun' && running && node.status === 'active') {
      node.value = 'held';
      if (node.children) delete node.children['claude'];
    }
    for (const [id, child] of Object.entries(node.children ?? {})) {
      const orphaned = child.src === 'commandRun' && finished(child.snapshot.status) && !handedOver(node.context, id);
      if (orphaned) {
        const held = child.snapshot as PersistedNode & { output?: unknown; error?: unknown };
        held.status = 'active';
        held.value = 'held';
        delete held.output;
        delete held.error;
      }
      visit(child.snapshot, child.src);
    }
  };
  visit(copy, 'batch');
  return copy as T;
}
