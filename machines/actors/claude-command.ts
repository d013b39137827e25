// The claudeCommand actor: renders a command's prompt and runs it as a claude child, tracked until its tree is gone.
import { readFile, access } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { fromCallback } from 'xstate';
import { CLAUDE_INSTALL_HINT, runClaudeProcess } from '../claude/claude-process.js';
import { retryDelayMs, transientErrno, transientMessage } from '../claude/resource-faults.js';
import type { ClaudeProcessHandle, ClaudeProcessMessage, CommandOutcome } from '../claude/types.js';
import { actorFailureOutcome, type ClaudeActorEvent, type ClaudeCommandInput, type ProgressMessage } from '../command.machine.js';
import { templatePath, type ProjectLayout, type Taxonomy, type TemplateCommand } from '../project/layout.js';
import { BATCH_COMMIT_TEMPLATE, projectContextPrompt } from '../project/inline-prompts.js';
import { renderPrompt } from '../rules/prompt.js';
import { verdictSchemaArgs } from '../rules/review-verdict.js';
import type { CommandSpec } from '../types.js';

/** `claude --permission-mode` accepts exactly these (its `--help` lists the choices; checked against 2.1.197) */
export const PERMISSION_MODES = ['acceptEdits', 'auto', 'bypassPermissions', 'default', 'dontAsk', 'plan'] as const;
export type PermissionMode = (typeof PERMISSION_MODES)[number];

export interface ClaudeSettings {
  /** executable: a name on PATH or a path */
  bin: string;
  permissionMode: PermissionMode;
  env: NodeJS.ProcessEnv;
  resultGraceMs?: number;
  idleTimeoutMs?: number;
  totalTimeoutMs?: number;
  /** added to a usage limit's reset time before the batch goes on (default 60 s) */
  usageLimitMarginMs?: number;
}

const DEFAULT_USAGE_LIMIT_MARGIN_MS = 60_000;
/**
 * At most this many messages go to the machine as one event. A stream that fell behind hands over several
 * chunks in one go; cutting them into bounded transitions keeps each transaction, WebSocket message and the
 * memory it holds small (objects that live across garbage collections are promoted and grow the heap).
 */
const MAX_BURST = 256;
/** when a rejected rate-limit event names no reset time, try again after this long */
const UNKNOWN_RESET_WAIT_MS = 15 * 60_000;

/** Every live child of this runner, so that stop and close can wait until none is left. */
export class ProcessRegistry {
  private readonly live = new Map<string, ClaudeProcessHandle>();
  private readonly idleWaiters: (() => void)[] = [];

  add(key: string, handle: ClaudeProcessHandle): void {
    this.live.set(key, handle);
  }

  remove(key: string): void {
    this.live.delete(key);
    if (this.live.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  get size(): number {
    return this.live.size;
  }

  pids(): number[] {
    return [...this.live.values()].map((h) => h.pid).filter((pid): pid is number => pid !== null);
  }

  whenIdle(): Promise<void> {
    return this.live.size === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.live.values()].map((handle) => handle.stop('interrupted')));
    await this.whenIdle();
  }
}

/** argv after `-p --output-format stream-json --verbose`. */
export function claudeArgs(spec: CommandSpec, permissionMode: PermissionMode): string[] {
  const args = ['--permission-mode', permissionMode];
  if (spec.model) args.push('--model', spec.model);
  // review kinds: ask for the verdict in a machine-readable form beside the text (rules/review-verdict.ts)
  args.push(...verdictSchemaArgs(spec.kind));
  return args;
}

export async function renderCommandPrompt(layout: ProjectLayout, spec: CommandSpec): Promise<string> {
  if (spec.kind === 'project-context') return projectContextPrompt(layout);
  if (spec.kind === 'batch-commit') return renderPrompt(BATCH_COMMIT_TEMPLATE, spec.variables);
  const file = templatePath(layout, spec.kind as TemplateCommand);
  return renderPrompt(await readFile(file, 'utf8'), spec.variables);
}

/** Where a bare command name would be found, or null. */
export async function findExecutable(bin: string, envPath = process.env['PATH'] ?? ''): Promise<string | null> {
  const candidates = bin.includes('/') ? [path.resolve(bin)] : envPath.split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, bin));
  for (const candidate of candidates) {
    if (await access(candidate, fsConstants.X_OK).then(() => true, () => false)) return candidate;
  }
  return null;
}

/** One sentence for a `claude` that cannot be found: what is missing, how to install it, how to point at it. */
export function claudeNotFoundMessage(bin: string): string {
  const where = bin.includes('/') ? 'is not an executable file' : 'is not on PATH';
  return `Claude CLI not found: \`${bin}\` ${where}; ${CLAUDE_INSTALL_HINT}, or pass its path with --claude.`;
}

/** Checks, before the first spawn, what would otherwise fail every command of the night. */
export async function checkClaudeSettings(settings: ClaudeSettings): Promise<void> {
  const found = await findExecutable(settings.bin, settings.env['PATH'] ?? process.env['PATH']);
  if (!found) throw new Error(claudeNotFoundMessage(settings.bin));
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (settings.permissionMode === 'bypassPermissions' && isRoot && settings.env['IS_SANDBOX'] !== '1') {
    throw new Error(
      'claude refuses --permission-mode bypassPermissions when run as root unless IS_SANDBOX=1 is set. ' +
        'Run as a normal user, set IS_SANDBOX=1 in a sandbox, or choose another --permission-mode.',
    );
  }
}

export function createClaudeCommandActor(
  layout: ProjectLayout,
  /** read at spawn time: the preflight loads it after the actors are built */
  taxonomy: () => Taxonomy,
  settings: ClaudeSettings,
  registry: ProcessRegistry,
) {
  return fromCallback<{ type: 'KILL' }, ClaudeCommandInput>(({ input, sendBack, receive }) => {
    const key = `${input.runId}#${input.attempt}`;
    let handle: ClaudeProcessHandle | null = null;
    let killedBeforeSpawn = false;
    let exited = false;

    const deliverExit = (outcome: CommandOutcome) => {
      if (exited) return;
      exited = true;
      registry.remove(key);
      sendBack({ type: 'CLAUDE.EXIT', outcome } satisfies ClaudeActorEvent);
    };

    // The messages of one stdout chunk arrive in one synchronous burst: they go to the machine as one event
    // (one transition, one transaction), flushed at the end of the burst and before anything that follows them.
    let burst: ProgressMessage[] = [];
    const flushBurst = () => {
      if (burst.length === 0) return;
      const messages = burst;
      burst = [];
      sendBack({ type: 'CLAUDE.PROGRESS', messages } satisfies ClaudeActorEvent);
    };

    const onMessage = (message: ClaudeProcessMessage) => {
      if (exited) return;
      if (message.type === 'exit') {
        flushBurst();
        return deliverExit(message.outcome);
      }
      if (burst.length === 0) queueMicrotask(flushBurst);
      burst.push(message);
      if (burst.length >= MAX_BURST) flushBurst();
      // Only `rejected` is the account's usage limit; an API error or an api_retry line is not.
      if (message.type === 'rate-limit' && message.info.status === 'rejected') {
        flushBurst();
        const margin = settings.usageLimitMarginMs ?? DEFAULT_USAGE_LIMIT_MARGIN_MS;
        const until = message.info.resetsAt !== null ? message.info.resetsAt * 1000 + margin : Date.now() + UNKNOWN_RESET_WAIT_MS;
        sendBack({ type: 'CLAUDE.LIMIT', until } satisfies ClaudeActorEvent);
      }
    };

    const spawnWith = (prompt: string) => {
      if (killedBeforeSpawn) {
        deliverExit({ ...actorFailureOutcome('stopped before it started'), failure: 'interrupted' });
        return;
      }
      handle = runClaudeProcess(
        {
          bin: settings.bin,
          args: claudeArgs(input.spec, settings.permissionMode),
          prompt,
          cwd: layout.root,
          env: settings.env,
          knownTaskIds: (taxonomy()[input.spec.kind] ?? []).map((phase) => phase.id),
          ...(settings.resultGraceMs !== undefined ? { resultGraceMs: settings.resultGraceMs } : {}),
          ...(settings.idleTimeoutMs !== undefined ? { idleTimeoutMs: settings.idleTimeoutMs } : {}),
          ...(settings.totalTimeoutMs !== undefined ? { totalTimeoutMs: settings.totalTimeoutMs } : {}),
        },
        onMessage,
      );
      registry.add(key, handle);
    };

    // Reading the template can meet the same shortage of fds or memory as the spawn (resource-faults.ts):
    // that is tried again too; any other error (a missing template) fails the command.
    let renderRetries = 0;
    let renderTimer: NodeJS.Timeout | null = null;
    const render = () =>
      void renderCommandPrompt(layout, input.spec).then(spawnWith, (error: unknown) => {
        const errno = transientErrno(error);
        if (errno !== null && !killedBeforeSpawn) {
          renderRetries++;
          const delay = retryDelayMs(renderRetries);
          onMessage({ type: 'warning', message: transientMessage(`reading the prompt of ${input.spec.command}`, errno, renderRetries, delay) });
          flushBurst();
          renderTimer = setTimeout(() => {
            renderTimer = null;
            render();
          }, delay);
          return;
        }
        if (killedBeforeSpawn) deliverExit({ ...actorFailureOutcome('stopped before it started'), failure: 'interrupted' });
        else deliverExit(actorFailureOutcome(`cannot render the prompt of ${input.spec.command}: ${(error as Error).message}`));
      });
    render();

    receive((event) => {
      if (event.type !== 'KILL') return;
      if (handle) void handle.stop('interrupted');
      else killedBeforeSpawn = true;
      if (renderTimer !== null) {
        clearTimeout(renderTimer);
        renderTimer = null;
        deliverExit({ ...actorFailureOutcome('stopped before it started'), failure: 'interrupted' });
      }
    });

    // Leaving the state (stop, close, a parent finishing) ends the whole process tree.
    return () => {
      if (handle && !exited) void handle.stop('interrupted');
      killedBeforeSpawn = true;
      if (renderTimer !== null) clearTimeout(renderTimer);
    };
  });
}
