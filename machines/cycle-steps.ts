// The cycle's step states that its chart builds from helpers: Step 2's two parallel command regions, and the review step of 2b and 3b.
import type { CommandRunOutput } from './command.machine.js';
import { commandRunInput, type CommandOwner } from './command-spec.js';
import type { ReviewInput, ReviewOutput, ReviewType } from './review.machine.js';
import type { StoryRef } from './types.js';

/** What these steps read of the cycle's context. */
type StepContext = CommandOwner & { stories: StoryRef[] };

/**
 * One of Step 2's two parallel commands. A failure is recorded and the region still finishes, so the
 * other command is awaited too before the cycle fails.
 */
export function createRegion(id: string, kind: 'create-story' | 'story-discovery') {
  const onOk =
    kind === 'create-story'
      ? [
          { type: 'assignCreateText' as const, params: ({ event }: { event: { output: CommandRunOutput } }) => ({ output: event.output }) },
          { type: 'markSucceeded' as const, params: { command: kind } },
        ]
      : [{ type: 'markSucceeded' as const, params: { command: kind } }];
  return {
    initial: 'running' as const,
    states: {
      running: {
        invoke: {
          id,
          src: 'commandRun' as const,
          input: ({ context }: { context: StepContext }) => commandRunInput(context, { kind, stories: context.stories }),
          onDone: [
            {
              guard: { type: 'commandOk' as const, params: ({ event }: { event: { output: CommandRunOutput } }) => ({ output: event.output }) },
              target: 'finished',
              actions: onOk,
            },
            {
              target: 'finished',
              actions: {
                type: 'assignCommandFailure' as const,
                params: ({ event }: { event: { output: CommandRunOutput } }) => ({ output: event.output, command: kind }),
              },
            },
          ],
        },
      },
      finished: { type: 'final' as const },
    },
  };
}

/** Steps 2b and 3b: the review machine on all the cycle's stories; a failed review fails the cycle. */
export function reviewStep(reviewType: ReviewType, next: 'routingAfterReview' | 'developing') {
  return {
    id: reviewType === 'story-review' ? 'storyReview' : 'techSpecReview',
    src: 'review' as const,
    input: ({ context }: { context: StepContext }): ReviewInput => ({
      reviewType,
      stories: context.stories,
      control: context.control,
      scope: context.scope,
      implementationArtifacts: context.implementationArtifacts,
    }),
    onDone: [
      {
        guard: { type: 'reviewOk' as const, params: ({ event }: { event: { output: ReviewOutput } }) => ({ output: event.output }) },
        target: next,
        actions: { type: 'markSucceeded' as const, params: { command: `${reviewType}-1` } },
      },
      {
        target: 'failed' as const,
        actions: { type: 'assignOutputFailure' as const, params: ({ event }: { event: { output: ReviewOutput } }) => ({ output: event.output }) },
      },
    ],
  };
}
