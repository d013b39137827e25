// The package entry: the runner API and the types its users see.
export { createSprintRunner } from './machines/runner.js';
export { validateCycles } from './machines/runner-api.js';
export { RunnerError, type RunnerErrorCode } from './machines/runner-errors.js';
export type { SprintRunner, SprintRunnerOptions, BatchStatus, RunnerEvent, RunnerListener } from './machines/runner-api.js';
export type { PermissionMode } from './machines/actors/claude-command.js';
export type { BatchOutput, MaxCycles } from './machines/batch.machine.js';
export type { WorkflowEmitted, StoryRef, CommandSpec } from './machines/types.js';
