// Builds the CommandSpec of each workflow command, and the input of the commandRun child that runs it.
import { commandVariables } from './rules/selection.js';
import type { CommandKind } from './project/layout.js';
import type { CommandRunInput } from './command.machine.js';
import type { CommandSpec, ControlMode, StoryRef } from './types.js';

export interface CommandSpecOptions {
  kind: CommandKind;
  stories: readonly StoryRef[];
  implementationArtifacts: string;
  /** N of the `-N` suffix for reviews */
  reviewAttempt?: number;
  model?: 'haiku' | null;
  background?: boolean;
  /** for the background review chain (spec Step 2b) */
  chain?: { reviewType: string; promptFile: string };
}

/** The command as logged: reviews carry their attempt (`code-review-2`), the rest their plain name. */
export function loggedCommandName(kind: CommandKind, reviewAttempt?: number): string {
  const attempted = kind === 'code-review' || kind === 'story-review' || kind === 'tech-spec-review';
  return attempted && reviewAttempt !== undefined ? `${kind}-${reviewAttempt}` : kind;
}

export function buildCommandSpec(options: CommandSpecOptions): CommandSpec {
  const command = loggedCommandName(options.kind, options.reviewAttempt);
  const stories = options.stories.map((s) => ({ key: s.key, shortId: s.shortId, epicId: s.epicId }));
  const extra: Parameters<typeof commandVariables>[3] = {};
  if (options.reviewAttempt !== undefined) extra.reviewAttempt = options.reviewAttempt;
  if (options.chain) {
    extra.reviewType = options.chain.reviewType;
    extra.promptFile = options.chain.promptFile;
    extra.storyKeys = stories.map((s) => s.shortId).join(',');
  }
  return {
    command,
    kind: options.kind,
    stories,
    model: options.model ?? null,
    background: options.background ?? false,
    reviewAttempt: options.reviewAttempt ?? null,
    variables: options.chain
      ? chainVariables(options.chain, extra.storyKeys ?? '')
      : commandVariables(stories.map((s) => ({ ...s, storyNumber: 0 })), command, options.implementationArtifacts, extra),
  };
}

/**
 * The background chain's template gets only these three (spec §1): it tells the chain agent itself to
 * "Substitute `{{story_key}}` = …" in the prompts it loads, so `{{story_key}}`, `{{review_attempt}}` and the
 * rest must reach it as written.
 */
function chainVariables(chain: { reviewType: string; promptFile: string }, storyKeys: string): Record<string, string> {
  return { review_type: chain.reviewType, story_keys: storyKeys, prompt_file: chain.promptFile };
}

/** What a machine that runs commands knows about where it runs them. */
export interface CommandOwner {
  /** prefixes run ids: which cycle (or `batch`) this is */
  scope: string;
  control: ControlMode;
  implementationArtifacts: string;
}

/** The input of a commandRun child: the spec, its run id, and the control mode it starts under. */
export function commandRunInput(owner: CommandOwner, options: Omit<CommandSpecOptions, 'implementationArtifacts'>): CommandRunInput {
  const spec = buildCommandSpec({ ...options, implementationArtifacts: owner.implementationArtifacts });
  return { spec, runId: commandRunId(owner.scope, spec), control: owner.control };
}

/** Unique, stable id of one command step; attempts after an interruption share it. */
export function commandRunId(scope: string, spec: CommandSpec): string {
  return `${scope}/${spec.command}/${spec.stories.map((s) => s.shortId).join(',') || '-'}`;
}
