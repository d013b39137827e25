// The dashboard's numbers, as pure rules: what is live, when a command ended, what a story cost and took, and in which scope.
import type { ApiState, CommandView } from './types.js';

/** The statuses in which a batch can still have commands running. */
export const LIVE_STATUSES: readonly ApiState['status'][] = ['running', 'paused', 'stopping'];

export const isLive = (state: ApiState | null): boolean => !!state && LIVE_STATUSES.includes(state.status);

const ms = (iso: string): number => new Date(iso).getTime();

/**
 * A command's status as the dashboard shows it. A row still `running` while no batch is live (or from another
 * batch than the live one) was cut off before its end was recorded: it is shown interrupted, never counting up.
 */
export function shownStatus(command: CommandView, state: ApiState | null): CommandView['status'] {
  if (command.status !== 'running') return command.status;
  if (command.batchId === null) return 'interrupted';
  if (!isLive(state) || (state!.batch && command.batchId !== state!.batch.id)) return 'interrupted';
  return 'running';
}

export const isRunningNow = (command: CommandView, state: ApiState | null): boolean => shownStatus(command, state) === 'running';

/** When a command ended: its recorded end; for a cut-off one, its last task's end (else its start); null while it runs. */
export function endOf(command: CommandView, state: ApiState | null): number | null {
  if (command.endedAt) return ms(command.endedAt);
  if (isRunningNow(command, state)) return null;
  let last = ms(command.startedAt);
  for (const task of command.tasks) last = Math.max(last, ms(task.endedAt ?? task.startedAt));
  return last;
}

/** How long a command ran (up to `now` while it runs). */
export const durationOf = (command: CommandView, state: ApiState | null, now = Date.now()): number => (endOf(command, state) ?? now) - ms(command.startedAt);

/** A paired command serves two stories: each gets its share, so per-story costs add up to what was spent. */
export const costShare = (command: CommandView): number | null => (command.costUsd === null ? null : command.costUsd / Math.max(1, command.stories.length));

export interface StoryTotals {
  /** busy time: the sum of its commands' durations (a paired command counts for each story: both waited on it) */
  busyMs: number;
  /** its share of the reported costs */
  costUsd: number;
  commands: number;
  /** commands served with another story (their cost is split) */
  shared: number;
  running: boolean;
  firstStart: number | null;
  lastEnd: number | null;
}

/** Totals of one story over the given commands (choose the scope first: one batch, all runs, or legacy). */
export function storyTotals(commands: readonly CommandView[], state: ApiState | null, now = Date.now()): StoryTotals {
  const totals: StoryTotals = { busyMs: 0, costUsd: 0, commands: 0, shared: 0, running: false, firstStart: null, lastEnd: null };
  for (const command of commands) {
    const end = endOf(command, state);
    const start = ms(command.startedAt);
    totals.busyMs += (end ?? now) - start;
    totals.costUsd += costShare(command) ?? 0;
    totals.commands++;
    if (command.stories.length > 1) totals.shared++;
    if (end === null) totals.running = true;
    totals.firstStart = totals.firstStart === null ? start : Math.min(totals.firstStart, start);
    totals.lastEnd = Math.max(totals.lastEnd ?? 0, end ?? now);
  }
  return totals;
}

/** The scope a figure is about: one batch's commands, every run's, or the history from before the tool. */
export type Scope = { kind: 'batch'; id: number } | { kind: 'runs' } | { kind: 'legacy' };

export function inScope(command: CommandView, scope: Scope): boolean {
  if (scope.kind === 'legacy') return command.batchId === null;
  if (scope.kind === 'runs') return command.batchId !== null;
  return command.batchId === scope.id;
}

export const scopeLabel = (scope: Scope): string => (scope.kind === 'batch' ? `batch #${scope.id}` : scope.kind === 'runs' ? 'all batches' : 'before the tool (docs/sprint-runner.csv)');

/** Date and time, the date only when it is not today: `Dec 5 14:02` or `14:02`. */
export function dateTime(ts: number | string, now = Date.now()): string {
  const d = new Date(ts);
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
  return new Date(now).toDateString() === d.toDateString() ? time : `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}`;
}

/** "12s ago", "4m ago", "2h ago" */
export function ago(ts: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ts) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}
