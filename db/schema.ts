// The SQLite schema as Kysely sees it: one Database interface, the shape every migration builds toward.
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { CommandStatus, StoredBatchStatus, TaskStatus } from '../machines/wire.js';

/** ISO-8601 UTC strings (`new Date().toISOString()`), so rows read well in any SQLite client. */
type IsoTime = string;

/** a batch row's status (the runner's, without `idle`), declared once in the wire module */
export type BatchStatus = StoredBatchStatus;
export type { CommandStatus } from '../machines/wire.js';
export type { TaskStatus } from '../machines/wire.js';

export interface BatchesTable {
  id: Generated<number>;
  started_at: IsoTime;
  ended_at: IsoTime | null;
  /** '3' or 'all' */
  max_cycles: string;
  cycles_completed: Generated<number>;
  status: BatchStatus;
  message: string | null;
  project_root: string;
  /** the most this batch may spend, in USD; null = no cap (0006) */
  budget_usd: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface StoriesTable {
  id: Generated<number>;
  /** the long key from sprint-status: `2a-1-log-parser` */
  key: string;
  short_id: string;
  epic_id: string;
  /** last status seen in sprint-status or written by the runner */
  status: string | null;
  updated_at: IsoTime;
}

export interface CommandsTable {
  id: Generated<number>;
  batch_id: number;
  /** stable id of the step (`c3/code-review-2/2a-1`); attempts after an interruption share it */
  run_id: string;
  /** as logged: `code-review-2` */
  command: string;
  /** taxonomy name: `code-review` */
  kind: string;
  /** comma-joined short ids, for display; the join table holds the foreign keys */
  story_ids: string;
  attempt: number;
  review_attempt: number | null;
  model: string | null;
  background: ColumnType<number, number | undefined, number>;
  status: CommandStatus;
  pid: number | null;
  /** /proc start time in clock ticks: a PID is ours only while it matches */
  pid_start_time: number | null;
  session_id: string | null;
  /** the CLI session this attempt forked to continue an interrupted one; null = a fresh start (0006) */
  continued_from: ColumnType<string | null, string | null | undefined, string | null>;
  exit_code: number | null;
  signal: string | null;
  result_subtype: string | null;
  is_error: number | null;
  failure: string | null;
  message: string | null;
  cost_usd: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cache_read_tokens: number | null;
  cache_creation_tokens: number | null;
  duration_ms: number | null;
  num_turns: number | null;
  /** 1 when a stop, a crash or a watchdog ended it */
  interrupted: Generated<number>;
  started_at: IsoTime;
  ended_at: IsoTime | null;
}

export interface CommandStoriesTable {
  command_id: number;
  story_id: number;
}

/** Task phases reported through the log script, one row per phase of a command and story. */
export interface TasksTable {
  id: Generated<number>;
  command_id: number;
  story_id: number | null;
  task_id: string;
  /** false for an id outside the taxonomy (the chain logs `workflow`) */
  known: number;
  status: TaskStatus;
  message: string | null;
  started_at: IsoTime;
  ended_at: IsoTime | null;
}

export interface EventsTable {
  /** the WebSocket message id: strictly increasing, so a client can ask for everything after one */
  id: Generated<number>;
  batch_id: number | null;
  command_id: number | null;
  type: string;
  /** epoch milliseconds */
  ts: number;
  /** JSON */
  payload: string;
}

export interface BackgroundTasksTable {
  id: Generated<number>;
  batch_id: number;
  command_id: number | null;
  /** the spawned actor's id in the batch machine: `bg.1` */
  task_key: string;
  command: string;
  story_ids: string;
  status: 'running' | 'ok' | 'failed' | 'interrupted';
  message: string | null;
  started_at: IsoTime;
  ended_at: IsoTime | null;
}

/** The latest persisted snapshot of each batch's root actor. */
export interface SnapshotsTable {
  batch_id: number;
  /** hash of the machine definitions: a snapshot restores only into the machines that wrote it */
  machine_version: string;
  snapshot: string;
  updated_at: IsoTime;
}

/** Every process a command started that we know of, so a crashed run's children can be ended later. */
export interface ProcessesTable {
  id: Generated<number>;
  command_id: number;
  pid: number;
  start_time: number;
  role: 'root' | 'descendant';
  /** 1 once it was seen gone */
  ended: Generated<number>;
}

/** `docs/sprint-runner.csv` lines from before the tool, imported once. */
export interface LegacyEventsTable {
  id: Generated<number>;
  /** the line itself: importing again skips what is already here */
  line: string;
  epoch: number;
  epic: string;
  story: string;
  command: string;
  task_id: string;
  status: string;
  message: string | null;
  /** `csv` (docs/sprint-runner.csv) or `previous-db` (the previous orchestrator's database) */
  source: Generated<string>;
}

/** One import of a source of history that is read once (the previous orchestrator's database). */
export interface LegacyImportsTable {
  /** `previous-db` */
  source: string;
  file: string;
  imported_at: IsoTime;
  /** JSON: what was read, by table */
  summary: string;
}

/** The previous orchestrator's batches, stories and background tasks, as they were (times in epoch seconds). */
export interface LegacyRecordsTable {
  id: Generated<number>;
  source: string;
  kind: 'batch' | 'story' | 'background-task';
  /** the row's id in its own database */
  source_id: number;
  batch_source_id: number | null;
  story: string | null;
  epic: string | null;
  /** max cycles of a batch, task type of a background task */
  label: string | null;
  status: string | null;
  started_at: number | null;
  ended_at: number | null;
  /** JSON: the whole row as read */
  data: string;
}

/** Who holds the database: one orchestrator at a time. */
export interface OwnerTable {
  id: number;
  pid: number;
  start_time: number;
  hostname: string;
  acquired_at: IsoTime;
}

/** A command's stream-json: zlib-deflated first and last lines, with what the cap cut between them (0007). */
export interface TranscriptsTable {
  command_id: number;
  head: Buffer;
  tail: Buffer;
  /** lines and bytes the command printed in all */
  lines: number;
  bytes: number;
  /** lines and bytes dropped between head and tail */
  cut_lines: number;
  cut_bytes: number;
  saved_at: IsoTime;
}

export interface Database {
  batches: BatchesTable;
  stories: StoriesTable;
  commands: CommandsTable;
  command_stories: CommandStoriesTable;
  tasks: TasksTable;
  events: EventsTable;
  background_tasks: BackgroundTasksTable;
  snapshots: SnapshotsTable;
  processes: ProcessesTable;
  legacy_events: LegacyEventsTable;
  legacy_imports: LegacyImportsTable;
  legacy_records: LegacyRecordsTable;
  owner: OwnerTable;
  transcripts: TranscriptsTable;
}

export type BatchRow = Selectable<BatchesTable>;
export type CommandRow = Selectable<CommandsTable>;
export type EventRow = Selectable<EventsTable>;
export type NewEvent = Insertable<EventsTable>;
export type CommandUpdate = Updateable<CommandsTable>;
