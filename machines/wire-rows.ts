// The wire's rows: the statuses, GET /api/state, and every row the database returns and the API sends to the dashboard.
// Node-free like machines/wire.ts, which re-exports it: importers name wire.ts, never this file.

// ------------------------------------------------------------------------------------------- statuses

/** The runner's status of a batch; `idle` before any. */
/** `abandoned`: a stopped or interrupted batch the operator discarded to start a new one (never a live runner's own status) */
export type BatchStatus = 'idle' | 'running' | 'paused' | 'stopping' | 'stopped' | 'interrupted' | 'completed' | 'error' | 'abandoned';
/** A batch row's status: any but idle. */
export type StoredBatchStatus = Exclude<BatchStatus, 'idle'>;
export type CommandStatus = 'running' | 'ok' | 'failed' | 'interrupted';
/** failed / interrupted: the phase was still open when its command ended that way */
export type TaskStatus = 'running' | 'done' | 'failed' | 'interrupted';

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
