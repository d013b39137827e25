// The outside world the runner gives the machines: the claude process layer and its settings, the sprint files, the sprint-status keeper, the transcripts kept.
import { fromPromise } from 'xstate';
import { checkClaudeSettings, createClaudeCommandActor, type ClaudeSettings, type ProcessRegistry } from './actors/claude-command.js';
import { injectProjectContextFiles, projectContextState, writeStoryStatusFile } from './actors/sprint-files.js';
import { createSprintStatusKeeper, type SprintStatusKeeper } from './actors/sprint-status-keeper.js';
import type { TranscriptRecord } from './claude/transcript.js';
import type { FailureReason } from './claude/types.js';
import type { RunStore } from './persistence.js';
import { checkProjectFiles, type ProjectLayout, type Taxonomy } from './project/layout.js';
import { WATCHDOG_DEFAULTS, type SprintRunnerOptions } from './runner-api.js';
import type { SessionLedger } from './sessions.js';
import { errorMessage } from './types.js';
import type { WorkflowActors } from './workflow.js';

/** What the world needs of the runner that owns it. */
export interface RunnerWorldHooks {
  store: RunStore;
  registry: ProcessRegistry;
  ledger: SessionLedger;
  /** the operator's switch: whether an interrupted step continues its CLI session */
  continueSessions: () => boolean;
  /** USD left under the batch's cap, or null when there is none */
  remainingBudget: () => number | null;
  /** a `warning` event, written with the next commit */
  warn: (message: string) => void;
  /** a stopped or crashed batch's children were ended: its first read may find a half-written file */
  killedBefore: boolean;
}

export interface RunnerWorld {
  /** the real actors the workflow invokes, for one project */
  buildActors(projectLayout: ProjectLayout): WorkflowActors;
  /**
   * Before a batch starts or resumes after children were ended (stop, crash recovery), the file they may have
   * been writing is checked first, so no resumed subagent reads it half-written. A failure here is left to
   * the batch's own first read, which reports it.
   */
  repairSprintStatus(projectLayout: ProjectLayout): Promise<void>;
  /** a command ended: if we ended it, the sprint-status file may be half-written */
  noteCommandEnd(failure: FailureReason | null): void;
  /** transcripts still being compressed: close() waits for them, so none is written to a closed database */
  readonly savingTranscripts: ReadonlySet<Promise<void>>;
}

/** Stop, crash recovery and the watchdogs end a subagent wherever it is, maybe in the middle of writing a file. */
function endedByUs(failure: FailureReason | null): boolean {
  return failure === 'interrupted' || failure === 'watchdog-idle' || failure === 'watchdog-total' || failure === 'watchdog-exit';
}

export function createRunnerWorld(options: SprintRunnerOptions, hooks: RunnerWorldHooks): RunnerWorld {
  const { store, registry, ledger, warn } = hooks;
  const savingTranscripts = new Set<Promise<void>>();
  const keepTranscript = (key: { runId: string; attempt: number }, record: Promise<TranscriptRecord>) => {
    const saving = record
      .then((done) => store.saveTranscript?.(key, done))
      .catch((error: unknown) => {
        warn(`could not keep the transcript of ${key.runId} attempt ${key.attempt}: ${errorMessage(error)}`);
      })
      .finally(() => savingTranscripts.delete(saving));
    savingTranscripts.add(saving);
  };
  const settings: ClaudeSettings = {
    bin: options.claudeBin ?? 'claude',
    permissionMode: options.permissionMode ?? 'bypassPermissions',
    env: { ...process.env, ...options.env },
    resultGraceMs: options.resultGraceMs ?? WATCHDOG_DEFAULTS.resultGraceMs,
    idleTimeoutMs: options.idleTimeoutMs ?? WATCHDOG_DEFAULTS.idleTimeoutMs,
    totalTimeoutMs: options.totalTimeoutMs ?? WATCHDOG_DEFAULTS.totalTimeoutMs,
    ...(options.usageLimitMarginMs !== undefined ? { usageLimitMarginMs: options.usageLimitMarginMs } : {}),
    sessions: { continuable: (spec) => ledger.continuable(spec), enabled: hooks.continueSessions },
    remainingBudget: hooks.remainingBudget,
    ...(options.modelFor ? { modelFor: options.modelFor } : {}),
    ...(store.saveTranscript ? { transcripts: { save: (key, record) => keepTranscript(key, record) } } : {}),
  };

  let keeper: SprintStatusKeeper | null = null;
  const keeperFor = (projectLayout: ProjectLayout) =>
    (keeper ??= createSprintStatusKeeper(projectLayout, {
      killedBefore: hooks.killedBefore,
      ...(options.sprintStatusCopy ? { copyFile: options.sprintStatusCopy } : {}),
    }));

  return {
    buildActors(projectLayout) {
      let taxonomy: Taxonomy = {};
      const sprintStatus = keeperFor(projectLayout);
      return {
        claudeCommand: createClaudeCommandActor(projectLayout, () => taxonomy, settings, registry),
        readSprintStatus: fromPromise(async () => {
          const { status, restored } = await sprintStatus.read();
          if (restored !== null) warn(restored);
          return status;
        }),
        writeStoryStatus: fromPromise(({ input }) => writeStoryStatusFile(projectLayout, input.key, input.status)),
        injectProjectContext: fromPromise(({ input }) => injectProjectContextFiles(projectLayout, input.stories)),
        checkProject: fromPromise(async () => {
          taxonomy = await checkProjectFiles(projectLayout);
          await checkClaudeSettings(settings);
        }),
        checkProjectContext: fromPromise(() => projectContextState(projectLayout)),
      };
    },
    async repairSprintStatus(projectLayout) {
      const restored = await keeperFor(projectLayout).repair().catch(() => null);
      if (restored !== null) warn(restored);
    },
    noteCommandEnd(failure) {
      if (endedByUs(failure)) keeper?.noteKilled();
    },
    savingTranscripts,
  };
}
