// The RunStore over SQLite: each transition's events, the rows they imply and the snapshot, in one transaction.
import type { CommandOutcome } from '../machines/claude/types.js';
import { MACHINE_VERSION, type ResumableBatch, type RunStore, type StoredRunnerEvent } from '../machines/persistence.js';
import type { CommandProgress, WorkflowEmitted } from '../machines/types.js';
import type { TaskEvent } from '../machines/claude/types.js';
import type { SprintDb } from './database.js';
import { batchBudget, batchSpend, lastAttempts, saveTranscript, setBatchBudget } from './sessions-budget.js';
import type { BatchStatus } from './schema.js';
import { storageFault } from './storage-faults.js';
import { upsertBackgroundTask } from './background-tasks.js';
import { insertBatch, updateBatch } from './batches.js';
import { insertCommand, markRunningCommandsInterrupted, updateCommand } from './commands.js';
import { insertEvent } from './events.js';
import { type LiveProcess, liveProcesses, markProcessesEnded, recordProcess } from './processes.js';
import { loadSnapshot, saveSnapshot } from './snapshots.js';
import { findStoryId, upsertStory } from './stories.js';
import { getSync, runSync } from './sync-queries.js';
import { endOpenTasks, endTask, startTask } from './tasks.js';

// the events of one commit mostly share a millisecond: each distinct time is formatted once
let lastIsoTs = NaN;
let lastIso = '';
const iso = (ts: number): string => {
  if (ts !== lastIsoTs) {
    lastIsoTs = ts;
    lastIso = new Date(ts).toISOString();
  }
  return lastIso;
};

/** Batch statuses that mean an orchestrator was driving it when it last wrote. */
const LIVE_STATUSES: readonly BatchStatus[] = ['running', 'paused', 'stopping'];

interface TaskPairing {
  /** a task start -> the end in the same commit that closes it */
  endOf: Map<EventInput, { ts: number; task: TaskEvent }>;
  /** the ends that close a start in the same commit */
  paired: Set<EventInput>;
}

/**
 * A flood of lines (one stdout chunk) commits many task starts with their ends. A start whose end is in the
 * same commit is written as one done row, exactly what the start's insert and the end's update would leave:
 * an end closes the newest open start of the same command, story and task, as endTask does. A command starting
 * or ending, or a story row changing, ends the pairing window, so no pair spans what could change the match.
 */
export function pairTasks(events: readonly EventInput[], storyIdOf: (keyOrShortId: string) => number | null): TaskPairing {
  const pairing: TaskPairing = { endOf: new Map(), paired: new Set() };
  const open = new Map<string, EventInput[]>();
  for (const event of events) {
    if (event.type === 'command:start' || event.type === 'command:end' || event.type === 'story:status') {
      open.clear();
      continue;
    }
    if (event.type !== 'command:progress') continue;
    const progress = event.payload as (CommandProgress & { runId: string }) | null;
    if (progress?.kind !== 'task') continue;
    const { task } = progress;
    const key = `${progress.runId}\0${task.story ? storyIdOf(task.story) : null}\0${task.taskId}`;
    if (task.status === 'start') {
      const starts = open.get(key);
      if (starts) starts.push(event);
      else open.set(key, [event]);
    } else {
      const start = open.get(key)?.pop();
      if (start) {
        pairing.endOf.set(start, { ts: event.ts, task });
        pairing.paired.add(event);
      }
    }
  }
  return pairing;
}

export interface RecoveryReport {
  /** the batch a crashed orchestrator left behind, now `interrupted` */
  interruptedBatch: number | null;
  /** children of the crashed run that were still alive (same PID and start time) and were ended */
  killed: number[];
}

type EventInput = { type: string; ts: number; payload: unknown };

export interface SqliteRunStore extends RunStore {
  /**
   * After a crash: the processes the dead run recorded and never saw end (pid and start time). The caller
   * ends those still running with the same start time through the process layer (db does not signal
   * processes), then calls recover().
   */
  leftoverProcesses(): LiveProcess[];
  /** Marks the leftover processes ended and the dead run's batch interrupted; `killed` (the pids the caller found alive and ended) goes into the report and the event. */
  recover(killed: readonly number[]): RecoveryReport;
}

export function createSqliteStore(db: SprintDb): SqliteRunStore {
  /** run id -> commands row of its current attempt (ids of earlier processes' rows are never needed again) */
  const commandIds = new Map<string, number>();
  const lastSnapshot = new Map<number, string>();

  const commandIdOf = (event: EventInput): number | null => {
    const runId = (event.payload as { runId?: unknown } | null)?.runId;
    return typeof runId === 'string' ? (commandIds.get(runId) ?? null) : null;
  };

  /** The rows an event implies, so the dashboard can query tables instead of replaying events. */
  const apply = (batchId: number, event: EventInput, commandId: number | null, pairing: TaskPairing): number | null => {
    const e = event as WorkflowEmitted | { type: 'state'; payload: { status: string } };
    switch (e.type) {
      case 'command:start': {
        const p = e.payload;
        const id = insertCommand(db, {
          batchId,
          runId: p.runId,
          command: p.command,
          kind: p.kind,
          stories: p.stories,
          attempt: p.attempt,
          reviewAttempt: p.reviewAttempt,
          model: p.model,
          background: p.background,
          startedAt: iso(event.ts),
        });
        commandIds.set(p.runId, id);
        if (p.background) {
          upsertBackgroundTask(db, {
            batchId,
            taskKey: p.runId,
            commandId: id,
            command: p.command,
            storyIds: p.stories.map((s) => s.shortId),
            status: 'running',
            message: null,
            startedAt: iso(event.ts),
          });
        }
        return id;
      }
      case 'command:progress':
        if (commandId !== null) applyProgress(commandId, e.payload, event, pairing);
        return commandId;
      // a review's verdict and the loop's decision belong to the review run they are about (db/verdicts.ts)
      case 'review:verdict':
      case 'review:decision':
        return commandId;
      case 'command:end': {
        if (commandId === null) return null;
        const p = e.payload;
        updateCommand(db, commandId, { ...outcomeColumns(p.outcome), status: p.status, interrupted: p.status === 'interrupted' ? 1 : 0, ended_at: iso(event.ts) });
        if (p.status !== 'ok') endOpenTasks(db, [commandId], p.status, iso(event.ts));
        markProcessesEnded(
          db,
          liveProcesses(db)
            .filter((proc) => proc.commandId === commandId)
            .map((proc) => proc.id),
        );
        if (p.background) {
          upsertBackgroundTask(db, {
            batchId,
            taskKey: p.runId,
            commandId,
            command: p.command,
            storyIds: p.stories,
            status: p.status === 'ok' ? 'ok' : p.status === 'failed' ? 'failed' : 'interrupted',
            message: p.outcome.message,
            endedAt: iso(event.ts),
          });
        }
        return commandId;
      }
      case 'story:status':
        upsertStory(db, e.payload.story, e.payload.status, iso(event.ts));
        return null;
      case 'cycle:end':
        if (e.payload.counted) updateBatch(db, batchId, { cyclesCompleted: e.payload.cycle });
        return null;
      case 'batch:end':
        updateBatch(db, batchId, {
          status: e.payload.status,
          message: e.payload.message,
          cyclesCompleted: e.payload.cyclesCompleted,
          endedAt: iso(event.ts),
        });
        return null;
      case 'state': {
        const status = e.payload.status;
        if (status === 'abandoned') updateBatch(db, batchId, { status, endedAt: iso(event.ts), message: 'discarded: a new batch was started in its place' });
        else if (status !== 'idle') updateBatch(db, batchId, { status: status as BatchStatus });
        return null;
      }
      default:
        return null;
    }
  };

  const applyProgress = (commandId: number, progress: CommandProgress, event: EventInput, pairing: TaskPairing) => {
    const ts = event.ts;
    switch (progress.kind) {
      case 'spawned':
        updateCommand(db, commandId, { pid: progress.pid, pid_start_time: progress.startTime });
        recordProcess(db, { commandId, pid: progress.pid, startTime: progress.startTime, role: 'root' });
        return;
      case 'init':
        // the model that really ran (the CLI's full name), shown per attempt
        updateCommand(db, commandId, { session_id: progress.sessionId, model: progress.model });
        return;
      case 'session':
        updateCommand(db, commandId, { session_id: progress.sessionId, continued_from: progress.continuedFrom, model: progress.model });
        return;
      case 'task': {
        const { task } = progress;
        const common = { commandId, storyKey: task.story || null, taskId: task.taskId };
        if (task.status === 'start') {
          // with its end in the same commit, the row is what endTask would leave: done, with the end's message if it has one
          const end = pairing.endOf.get(event);
          startTask(db, { ...common, known: progress.known, message: end?.task.message || task.message, startedAt: iso(ts), ...(end ? { endedAt: iso(end.ts) } : {}) });
        } else if (!pairing.paired.has(event)) {
          endTask(db, { ...common, known: progress.known, message: task.message, endedAt: iso(ts) });
        }
        return;
      }
      default:
        return;
    }
  };

  const commitTransaction = db.sqlite.transaction((batchId: number, events: EventInput[], snapshot: unknown | null) => {
    const stored: StoredRunnerEvent[] = [];
    const pairing = pairTasks(events, (key) => findStoryId(db, key));
    for (const event of events) {
      const commandId = apply(batchId, event, commandIdOf(event), pairing);
      const payloadJson = JSON.stringify(event.payload) ?? 'null';
      const id = insertEvent(db, { batchId, commandId, type: event.type, ts: event.ts, payload: event.payload, payloadJson });
      stored.push({ id, type: event.type, ts: event.ts, payload: event.payload, payloadJson });
    }
    if (snapshot !== null) {
      const json = JSON.stringify(snapshot);
      // most transitions (task progress) change no state worth a rewrite of the snapshot row
      if (lastSnapshot.get(batchId) !== json) {
        saveSnapshot(db, batchId, MACHINE_VERSION, json);
        lastSnapshot.set(batchId, json);
      }
    }
    return stored;
  });

  return {
    // a failed write (disk full, read-only, vanished) reaches the runner as a StorageFault naming the file and cause
    beginBatch(info) {
      try {
        const id = insertBatch(db, { startedAt: iso(info.startedAt), maxCycles: info.maxCycles, status: 'running', projectRoot: info.projectRoot });
        if (info.budgetUsd !== undefined && info.budgetUsd !== null) setBatchBudget(db, id, info.budgetUsd);
        return id;
      } catch (error) {
        throw storageFault(db.file, error);
      }
    },
    lastAttempts: () => lastAttempts(db),
    spent: (batchId) => batchSpend(db, batchId),
    setBudget: (batchId, budgetUsd) => setBatchBudget(db, batchId, budgetUsd),
    saveTranscript: (key, record) => void saveTranscript(db, key, record),
    commit(batchId, events, snapshot) {
      try {
        return commitTransaction(batchId, events, snapshot);
      } catch (error) {
        throw storageFault(db.file, error);
      }
    },
    resumable(): ResumableBatch | null {
      const batch = getSync(db, db.kysely.selectFrom('batches').selectAll().orderBy('id', 'desc').limit(1));
      if (!batch || !['stopped', 'interrupted', ...LIVE_STATUSES].includes(batch.status)) return null;
      const saved = loadSnapshot(db, batch.id);
      if (!saved) return null;
      return {
        batchId: batch.id,
        status: batch.status === 'stopped' ? 'stopped' : 'interrupted',
        maxCycles: batch.max_cycles === 'all' ? 'all' : Number(batch.max_cycles),
        machineVersion: saved.machineVersion,
        snapshot: JSON.parse(saved.snapshot) as unknown,
        budgetUsd: batchBudget(db, batch.id),
      };
    },
    leftoverProcesses() {
      return liveProcesses(db);
    },
    recover(killed) {
      const report: RecoveryReport = { interruptedBatch: null, killed: [...killed] };
      const processes = liveProcesses(db);
      const now = Date.now();
      db.sqlite.transaction(() => {
        markProcessesEnded(db, processes.map((proc) => proc.id));
        const live = getSync(
          db,
          db.kysely.selectFrom('batches').select(['id', 'status']).where('status', 'in', [...LIVE_STATUSES]).orderBy('id', 'desc').limit(1),
        );
        if (!live) return;
        report.interruptedBatch = live.id;
        updateBatch(db, live.id, { status: 'interrupted' });
        endOpenTasks(db, markRunningCommandsInterrupted(db, live.id, iso(now)), 'interrupted', iso(now));
        runSync(
          db,
          db.kysely
            .updateTable('background_tasks')
            .set({ status: 'interrupted', ended_at: iso(now) })
            .where('batch_id', '=', live.id)
            .where('status', '=', 'running'),
        );
        insertEvent(db, {
          batchId: live.id,
          commandId: null,
          type: 'state',
          ts: now,
          payload: { status: 'interrupted', killed: report.killed },
        });
      })();
      return report;
    },
  };
}

function outcomeColumns(outcome: CommandOutcome) {
  const result = outcome.result;
  return {
    exit_code: outcome.exitCode,
    signal: outcome.signal,
    session_id: outcome.sessionId,
    failure: outcome.failure,
    message: outcome.message,
    result_subtype: result?.subtype ?? null,
    is_error: result ? (result.isError ? 1 : 0) : null,
    cost_usd: result?.costUsd ?? null,
    input_tokens: result?.usage.inputTokens ?? null,
    output_tokens: result?.usage.outputTokens ?? null,
    cache_read_tokens: result?.usage.cacheReadInputTokens ?? null,
    cache_creation_tokens: result?.usage.cacheCreationInputTokens ?? null,
    duration_ms: result?.durationMs ?? null,
    num_turns: result?.numTurns ?? null,
  };
}

