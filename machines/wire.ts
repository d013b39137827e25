// The wire shapes: every event and row that travels from the runner through SQLite and the API to the dashboard.
// Node-free on purpose (no Node imports, no Node types): the browser bundle imports it as the server does.
// The statuses, the API state and the rows are declared in wire-rows.ts and re-exported here: importers name this module.
// The review verdict payloads are declared beside their (pure, Node-free) rules and only referenced here.
import type { ReviewDecisionPayload, ReviewVerdictPayload } from './rules/review-verdict.js';
import type { BatchStatus } from './wire-rows.js';

export * from './wire-rows.js';

// ------------------------------------------------------------------------------------------- commands

/** Commands whose prompt is a template file in `<workflow>/prompts/`; the other two are written by us. */
export const TEMPLATE_FOR_COMMAND = {
  'create-story': 'create-story.md',
  'story-discovery': 'create-story-discovery.md',
  'story-review': 'story-review.md',
  'create-tech-spec': 'create-tech-spec.md',
  'tech-spec-review': 'tech-spec-review.md',
  'dev-story': 'dev-story.md',
  'code-review': 'code-review.md',
  'background-review-chain': 'background-review-chain.md',
} as const;

export type TemplateCommand = keyof typeof TEMPLATE_FOR_COMMAND;
export type InlineCommand = 'project-context' | 'batch-commit';
/** The commands as the taxonomy names them (without the `-N` attempt suffix). */
export type CommandKind = TemplateCommand | InlineCommand;

/** One task phase of a command as the taxonomy (`task-taxonomy.yaml`) lists it. */
export interface TaxonomyPhase {
  id: string;
  label: string;
}

/** command kind -> its task phases in order, from `task-taxonomy.yaml` */
export type Taxonomy = Record<string, TaxonomyPhase[]>;

/**
 * The place of a task id among its command's phases, 1-based (`3` of 5), or null when the taxonomy does not
 * know it. The one rule for "task 3/5": the API and the dashboard's live patch both use it.
 */
export function taskPhaseIndex(phases: readonly TaxonomyPhase[], taskId: string): { index: number | null; total: number | null } {
  const at = phases.findIndex((phase) => phase.id === taskId);
  return { index: at >= 0 ? at + 1 : null, total: phases.length || null };
}

/** A task phase reported by a subagent through the project's log script. */
export interface TaskEvent {
  epic: string;
  story: string;
  command: string;
  taskId: string;
  status: 'start' | 'end';
  message: string;
  /** `orchestrator.sh` six-argument form, or the later `sprint-log.sh` JSON form. */
  form: 'orchestrator' | 'json';
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
}

/** The fields of a `result` line that decide and report a command. */
export interface ResultSummary {
  subtype: string;
  isError: boolean;
  /** `result` text: only the last text block, sometimes truncated; never used for decisions. */
  resultText: string;
  costUsd: number;
  usage: TokenUsage;
  durationMs: number;
  durationApiMs: number;
  numTurns: number;
  terminalReason: string | null;
  apiErrorStatus: number | null;
  permissionDenials: number;
  sessionId: string | null;
  /** `structured_output`: the validated answer to `--json-schema` (the StructuredOutput tool's input); absent without one */
  structuredOutput?: unknown;
}

export interface RateLimitInfo {
  status: string;
  /** epoch seconds, when the CLI gave one */
  resetsAt: number | null;
  rateLimitType: string | null;
}

/** Why a command ended without a usable result, when it did. */
export type FailureReason =
  | 'spawn-failed'
  | 'no-result'
  | 'is-error'
  | 'error-subtype'
  | 'interrupted'
  | 'watchdog-idle'
  | 'watchdog-total'
  | 'watchdog-exit'
  /** the CLI ended the run at its `--max-budget-usd` (result subtype error_max_budget_usd), or the batch budget was used up before the spawn */
  | 'budget';

export interface CommandOutcome {
  ok: boolean;
  failure: FailureReason | null;
  /** one line a human can read: why it failed, or a short summary */
  message: string;
  exitCode: number | null;
  signal: string | null;
  result: ResultSummary | null;
  /** every assistant text block of the main conversation, joined with newlines (decisions read this) */
  assistantText: string;
  sessionId: string | null;
  model: string | null;
  pid: number | null;
  /** last few KB of stderr, for error messages */
  stderrTail: string;
  warnings: number;
}


// --------------------------------------------------------------------------------------------- events

/** The operator's wish, forwarded down the actor tree as a `CONTROL` event (spec §4). */
export type ControlMode = 'run' | 'pause' | 'stop';

/** A story as the machines carry it: enough to name it in prompts, logs and the dashboard. */
export interface StoryRef {
  key: string;
  shortId: string;
  epicId: string;
}

export interface CommandFailure {
  command: string;
  stories: StoryRef[];
  message: string;
  reason: string;
}

/** Events the machines `emit`; the runner stamps `ts` and hands them to subscribers. */
export type WorkflowEmitted =
  | { type: 'batch:start'; payload: { maxCycles: number | 'all' } }
  | {
      type: 'batch:end';
      payload: { status: 'completed' | 'error'; message: string; cyclesCompleted: number; done?: number; blocked?: number };
    }
  | { type: 'cycle:start'; payload: { cycle: number; stories: StoryRef[]; entryStep: string } }
  | { type: 'cycle:end'; payload: { cycle: number; counted: boolean; stories: string[]; failure: CommandFailure | null } }
  | {
      type: 'command:start';
      payload: {
        runId: string;
        command: string;
        kind: CommandKind;
        stories: StoryRef[];
        model: string | null;
        background: boolean;
        reviewAttempt: number | null;
        /** 1 for the first spawn of this step; +1 for each run after an interruption */
        attempt: number;
      };
    }
  | { type: 'command:progress'; payload: CommandProgress & { runId: string; command: string; stories: string[] } }
  | {
      type: 'command:end';
      payload: {
        runId: string;
        command: string;
        stories: string[];
        background: boolean;
        attempt: number;
        status: 'ok' | 'failed' | 'interrupted';
        outcome: CommandOutcome;
      };
    }
  | { type: 'story:status'; payload: { story: StoryRef; status: 'done' | 'blocked'; reason: string } }
  /** a review attempt's verdict (structured or text) and a code-review loop decision: why a story passed or was blocked */
  | { type: 'review:verdict'; payload: ReviewVerdictPayload }
  | { type: 'review:decision'; payload: ReviewDecisionPayload }
  | { type: 'warning'; payload: { message: string; story?: string; command?: string } }
  /** the account hit its usage limit: every command waits until `until` (epoch ms), then the batch goes on by itself */
  | { type: 'usage-limit'; payload: { until: number; command: string } }
  | { type: 'usage-limit-end'; payload: { until: number } }
  | { type: 'error'; payload: { message: string; story?: string; command?: string; scope: string } };

export type CommandProgress =
  | { kind: 'spawned'; pid: number; startTime: number }
  | { kind: 'init'; sessionId: string; model: string }
  | { kind: 'task'; task: TaskEvent; known: boolean }
  | { kind: 'rate-limit'; info: RateLimitInfo }
  | { kind: 'api-retry'; attempt: number; errorStatus: number | null }
  | { kind: 'warning'; message: string }
  /** the session chosen before the spawn (`--session-id`), and the one it forked to continue, if any (issue 14) */
  | { kind: 'session'; sessionId: string; continuedFrom: string | null; model: string | null; note: string | null };

export type WorkflowEventType = WorkflowEmitted['type'];

export interface ActiveState {
  /** path of actor ids from the root: `batch/cycle/story/codeReview` */
  path: string;
  /** which machine definition (`batch`, `cycle`, `story`, `review`, `commandRun`) */
  machine: string;
  value: unknown;
}

/** The runner's own events beside the workflow's. */
export type RunnerOwnEvent =
  | { type: 'state'; payload: { status: BatchStatus; reason?: string } }
  /** the batch's cap and spend, whenever either changes while there is a cap (issue 14) */
  | { type: 'budget'; payload: { budgetUsd: number | null; spentUsd: number } }
  | { type: 'machine'; payload: { actors: ActiveState[] } };

/** Every event a subscriber sees, with the id the store gave it: the spec's event types plus `state` and `machine`. */
export type WireEvent = (WorkflowEmitted | RunnerOwnEvent) & { id: number; ts: number; payloadJson?: string };

/** One event as stored in SQLite and sent on the WebSocket: `id` is strictly increasing. */
export interface StoredEvent {
  id: number;
  type: string;
  ts: number;
  payload: unknown;
  /** the payload as JSON text, when the store already made it (sent as is) */
  payloadJson?: string;
}

/** A stored event read back as the typed union (a payload written by another tool may not match: check `type`). */
export const asWireEvent = (event: StoredEvent): WireEvent => event as WireEvent;
