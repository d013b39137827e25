// The shapes the dashboard reads from the API and the WebSocket (server/service.ts and db/reads.ts on the other side).
import type { TaskStatus } from '../../db/schema.js';
export type { ApiState, ApiStatus, StoredEvent } from '../../server/service.js';
export { TASKS_PER_COMMAND } from '../../server/service.js';

export interface TaskView {
  storyShortId: string | null;
  taskId: string;
  known: boolean;
  status: TaskStatus;
  message: string | null;
  startedAt: string;
  endedAt: string | null;
}

/** One command attempt, from /api/commands history or built from live events. */
export interface CommandView {
  /** `${runId}#${attempt}` */
  key: string;
  runId: string;
  command: string;
  kind: string;
  stories: string[];
  attempt: number;
  model: string | null;
  background: boolean;
  status: 'running' | 'ok' | 'failed' | 'interrupted';
  message: string | null;
  costUsd: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  startedAt: string;
  endedAt: string | null;
  /** its newest TASKS_PER_COMMAND task rows, in start order */
  tasks: TaskView[];
  /** all of its task rows, kept or not */
  taskCount: number;
}

export interface SprintStoryView {
  key: string;
  shortId: string;
  epicId: string;
  storyNumber: number;
  rawStatus: string;
  status: string | null;
}

export interface SprintView {
  project: string | null;
  epics: { key: string; epicId: string; status: string }[];
  stories: SprintStoryView[];
}

export interface TaxonomyView {
  [command: string]: { id: string; label: string }[];
}
