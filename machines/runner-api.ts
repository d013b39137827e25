// The runner's public contract: the options it takes, the SprintRunner API and its events, the watchdog defaults, and the checks of what a caller passes.
import type { ClaudeSettings, PermissionMode } from './actors/claude-command.js';
import type { BatchOutput, MaxCycles } from './batch.machine.js';
import type { RunStore } from './persistence.js';
import type { ProjectLayout } from './project/layout.js';
import { RunnerError } from './runner-errors.js';
import type { BatchStatus, WireEvent } from './wire.js';

// the statuses and events reach the dashboard too: declared once in the Node-free wire module
export type { ActiveState, BatchStatus } from './wire.js';

export interface SprintRunnerOptions {
  projectRoot: string;
  /** the Claude CLI: a name on PATH or a path (default `claude`) */
  claudeBin?: string;
  /** default `bypassPermissions`: see the README, "Permissions" */
  permissionMode?: PermissionMode;
  /** added to the environment the children get */
  env?: NodeJS.ProcessEnv;
  /** ms a child may take to exit after its `result` line (WATCHDOG_DEFAULTS) */
  resultGraceMs?: number;
  /** ms without any output before a child is ended (WATCHDOG_DEFAULTS; 0 = off) */
  idleTimeoutMs?: number;
  /** ms a child may run in all (WATCHDOG_DEFAULTS; 0 = off) */
  totalTimeoutMs?: number;
  /** where events and snapshots are kept (db/store.ts); without one, nothing survives the process */
  store?: RunStore;
  /** added to a usage limit's reset time before the batch goes on by itself (default 60 s) */
  usageLimitMarginMs?: number;
  /** where the last sprint-status content read is kept across a crash (spec §4); without it, in memory only */
  sprintStatusCopy?: string;
  /** a store write failed: the runner has halted (every child tree ended) and will write nothing more */
  onStoreFailure?: (error: unknown) => void;
  /** continue an interrupted step's CLI session instead of starting it over (default true; issue 14) */
  continueSessions?: boolean;
  /** the project's model per command, over the spec's routing (models.ts) */
  modelFor?: ClaudeSettings['modelFor'];
}

/** Why a batch is paused by the runner itself rather than by the operator. */
export const BUDGET_REACHED = 'budget reached';

/** Every event a subscriber sees, with the id the store gave it: the spec's event types plus `state`, `budget` and `machine`. */
export type RunnerEvent = WireEvent;

export type RunnerListener = (event: RunnerEvent) => void;

export interface SprintRunner {
  readonly layout: Promise<ProjectLayout>;
  /**
   * Starts a batch. Rejects with a RunnerError when one is active (`already-active`), when a stopped or
   * interrupted batch could be resumed (`resumable-batch`; `discard: true` records it `abandoned` and starts
   * anyway), for a bad count (`bad-cycles`), or when the project cannot be found. Everything later is an event.
   */
  start(options?: { cycles?: MaxCycles; discard?: boolean; budgetUsd?: number | null }): Promise<void>;
  /** the batch's cap and what it spent so far, in USD */
  budget(): { budgetUsd: number | null; spentUsd: number };
  /** Sets or raises (or with null removes) the cap of the current batch; a batch paused at its cap can then resume. */
  setBudget(budgetUsd: number | null): void;
  /** why the runner paused the batch by itself (`budget reached`), or null */
  pauseReason(): string | null;
  /** whether an interrupted step continues its CLI session (the operator's switch) */
  continueSessions(): boolean;
  setContinueSessions(on: boolean): void;
  pause(): void;
  /** Resumes a paused or stopped batch, or restores a stopped or interrupted one from the store. */
  resume(): Promise<void>;
  /** Ends every running child's whole tree; resolves when none is left. The batch stays resumable. */
  stop(): Promise<void>;
  status(): BatchStatus;
  /** epoch ms until which the account's usage limit holds the batch, or null */
  usageLimitUntil(): number | null;
  /** the store's id of the batch this runner drives, once there is one */
  batchId(): number | null;
  subscribe(listener: RunnerListener): () => void;
  /** The batch's final output: resolves when it ends (completed or error). */
  done(): Promise<BatchOutput>;
  /** Stops everything (recording it as stopped, so it can be resumed), waits for the children, releases the runner. */
  close(): Promise<void>;
  /** PIDs of children alive right now (for tests and the dashboard). */
  livePids(): number[];
  /**
   * The store can no longer be written (or trusted): stop driving at once, end every child tree, try to
   * record the cause as one `error` event, and write nothing more. The batch stays live in the store, so the
   * next start's recovery finds it interrupted and it resumes from its last committed step. Idempotent.
   */
  halt(cause: unknown): Promise<void>;
}

const DEFAULT_CYCLES = 2;

/**
 * The three limits every command runs under (spec step 5: a watchdog that ends a command makes it a failure).
 * Timers in the child-process layer, not XState `after`, which a restored snapshot would not restart.
 */
export const WATCHDOG_DEFAULTS = {
  /** no stdout line at all for this long: the CLI is stuck */
  idleTimeoutMs: 15 * 60_000,
  /** no command of this workflow should take longer; a dev-story on a big story can take an hour or two */
  totalTimeoutMs: 4 * 60 * 60_000,
  /** the CLI sometimes does not exit after its result line */
  resultGraceMs: 30_000,
} as const;

export function validateBudget(budget: unknown): number | null {
  if (budget === undefined || budget === null) return null;
  if (typeof budget === 'number' && Number.isFinite(budget) && budget > 0) return budget;
  throw new RunnerError('bad-budget', `budget must be a positive number of USD, or null for no cap (got ${JSON.stringify(budget)})`);
}

export function validateCycles(cycles: unknown): MaxCycles {
  if (cycles === undefined) return DEFAULT_CYCLES;
  if (cycles === 'all') return 'all';
  if (typeof cycles === 'number' && Number.isInteger(cycles) && cycles >= 1) return cycles;
  throw new RunnerError('bad-cycles', `cycles must be a whole number of at least 1, or "all" (got ${JSON.stringify(cycles)})`);
}