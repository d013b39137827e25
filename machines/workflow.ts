// Wires the machine tree: one set of outside-world actors, provided at every level that invokes them.
import type { CallbackActorLogic, PromiseActorLogic } from 'xstate';
import { batchMachine, type ProjectContextState } from './batch.machine.js';
import { commandRunMachine, type ClaudeCommandInput } from './command.machine.js';
import { cycleMachine, type InjectContextInput } from './cycle.machine.js';
import { reviewMachine } from './review.machine.js';
import { storyMachine, type WriteStoryStatusInput } from './story.machine.js';
import type { SprintStatus } from './rules/sprint-status.js';

/** Everything the workflow does to the world. Tests provide fakes; the runner provides the real thing. */
export interface WorkflowActors {
  claudeCommand: CallbackActorLogic<{ type: 'KILL' }, ClaudeCommandInput>;
  readSprintStatus: PromiseActorLogic<SprintStatus>;
  writeStoryStatus: PromiseActorLogic<void, WriteStoryStatusInput>;
  injectProjectContext: PromiseActorLogic<{ warnings: string[] }, InjectContextInput>;
  checkProject: PromiseActorLogic<void>;
  checkProjectContext: PromiseActorLogic<ProjectContextState>;
}

/**
 * XState's `provide` replaces implementations of one machine only, so each level gets the provided
 * version of the levels below it. The machine definitions themselves stay free of I/O.
 */
export function provideWorkflow(actors: WorkflowActors) {
  const commandRun = commandRunMachine.provide({ actors: { claudeCommand: actors.claudeCommand } });
  const review = reviewMachine.provide({ actors: { commandRun } });
  const story = storyMachine.provide({
    actors: { commandRun, readSprintStatus: actors.readSprintStatus, writeStoryStatus: actors.writeStoryStatus },
  });
  const cycle = cycleMachine.provide({
    actors: {
      commandRun,
      review,
      story,
      readSprintStatus: actors.readSprintStatus,
      injectProjectContext: actors.injectProjectContext,
    },
  });
  return batchMachine.provide({
    actors: {
      cycle,
      commandRun,
      checkProject: actors.checkProject,
      checkProjectContext: actors.checkProjectContext,
      writeStoryStatus: actors.writeStoryStatus,
    },
  });
}

export type WorkflowMachine = ReturnType<typeof provideWorkflow>;
