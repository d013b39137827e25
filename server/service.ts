// What the HTTP/WebSocket server needs from the runtime: the contract between server/ and the durable runner.

/** The batch status the dashboard shows (issue 3: GET /api/state). */
export type ApiStatus = 'idle' | 'running' | 'paused' | 'stopping' | 'stopped' | 'interrupted' | 'completed' | 'error';

/**
 * GET /api/commands lists each command's newest this many task rows (and counts them all); the dashboard keeps
 * the same number of a live command's.
 */
export const TASKS_PER_COMMAND = 200;

/** One event as stored in SQLite and sent on the WebSocket: `id` is strictly increasing. */
export interface StoredEvent {
  id: number;
  type: string;
  ts: number;
  payload: unknown;
  /** the payload as JSON text, when the store already made it (sent as is) */
  payloadJson?: string;
}

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

/** A 4xx the API maps to a status code, with a message for the JSON body. */
export class ServiceError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 | 422,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

export interface SprintService {
  state(): Promise<ApiState>;
  /** throws ServiceError(409) while a batch is active, ServiceError(400) for a bad count */
  start(cycles: number | 'all', options?: { budgetUsd?: number | null }): Promise<void>;
  /** sets or raises the batch's cap (null: none); a batch paused at its cap can then resume (issue 14) */
  setBudget(budgetUsd: number | null): Promise<void>;
  /** the operator's switch for continuing interrupted sessions */
  setContinueSessions(on: boolean): Promise<void>;
  /** null when the command is unknown or kept no transcript */
  transcript(commandId: number): Promise<CommandTranscript | null>;
  /** resumes a paused, stopped or interrupted batch; 409 when there is none */
  resume(): Promise<void>;
  pause(): Promise<void>;
  /** resolves once every child process tree is gone */
  stop(): Promise<void>;
  /** live events, in id order, each exactly once, as they are stored */
  subscribe(listener: (event: StoredEvent) => void): () => void;
  eventsAfter(afterId: number, limit: number): Promise<StoredEvent[]>;
  /** the lines of the legacy `docs/sprint-runner.csv`, imported once: history from before the tool */
  legacyEvents(): Promise<unknown[]>;
  batches(): Promise<unknown[]>;
  stories(): Promise<unknown[]>;
  commands(filter: { story?: string }): Promise<unknown[]>;
  /** the parsed sprint-status (epics and stories in file order) */
  sprintStatus(): Promise<unknown>;
  /** story key -> the text under `## Story` in its story file */
  storyDescriptions(): Promise<Record<string, string>>;
  taxonomy(): Promise<unknown>;
  /** the machine definitions for the inspector (JSON of each machine's definition) */
  machines(): Promise<unknown>;
}
