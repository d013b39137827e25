// Plain data shared by the workflow machines: what travels in context, input, output and emitted events.
import type { CommandOutcome, RateLimitInfo, TaskEvent } from './claude/types.js';
import type { CommandKind } from './project/layout.js';

/** The operator's wish, forwarded down the actor tree as a `CONTROL` event (spec §4). */
export type ControlMode = 'run' | 'pause' | 'stop';

export type ControlEvent = { type: 'CONTROL'; mode: ControlMode };

/** A story as the machines carry it: enough to name it in prompts, logs and the dashboard. */
export interface StoryRef {
  key: string;
  shortId: string;
  epicId: string;
}

/** One command to run, fully decided by the machines; the actor only renders and spawns it. */
export interface CommandSpec {
  /** the command as logged: `code-review-2`, `story-review-1`, `dev-story` */
  command: string;
  kind: CommandKind;
  stories: StoryRef[];
  /** `haiku` where the spec says so, or the project's override (models.ts); null = the CLI's default model */
  model: string | null;
  background: boolean;
  /** N of `code-review-N` / `story-review-N`, else null */
  reviewAttempt: number | null;
  /** the spec's template variables, already computed */
  variables: Record<string, string>;
}

export interface CommandFailure {
  command: string;
  stories: StoryRef[];
  message: string;
  reason: string;
}

/** A command that succeeded for these stories: it ends their error streak if it was the one failing (rules/errors.ts). */
export interface CommandSuccess {
  command: string;
  stories: string[];
}

/** Per-story code-review loop counters; they survive failed cycles and restarts (spec §3 Step 4, §5). */
export interface ReviewProgress {
  /** the N the next code-review runs as */
  attempt: number;
  /** error patterns of attempts 1..attempt-1 */
  patterns: string[];
}

/** What every machine returns instead of throwing (house rule). */
export type MachineResult<T extends object = object> =
  | ({ type: 'ok' } & T)
  | { type: 'error'; error: string };

/** Events the machines `emit`; the runner stamps `ts` and hands them to subscribers. */
export type WorkflowEmitted =
  | { type: 'batch:start'; payload: { maxCycles: number | 'all' } }
  | {
      type: 'batch:end';
      payload: { status: 'completed' | 'error'; message: string; cyclesCompleted: number; done?: number; blocked?: number };
    }
  | { type: 'cycle:start'; payload: { cycle: number; stories: StoryRef[]; entryStep: string } }
  | { type: 'cycle:end'; payload: { cycle: number; counted: boolean; stories: string[]; failure: CommandFailure | null } }
  | {
      type: 'command:start';
      payload: {
        runId: string;
        command: string;
        kind: CommandKind;
        stories: StoryRef[];
        model: string | null;
        background: boolean;
        reviewAttempt: number | null;
        /** 1 for the first spawn of this step; +1 for each run after an interruption */
        attempt: number;
      };
    }
  | { type: 'command:progress'; payload: CommandProgress & { runId: string; command: string; stories: string[] } }
  | {
      type: 'command:end';
      payload: {
        runId: string;
        command: string;
        stories: string[];
        background: boolean;
        attempt: number;
        status: 'ok' | 'failed' | 'interrupted';
        outcome: CommandOutcome;
      };
    }
  | { type: 'story:status'; payload: { story: StoryRef; status: 'done' | 'blocked'; reason: string } }
  | { type: 'warning'; payload: { message: string; story?: string; command?: string } }
  /** the account hit its usage limit: every command waits until `until` (epoch ms), then the batch goes on by itself */
  | { type: 'usage-limit'; payload: { until: number; command: string } }
  | { type: 'usage-limit-end'; payload: { until: number } }
  | { type: 'error'; payload: { message: string; story?: string; command?: string; scope: string } };

export type CommandProgress =
  | { kind: 'spawned'; pid: number; startTime: number }
  | { kind: 'init'; sessionId: string; model: string }
  /** the session chosen before the spawn (`--session-id`), and the one it forked to continue, if any (issue 14) */
  | { kind: 'session'; sessionId: string; continuedFrom: string | null; model: string | null; note: string | null }
  | { kind: 'task'; task: TaskEvent; known: boolean }
  | { kind: 'rate-limit'; info: RateLimitInfo }
  | { kind: 'api-retry'; attempt: number; errorStatus: number | null }
  | { kind: 'warning'; message: string };

export type WorkflowEventType = WorkflowEmitted['type'];

/** The message of whatever an actor threw or rejected with. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
