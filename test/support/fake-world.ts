// An in-memory world for machine tests: a sprint-status text and a scripted claude, provided as the workflow's actors.
import { fromCallback, fromPromise } from 'xstate';
import { actorFailureOutcome, type ClaudeCommandInput } from '../../machines/command.machine.js';
import type { CommandOutcome } from '../../machines/claude/types.js';
import { parseSprintStatus, setStoryStatus } from '../../machines/rules/sprint-status.js';
import type { CommandSpec } from '../../machines/types.js';
import type { WorkflowActors } from '../../machines/workflow.js';
import type { ProjectContextState } from '../../machines/batch.machine.js';

export interface FakeReply {
  ok?: boolean;
  text?: string;
  /** story key -> new status, applied to the in-memory file as a subagent would */
  statuses?: Record<string, string>;
  /** never answers until killed */
  hang?: boolean;
}

export interface FakeCall {
  command: string;
  stories: string[];
  model: string | null;
  background: boolean;
  attempt: number;
}

export function outcomeOf(reply: FakeReply): CommandOutcome {
  const ok = reply.ok ?? true;
  return { ...actorFailureOutcome(ok ? 'ok' : 'scripted failure'), ok, failure: ok ? null : 'is-error', assistantText: reply.text ?? '' };
}

/** Replaces one status value in the text the way the real rules do. */
function setAny(text: string, key: string, status: string): string {
  return text.replace(new RegExp(`^(\\s*${key}:\\s*)\\S+`, 'm'), `$1${status}`);
}

export class FakeWorld {
  readonly calls: FakeCall[] = [];

  constructor(
    public sprintStatus: string,
    private readonly reply: (spec: CommandSpec, world: FakeWorld) => FakeReply,
    public projectContext: ProjectContextState = 'fresh',
  ) {}

  actors(): WorkflowActors {
    return {
      claudeCommand: fromCallback<{ type: 'KILL' }, ClaudeCommandInput>(({ input, sendBack, receive }) => {
        this.calls.push({
          command: input.spec.command,
          stories: input.spec.stories.map((s) => s.shortId),
          model: input.spec.model,
          background: input.spec.background,
          attempt: input.attempt,
        });
        const reply = this.reply(input.spec, this);
        let done = false;
        const timer = reply.hang
          ? null
          : setTimeout(() => {
              done = true;
              for (const [key, status] of Object.entries(reply.statuses ?? {})) this.sprintStatus = setAny(this.sprintStatus, key, status);
              sendBack({ type: 'CLAUDE.EXIT', outcome: outcomeOf(reply) });
            }, 1);
        receive(() => {
          if (done) return;
          if (timer) clearTimeout(timer);
          done = true;
          sendBack({ type: 'CLAUDE.EXIT', outcome: { ...actorFailureOutcome('killed'), failure: 'interrupted' } });
        });
        return () => timer && clearTimeout(timer);
      }),
      readSprintStatus: fromPromise(async () => {
        const parsed = parseSprintStatus(this.sprintStatus, 'sprint-status.yaml');
        if (!parsed.ok) throw new Error(parsed.error.reason);
        return parsed.status;
      }),
      writeStoryStatus: fromPromise(async ({ input }) => {
        this.sprintStatus = setStoryStatus(this.sprintStatus, input.key, input.status);
      }),
      injectProjectContext: fromPromise(async () => ({ warnings: [] as string[] })),
      checkProject: fromPromise<void>(async () => {}),
      checkProjectContext: fromPromise(async () => this.projectContext),
    };
  }

  statusOf(key: string): string | undefined {
    const parsed = parseSprintStatus(this.sprintStatus, 'sprint-status.yaml');
    return parsed.ok ? parsed.status.stories.find((s) => s.key === key)?.rawStatus : undefined;
  }
}
