// What the workflow machines share instead of repeating it: CONTROL kept and passed on to children, and the failure a failed command run becomes.
import type { AnyActorRef, EventObject } from 'xstate';
import type { CommandRunOutput } from './command.machine.js';
import type { CommandFailure, ControlEvent, ControlMode, StoryRef } from './types.js';

/**
 * Pause and stop reach running commands as events, not flags polled from outside: each machine
 * passes `CONTROL` on to whatever children it has at that moment (see `forwardControl` in each machine).
 */
export function childrenOf(self: AnyActorRef): AnyActorRef[] {
  const children = (self.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> }).children ?? {};
  // a finished background task stays listed until the batch ends; it must not be sent anything
  return Object.values(children).filter((child): child is AnyActorRef => child !== undefined && child.getSnapshot().status === 'active');
}

function isControlEvent(event: EventObject): event is ControlEvent {
  return event.type === 'CONTROL';
}

/** `assignControl` of the cycle, story and review machines: a CONTROL event's mode, else the one held. */
export function controlAfter({ context, event }: { context: { control: ControlMode }; event: EventObject }): ControlMode {
  return isControlEvent(event) ? event.mode : context.control;
}

/** `forwardControl` of the cycle, story and review machines: the CONTROL event as it came, to every active child. */
export function forwardToChildren({ enqueue, event, self }: { enqueue: { sendTo(to: AnyActorRef, event: EventObject): void }; event: EventObject; self: AnyActorRef }): void {
  for (const child of childrenOf(self)) enqueue.sendTo(child, event);
}

/** A failed command run as the machines report it in their output: the batch counts it against the stories (Step 5). */
export function commandFailure(output: CommandRunOutput, command: string, stories: StoryRef[]): CommandFailure {
  return {
    command,
    stories,
    message: output.type === 'error' ? output.error : 'failed',
    reason: output.outcome.failure ?? 'unknown',
  };
}
