// What the HTTP/WebSocket server needs from the runtime: the contract between server/ and the durable runner.
import type { ApiState, CommandTranscript, StoredEvent } from '../machines/wire.js';

// the API's shapes are the dashboard's too: declared once in the Node-free wire module
export { TASKS_PER_COMMAND, type ApiState, type ApiStatus, type CommandTranscript, type StoredEvent } from '../machines/wire.js';

/**
 * A 4xx the API answers as `{ "error": message, "code": code, ...details }`. The code is what clients act on
 * (`resumable-batch`, `already-active`, ...); the message is for people.
 */
export class ServiceError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 | 415 | 422 | 503,
    readonly code: string = STATUS_CODES[status],
    /** more fields for the body, e.g. `{ batchId }` of the batch a 409 is about */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

/** The code of an error that has no more specific one. */
const STATUS_CODES = { 400: 'bad-request', 404: 'not-found', 409: 'conflict', 415: 'unsupported-media-type', 422: 'unprocessable', 503: 'unavailable' } as const;

export interface SprintService {
  state(): Promise<ApiState>;
  /**
   * Throws ServiceError 409 `already-active` while a batch is active, 409 `resumable-batch` (with its batchId)
   * while a stopped or interrupted batch could be resumed unless `discard` (which records it `abandoned`),
   * 400 `bad-cycles` for a bad count.
   */
  start(cycles: number | 'all', options?: { discard?: boolean; budgetUsd?: number | null }): Promise<void>;
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
  /** the previous orchestrator's batches, stories and background tasks, and when its database was imported */
  legacyRecords(): Promise<unknown>;
  batches(): Promise<unknown[]>;
  stories(): Promise<unknown[]>;
  commands(filter: { story?: string }): Promise<unknown[]>;
  /** review verdicts and code-review loop decisions (db/verdicts.ts), oldest first; `story` = short id or key */
  verdicts(filter: { story?: string; after?: number }): Promise<unknown[]>;
  /** the parsed sprint-status (epics and stories in file order) */
  sprintStatus(): Promise<unknown>;
  /** story key -> the user story its story file states (its `## Story` or `## User Story` section) */
  storyDescriptions(): Promise<Record<string, string>>;
  taxonomy(): Promise<unknown>;
  /** the machine definitions for the inspector (JSON of each machine's definition) */
  machines(): Promise<unknown>;
}
