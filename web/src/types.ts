// The shapes the dashboard reads from the API and the WebSocket: the server's own (machines/wire.ts), never copies.
import type { CommandSummary, TaskSummary } from '../../machines/wire.js';

export type {
  ActiveState,
  ApiState,
  ApiStatus,
  BatchSummary,
  CommandWithTasks,
  LegacyEvent,
  StoredEvent,
  Taxonomy as TaxonomyView,
  WireEvent,
} from '../../machines/wire.js';
export { TASKS_PER_COMMAND, asWireEvent, taskPhaseIndex } from '../../machines/wire.js';
export type { SprintStatus as SprintView, StoryEntry as SprintStoryView } from '../../machines/rules/sprint-status.js';

/** A task row as the views use it: the API's, without the database ids (live tasks have none yet). */
export type TaskView = Pick<TaskSummary, 'storyShortId' | 'taskId' | 'known' | 'status' | 'message' | 'startedAt' | 'endedAt'>;

/** One command attempt, from /api/commands history, built from live events, or from legacy CSV lines. */
export type CommandView = Pick<
  CommandSummary,
  'runId' | 'command' | 'kind' | 'stories' | 'attempt' | 'model' | 'background' | 'status' | 'message' | 'costUsd' | 'inputTokens' | 'outputTokens' | 'startedAt' | 'endedAt' | 'reviewAttempt'
> & {
  /** `${runId}#${attempt}` */
  key: string;
  /** the batch it ran in; null for history from before the tool (docs/sprint-runner.csv) */
  batchId: number | null;
  /** its newest TASKS_PER_COMMAND task rows, in start order */
  tasks: TaskView[];
  /** all of its task rows, kept or not */
  taskCount: number;
};
