// What the runner persists and how a persisted snapshot is made safe to resume: the contract with the store.
import { createHash } from 'node:crypto';
import type { AnyStateNode } from 'xstate';
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
 * Makes a persisted snapshot restorable as a stopped batch. XState restarts in-flight invoked actors on
 * restore, which for a claude child means a silent re-spawn; instead, every machine comes back with control
 * `stop`, and every command that was running comes back `held` without its child, so that resume runs it
 * again as a new attempt and nothing starts before the operator says so.
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
    for (const child of Object.values(node.children ?? {})) visit(child.snapshot, child.src);
  };
  visit(copy, 'batch');
  return copy as T;
}
