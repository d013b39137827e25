// Plain data shared by the workflow machines: what travels in context, input, output and emitted events.
import type { CommandKind, ControlMode, StoryRef } from './wire.js';

// the events and the shapes they carry are the dashboard's too: declared once in the Node-free wire module
export type { CommandFailure, CommandProgress, ControlMode, StoryRef, WorkflowEmitted, WorkflowEventType } from './wire.js';

export type ControlEvent = { type: 'CONTROL'; mode: ControlMode };

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

/** The message of whatever an actor threw or rejected with. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
