// Which CLI session an attempt continues (issue 14): the ledger of each step's last attempt, and our resume prompt.
import type { CommandSpec } from './types.js';

/**
 * The last attempt of one step, as far as continuing goes. A step is its logged command and its stories: the
 * same step runs again after a stop, a crash, a usage limit (same run id) or an idle watchdog (a later cycle).
 */
export interface AttemptRecord {
  /** `dev-story|2a-1` (stepKeyOf) */
  step: string;
  sessionId: string | null;
  status: 'running' | 'ok' | 'failed' | 'interrupted';
  failure: string | null;
}

/** Failures after which the work so far is worth continuing: the CLI was cut off, not wrong. */
const CONTINUABLE_FAILURES: readonly string[] = ['interrupted', 'watchdog-idle', 'budget'];

export function stepKeyOf(command: string, shortIds: readonly string[]): string {
  return `${command}|${shortIds.join(',')}`;
}

export const stepKey = (spec: Pick<CommandSpec, 'command' | 'stories'>): string => stepKeyOf(spec.command, spec.stories.map((s) => s.shortId));

/**
 * The session an attempt of a step should continue, or null for a fresh start. Only the newest attempt counts:
 * an interrupted one (stop, crash, usage limit, budget) or one an idle watchdog ended. A step whose last attempt
 * failed (an error result, garbage, no result) or succeeded starts afresh.
 */
export function continuableSession(last: AttemptRecord | undefined): string | null {
  if (!last || last.sessionId === null) return null;
  // `running` only comes from the store after a crash: the orchestrator died while it ran
  if (last.status === 'interrupted' || last.status === 'running') return last.sessionId;
  if (last.status === 'failed' && last.failure !== null && CONTINUABLE_FAILURES.includes(last.failure)) return last.sessionId;
  return null;
}

/** Every step's last finished attempt, kept from the events as they are committed (and seeded from the store on start). */
export class SessionLedger {
  /** the newest attempt of each step that ended (or, seeded after a crash, never ended) */
  private readonly last = new Map<string, AttemptRecord>();
  /** attempts running now, by run id: they replace `last` when they end */
  private readonly running = new Map<string, AttemptRecord>();

  seed(records: readonly AttemptRecord[]): void {
    for (const record of records) this.last.set(record.step, record);
  }

  /** Follows the command events of the runner (their payloads as emitted). */
  note(type: string, payload: unknown): void {
    const p = payload as Record<string, unknown>;
    const runId = p['runId'] as string;
    if (type === 'command:start') {
      const stories = (p['stories'] as { shortId: string }[]).map((s) => s.shortId);
      this.running.set(runId, { step: stepKeyOf(p['command'] as string, stories), sessionId: null, status: 'running', failure: null });
      return;
    }
    const record = this.running.get(runId);
    if (!record) return;
    if (type === 'command:progress' && p['kind'] === 'session') record.sessionId = p['sessionId'] as string;
    if (type === 'command:end') {
      record.status = p['status'] as AttemptRecord['status'];
      record.failure = (p['outcome'] as { failure: string | null }).failure;
      this.running.delete(runId);
      this.last.set(record.step, record);
    }
  }

  continuable(spec: Pick<CommandSpec, 'command' | 'stories'>): string | null {
    return continuableSession(this.last.get(stepKey(spec)));
  }
}

/**
 * The prompt of a continued attempt: the CLI resends the whole earlier conversation, original prompt included,
 * so this only says what happened and what to do now. Our own wording (spec §4).
 */
export function resumePrompt(spec: Pick<CommandSpec, 'command' | 'stories'>): string {
  const stories = spec.stories.map((s) => s.shortId).join(', ');
  return [
    `Your previous run of this task (${spec.command}${stories ? ` for ${stories}` : ''}) was interrupted before it finished:`,
    'it was stopped, the orchestrator restarted, the account hit its usage limit, or it went quiet for too long.',
    'Finish the original task from the first message of this conversation. First check what is already done',
    '(files, story status, the log script calls you already made) and do not repeat completed work; then do what',
    'is left, following the original instructions exactly, and end the way they ask.',
  ].join('\n');
}
