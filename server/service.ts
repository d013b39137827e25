// What the HTTP/WebSocket server needs from the runtime: the contract between server/ and the durable runner.
import type { ApiState, StoredEvent } from '../machines/wire.js';

// the API's shapes are the dashboard's too: declared once in the Node-free wire module
export { TASKS_PER_COMMAND, type ApiState, type ApiStatus, type StoredEvent } from '../machines/wire.js';

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
  start(cycles: number | 'all'): Promise<void>;
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
