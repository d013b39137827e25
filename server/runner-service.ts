// The real SprintService: the durable runner for controls and live events, SQLite for history and state.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SprintDb } from '../db/database.js';
import { legacyEvents, legacyRecords } from '../db/legacy-reads.js';
import { eventsAfter, lastEventId, latestBatch, listBatches, listCommands, listStories, runningBackgroundTasks } from '../db/reads.js';
import { reviewVerdicts } from '../db/verdicts.js';
import { readSprintStatusFile, SprintStatusError } from '../machines/actors/sprint-files.js';
import { machineDefinitions } from '../machines/persistence.js';
import { loadTaxonomy, type Taxonomy } from '../machines/project/layout.js';
import { storyDescription, storyFileFor } from '../machines/project/story-files.js';
import { taskPhaseIndex } from '../machines/wire.js';
import type { RunnerEvent, SprintRunner } from '../machines/runner-api.js';
import { RunnerError } from '../machines/runner-errors.js';
import { serviceErrorOf } from './errors.js';
import { ServiceError, TASKS_PER_COMMAND, type ApiState, type CommandTranscript, type SprintService, type StoredEvent } from './service.js';
import { transcriptLines } from '../machines/claude/transcript.js';
import { loadTranscript } from '../db/sessions-budget.js';

interface LiveCommand {
  id: string;
  command: string;
  kind: string;
  stories: { key: string; shortId: string; epicId: string }[];
  attempt: number;
  model: string | null;
  startedAt: string;
  task: { taskId: string; status: 'start' | 'end'; message: string } | null;
}

export function createRunnerService(runner: SprintRunner, db: SprintDb): SprintService {
  /** the main-flow command running now, from the live events (history is in SQLite) */
  let current: LiveCommand | null = null;
  let taxonomy: Taxonomy | null = null;

  const track = (event: RunnerEvent) => {
    if (event.type === 'command:start' && !event.payload.background) {
      const p = event.payload;
      current = { id: p.runId, command: p.command, kind: p.kind, stories: p.stories, attempt: p.attempt, model: p.model, startedAt: new Date(event.ts).toISOString(), task: null };
    } else if (event.type === 'command:progress' && event.payload.kind === 'task' && current?.id === event.payload.runId) {
      const { task } = event.payload;
      current.task = { taskId: task.taskId, status: task.status, message: task.message };
    } else if (event.type === 'command:end' && current?.id === event.payload.runId) {
      current = null;
    } else if (event.type === 'batch:end') {
      current = null;
    }
  };
  runner.subscribe(track);

  const layout = runner.layout;
  const taxonomyOf = async () => (taxonomy ??= await loadTaxonomy(await layout));

  /** runner errors carry codes; the API answers them by code (errors.ts), never by their wording */
  const control = async (action: () => Promise<void> | void) => {
    try {
      await action();
    } catch (error) {
      throw error instanceof RunnerError ? serviceErrorOf(error) : error;
    }
  };

  return {
    async state(): Promise<ApiState> {
      // the command running now, taken before the first await: it may end while this state is being read
      const live = current;
      const task = live?.task ?? null;
      const status = runner.status();
      const batch = await latestBatch(db);
      const phases = live ? ((await taxonomyOf().catch(() => ({}) as Taxonomy))[live.kind] ?? []) : [];
      const maxCycles = batch ? (batch.maxCycles === 'all' ? 'all' : Number(batch.maxCycles)) : null;
      return {
        status: status === 'idle' && batch ? (batch.status as ApiState['status']) : status,
        batch: batch
          ? {
              id: batch.id,
              startedAt: batch.startedAt,
              endedAt: batch.endedAt,
              maxCycles: maxCycles!,
              cyclesCompleted: batch.cyclesCompleted,
              message: batch.message,
              costUsd: batch.costUsd,
            }
          : null,
        cycle: batch && maxCycles !== null ? { current: Math.min(batch.cyclesCompleted + 1, maxCycles === 'all' ? Infinity : maxCycles), max: maxCycles } : null,
        currentStory: live?.stories[0] ?? null,
        currentCommand: live
          ? { id: 0, command: live.command, stories: live.stories.map((s) => s.shortId), attempt: live.attempt, model: live.model, startedAt: live.startedAt }
          : null,
        currentTask: task ? { ...task, ...taskPhaseIndex(phases, task.taskId) } : null,
        background: batch
          ? (await runningBackgroundTasks(db, batch.id)).map((t) => ({ key: t.key, command: t.command, stories: t.stories, status: t.status, startedAt: t.startedAt }))
          : [],
        usageLimit: runner.usageLimitUntil() !== null ? { until: runner.usageLimitUntil()! } : null,
        lastEventId: await lastEventId(db),
        budget: runner.budget(),
        pauseReason: runner.pauseReason(),
        continueSessions: runner.continueSessions(),
      };
    },
    start: (cycles, options = {}) => control(() => runner.start({ cycles, ...options })),
    setBudget: (budgetUsd) => control(() => runner.setBudget(budgetUsd)),
    setContinueSessions: (on) => control(() => runner.setContinueSessions(on)),
    async transcript(commandId): Promise<CommandTranscript | null> {
      const stored = loadTranscript(db, commandId);
      if (!stored) return null;
      const row = await db.kysely.selectFrom('commands').select(['command', 'attempt', 'session_id', 'continued_from']).where('id', '=', commandId).executeTakeFirst();
      if (!row) return null;
      const { head, tail } = await transcriptLines(stored);
      return {
        commandId,
        command: row.command,
        attempt: row.attempt,
        sessionId: row.session_id,
        continuedFrom: row.continued_from,
        lines: stored.lines,
        bytes: stored.bytes,
        cut: stored.cutLines > 0 ? { lines: stored.cutLines, bytes: stored.cutBytes } : null,
        head,
        tail,
      };
    },
    resume: () => control(() => runner.resume()),
    pause: () => control(() => runner.pause()),
    stop: () => control(() => runner.stop()),
    subscribe(listener) {
      return runner.subscribe((event) =>
        listener({ id: event.id, type: event.type, ts: event.ts, payload: event.payload, ...(event.payloadJson !== undefined ? { payloadJson: event.payloadJson } : {}) } satisfies StoredEvent),
      );
    },
    eventsAfter: (afterId, limit) => eventsAfter(db, afterId, limit),
    legacyEvents: () => legacyEvents(db),
    legacyRecords: () => legacyRecords(db),
    batches: () => listBatches(db),
    stories: () => listStories(db),
    commands: (filter) => listCommands(db, { tasksPerCommand: TASKS_PER_COMMAND, ...(filter.story ? { story: filter.story } : {}) }),
    verdicts: (filter) => reviewVerdicts(db, filter),
    async sprintStatus() {
      try {
        return await readSprintStatusFile(await layout, { writeTemplate: false });
      } catch (error) {
        if (!(error instanceof SprintStatusError)) throw error;
        // what the operator must fix, by code: the dashboard shows the message in place of the stories
        if (error.code === 'unparseable') throw new ServiceError(error.message, 422, 'sprint-status-unparseable');
        throw new ServiceError(error.message, 404, error.code === 'project-missing' ? 'project-missing' : 'sprint-status-missing');
      }
    },
    async storyDescriptions() {
      const current = await layout;
      const descriptions: Record<string, string> = {};
      const files = await readdir(current.implementationArtifacts).catch(() => [] as string[]);
      const sprint = await readSprintStatusFile(current, { writeTemplate: false }).catch(() => null);
      for (const story of sprint?.stories ?? []) {
        const file = storyFileFor(files, story);
        if (file === null) continue;
        const text = await readFile(path.join(current.implementationArtifacts, file), 'utf8').catch(() => '');
        const description = storyDescription(text);
        if (description) descriptions[story.key] = description;
      }
      return descriptions;
    },
    taxonomy: taxonomyOf,
    machines: async () => machineDefinitions(),
  };
}
