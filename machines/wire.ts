// The wire shapes: every event and row that travels from the runner through SQLite and the API to the dashboard.
// Node-free on purpose (no runtime imports, no Node types): the browser bundle imports it as the server does.
// The review verdict payloads are declared beside their (pure, Node-free) rules and only referenced here.
import type { ReviewDecisionPayload, ReviewVerdictPayload } from './rules/review-verdict.js';

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

/** The runner's status of a batch; `idle` before any. */
/** `abandoned`: a stopped or interrupted batch the operator discarded to start a new one (never a live runner's own status) */
export type BatchStatus = 'idle' | 'running' | 'paused' | 'stopping' | 'stopped' | 'interrupted' | 'completed' | 'error' | 'abandoned';
/** A batch row's status: any but idle. */
export type StoredBatchStatus = Exclude<BatchStatus, 'idle'>;
export type CommandStatus = 'running' | 'ok' | 'failed' | 'interrupted';
/** failed / interrupted: the phase was still open when its command ended that way */
export type TaskStatus = 'running' | 'done' | 'failed' | 'interrupted';

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

// ------------------------------------------------------------------------------------------ API state

/** The batch status the dashboard shows (issue 3: GET /api/state). */
export type ApiStatus = BatchStatus;

/**
 * GET /api/commands lists each command's newest this many task rows (and counts them all); the dashboard keeps
 * the same number of a live command's.
 */
export const TASKS_PER_COMMAND = 200;

export interface ApiState {
  status: ApiStatus;
  batch: {
    id: number;
    startedAt: string;
    endedAt: string | null;
    maxCycles: number | 'all';
    cyclesCompleted: number;
    message: string | null;
    costUsd: number;
  } | null;
  /** `cycle n/max`: the cycle running now (cycles completed + 1) and the batch's maximum */
  cycle: { current: number; max: number | 'all' } | null;
  currentStory: { key: string; shortId: string; epicId: string } | null;
  currentCommand: { id: number; command: string; stories: string[]; attempt: number; model: string | null; startedAt: string } | null;
  /** the task phase the current command last reported, with its place in the taxonomy (3/5) */
  currentTask: { taskId: string; status: 'start' | 'end'; index: number | null; total: number | null; message: string } | null;
  background: { key: string; command: string; stories: string[]; status: string; startedAt: string }[];
  /** the account's usage limit holds the batch until this time (epoch ms); it goes on by itself then */
  usageLimit: { until: number } | null;
  /** the id of the newest stored event: a client can subscribe from here */
  lastEventId: number;
  /** the batch's spending cap and spend in USD (issue 14); absent from services that have none */
  budget?: { budgetUsd: number | null; spentUsd: number } | null;
  /** why the runner paused the batch by itself (`budget reached`) */
  pauseReason?: string | null;
  /** the operator's switch: interrupted steps continue their CLI session */
  continueSessions?: boolean;
}

// ----------------------------------------------------------------------------------------------- rows

export interface BatchSummary {
  id: number;
  startedAt: string;
  endedAt: string | null;
  /** a stored count, or 'all' (also for anything stored that is not a count) */
  maxCycles: number | 'all';
  cyclesCompleted: number;
  status: StoredBatchStatus;
  message: string | null;
  projectRoot: string;
  /** sum of its commands' costs; 0 before any reported one */
  costUsd: number;
  /** short ids of the stories it marked done, in order */
  storiesDone: string[];
  /** the stories it blocked, each with the reason it gave */
  storiesBlocked: { story: string; reason: string }[];
}

export interface CommandSummary {
  id: number;
  batchId: number;
  runId: string;
  command: string;
  kind: string;
  /** short ids, in the order the command named them */
  stories: string[];
  attempt: number;
  reviewAttempt: number | null;
  model: string | null;
  background: boolean;
  status: CommandStatus;
  pid: number | null;
  pidStartTime: number | null;
  sessionId: string | null;
  exitCode: number | null;
  signal: string | null;
  resultSubtype: string | null;
  isError: boolean | null;
  failure: string | null;
  message: string | null;
  costUsd: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  cacheReadTokens: number | null;
  cacheCreationTokens: number | null;
  durationMs: number | null;
  numTurns: number | null;
  interrupted: boolean;
  startedAt: string;
  endedAt: string | null;
  /** the session this attempt forked to continue an interrupted one (issue 14) */
  continuedFrom: string | null;
}

export interface TaskSummary {
  id: number;
  commandId: number;
  storyId: number | null;
  /** the story's short id, null for a task not tied to a known story */
  storyShortId: string | null;
  taskId: string;
  known: boolean;
  status: TaskStatus;
  message: string | null;
  startedAt: string;
  endedAt: string | null;
}

export interface CommandWithTasks extends CommandSummary {
  /** its task rows (the newest `tasksPerCommand` of them), in the order they started */
  tasks: TaskSummary[];
  /** all of its task rows, listed or not */
  taskCount: number;
}

export interface StorySummary {
  id: number;
  key: string;
  shortId: string;
  epicId: string;
  status: string | null;
  updatedAt: string;
  /** the newest command that served the story (its tasks not included) */
  latestCommand: CommandSummary | null;
}

export interface BackgroundTaskSummary {
  id: number;
  /** the batch machine's actor id (`bg.1`) */
  key: string;
  commandId: number | null;
  command: string;
  stories: string[];
  status: string;
  message: string | null;
  startedAt: string;
}

export interface Cost {
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
}

/** One line of the legacy `docs/sprint-runner.csv`, as imported and as GET /api/legacy-events returns it. */
export interface LegacyEvent {
  id: number;
  /** epoch seconds, as the log script wrote them */
  epoch: number;
  epic: string;
  /** the short id (`2b-6`), also for lines that used the long key (`2b-6-sub-agent-tab-read-only`) */
  story: string;
  command: string;
  taskId: string;
  status: string;
  message: string | null;
  /** `csv` or `previous-db` */
  source: string;
  /** the command run the line belongs to (`legacy:<id of its first line>`): see db/legacy-reads.ts groupLegacyRuns */
  run: string;
}

/** A command's kept stream-json (issue 13): the first and last lines, with what the size cap cut between them. */
export interface CommandTranscript {
  commandId: number;
  command: string;
  attempt: number;
  sessionId: string | null;
  continuedFrom: string | null;
  /** lines and bytes the command printed in all, and those cut between head and tail */
  lines: number;
  bytes: number;
  cut: { lines: number; bytes: number } | null;
  head: string[];
  tail: string[];
}
