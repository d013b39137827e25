// What the HTTP/WebSocket server needs from the runtime: the contract between server/ and the durable runner.

/** The batch status the dashboard shows (issue 3: GET /api/state). */
export type ApiStatus = 'idle' | 'running' | 'paused' | 'stopping' | 'stopped' | 'interrupted' | 'completed' | 'error' | 'abandoned';

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
}

/**
 * A 4xx the API answers as `{ "error": message, "code": code, ...details }`. The code is what clients act on
 * (`resumable-batch`, `already-active`, ...); the message is for people.
 */
export class ServiceError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 | 415 | 422,
    readonly code: string = STATUS_CODES[status],
    /** more fields for the body, e.g. `{ batchId }` of the batch a 409 is about */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

/** The code of an error that has no more specific one. */
const STATUS_CODES = { 400: 'bad-request', 404: 'not-found', 409: 'conflict', 415: 'unsupported-media-type', 422: 'unprocessable' } as const;

export interface SprintService {
  state(): Promise<ApiState>;
  /**
   * Throws ServiceError 409 `already-active` while a batch is active, 409 `resumable-batch` (with its batchId)
   * while a stopped or interrupted batch could be resumed unless `discard` (which records it `abandoned`),
   * 400 `bad-cycles` for a bad count.
   */
  start(cycles: number | 'all', options?: { discard?: boolean }): Promise<void>;
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
  /** the previous orchestrator's batches, stories and background tasks, and when its database was imported */
  legacyRecords(): Promise<unknown>;
  batches(): Promise<unknown[]>;
  stories(): Promise<unknown[]>;
  commands(filter: { story?: string }): Promise<unknown[]>;
  /** review verdicts and code-review loop decisions (db/verdicts.ts), oldest first; `story` = short id or key */
  verdicts(filter: { story?: string; after?: number }): Promise<unknown[]>;
  /** the parsed sprint-status (epics and stories in file order) */
  sprintStatus(): Promise<unknown>;
  /** story key -> the text under `## Story` in its story file */
  storyDescriptions(): Promise<Record<string, string>>;
  taxonomy(): Promise<unknown>;
  /** the machine definitions for the inspector (JSON of each machine's definition) */
  machines(): Promise<unknown>;
}
