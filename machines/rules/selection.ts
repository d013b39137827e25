// Step 1 of a cycle (spec §3): which stories the cycle runs and where it enters, and the prompt variables for a command.
import type { SprintStatus, StoryEntry, StoryStatus } from './sprint-status.js';
import { compareStories, type StoryKeyInfo } from './story-keys.js';

/** `create` = Step 2, `tech-spec` = Step 3, `dev` = Step 4. */
export type EntryStep = 'create' | 'tech-spec' | 'dev';

export type CycleSelection =
  | { kind: 'complete'; done: number; blocked: number; unexpected: StoryEntry[] }
  | { kind: 'cycle'; stories: StoryEntry[]; entryStep: EntryStep; unexpected: StoryEntry[] };

/** Null for the statuses a cycle never enters with (`done`, `blocked`, unexpected). */
export function entryStepOf(status: StoryStatus | null): EntryStep | null {
  switch (status) {
    case 'backlog':
      return 'create';
    case 'ready-for-dev':
      return 'tech-spec';
    case 'in-progress':
    case 'review':
      return 'dev';
    default:
      return null;
  }
}

/**
 * Picks the cycle from the file's current state. `unexpected` lists, in story order, every story whose status
 * is unexpected (the caller gives each one error event per batch). The first eligible story is paired with the
 * next eligible story of the same epic only when both enter at the same step; nothing further is searched.
 */
export function selectCycle(status: SprintStatus): CycleSelection {
  const ordered = [...status.stories].sort(compareStories);
  const unexpected = ordered.filter((s) => s.status === null);
  const eligible = ordered.filter((s) => entryStepOf(s.status) !== null);

  const first = eligible[0];
  if (first === undefined) {
    return {
      kind: 'complete',
      done: ordered.filter((s) => s.status === 'done').length,
      blocked: ordered.filter((s) => s.status === 'blocked').length,
      unexpected,
    };
  }
  const entryStep = entryStepOf(first.status) as EntryStep;
  const candidate = eligible.slice(1).find((s) => s.epicId === first.epicId);
  const paired = candidate !== undefined && entryStepOf(candidate.status) === entryStep;
  return { kind: 'cycle', stories: paired ? [first, candidate] : [first], entryStep, unexpected };
}

export interface CommandVariableExtras {
  reviewAttempt?: number;
  reviewType?: string;
  storyKeys?: string;
  promptFile?: string;
}

/**
 * The template variables for one command on these stories. The optional ones are present only when given,
 * so a template that names one the command does not set keeps its `{{...}}` untouched.
 */
export function commandVariables(
  stories: readonly StoryKeyInfo[],
  command: string,
  implementationArtifacts: string,
  extra: CommandVariableExtras = {},
): Record<string, string> {
  const shortIds = stories.map((s) => s.shortId).join(',');
  const vars: Record<string, string> = {
    story_key: shortIds,
    story_id: shortIds,
    epic_id: distinct(stories.map((s) => s.epicId)).join(','),
    command,
    implementation_artifacts: implementationArtifacts,
  };
  if (extra.reviewAttempt !== undefined) vars.review_attempt = String(extra.reviewAttempt);
  if (extra.reviewType !== undefined) vars.review_type = extra.reviewType;
  if (extra.storyKeys !== undefined) vars.story_keys = extra.storyKeys;
  if (extra.promptFile !== undefined) vars.prompt_file = extra.promptFile;
  return vars;
}

/** First occurrence order. */
export function distinct(values: readonly string[]): string[] {
  return [...new Set(values)];
}
