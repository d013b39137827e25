// The Timeline's rows: every story (newest first) with, when open, its commands and their task phases, each with its span, status and tooltip.
import { formatDuration } from '../dom.js';
import { ui } from '../persist.js';
import type { Store } from '../store.js';
import type { CommandView } from '../types.js';
import { statusOf, storyName } from './stories.js';
import { dateTime, endOf, isRunningNow } from '../model.js';

const NO_STORY = '';
/** suffix of a story's group of commands from before the tool */
const LEGACY = '\u0000legacy';

export interface Row {
  key: string;
  kind: 'story' | 'command' | 'task';
  story: string;
  label: string;
  title: string;
  start: number;
  /** null while running: the bar reaches now */
  end: number | null;
  status: string;
  depth: number;
  /** the row's place, set once the rows are built */
  index: number;
  /** shown in the label column and on the bar */
  duration: string;
  /** the command kind, for its colour */
  kind2: string;
}

const ms = (iso: string) => new Date(iso).getTime();

/**
 * The rows to draw, newest story first: each story, then (when it is open) its commands with their task phases.
 * `toggled`: the stories opened or closed against the show-all setting; `hiddenCount`: the stories hidden by hand.
 */
export function buildRows(store: Store, toggled: ReadonlySet<string>, now: number): { rows: Row[]; hiddenCount: number } {
  const byStory = new Map<string, CommandView[]>();
  const state = store.state;
  const isRunning = (c: CommandView) => isRunningNow(c, state);
  const endAt = (c: CommandView) => endOf(c, state);
  const hidden = new Set(ui().timeline.hidden ?? []);
  // history from before the tool is its own row: never joined to a run of the same story days later
  const groupOf = (c: CommandView, s: string) => (c.batchId === null ? `${s}${LEGACY}` : s);
  for (const c of store.commandList()) for (const s of c.stories.length ? c.stories : [NO_STORY]) (byStory.get(groupOf(c, s)) ?? byStory.set(groupOf(c, s), []).get(groupOf(c, s))!).push(c);
  const rows: Row[] = [];
  // newest first: the live story on top, history below
  const lastOf = (cs: CommandView[]) => Math.max(...cs.map((c) => endAt(c) ?? now));
  const stories = [...byStory].filter(([story]) => !hidden.has(story)).sort(([ka, a], [kb, b]) => lastOf(b) - lastOf(a) || (ka < kb ? -1 : 1));
  const hiddenCount = byStory.size - stories.length;
  for (const [group, commands] of stories) {
    const legacy = group.endsWith(LEGACY);
    const story = legacy ? group.slice(0, -LEGACY.length) : group;
    const sprintStory = store.sprint?.stories.find((s) => s.shortId === story);
    const live = commands.some(isRunning);
    const start = Math.min(...commands.map((c) => ms(c.startedAt)));
    const end = live ? null : Math.max(...commands.map((c) => endAt(c) ?? now));
    const busyMs = commands.reduce((sum, c) => sum + ((endAt(c) ?? now) - ms(c.startedAt)), 0);
    const name = sprintStory ? storyName(sprintStory.key, sprintStory.shortId) : story ? '' : 'project context, batch work';
    const status = live ? 'running' : sprintStory ? statusOf(sprintStory) : (commands[commands.length - 1]!.status as string);
    const description = sprintStory ? store.descriptions[sprintStory.key] : undefined;
    const title = `${story || 'batch'} ${name}\n${dateTime(start)} – ${end ? dateTime(end) : 'now'}\n${formatDuration(busyMs)} of commands over ${formatDuration((end ?? now) - start)}${description ? `\n\n${description}` : ''}`;
    rows.push({ key: `s:${group}`, kind: 'story', story: group, label: `${story || 'batch'} ${name}${legacy ? ' (before the tool)' : ''}`, title, start, end, status, depth: 0, index: 0, kind2: '', duration: formatDuration(busyMs) });
    if (ui().timeline.showAll === toggled.has(group)) continue;
    for (const c of commands) {
      const cEnd = endAt(c);
      const label = `${c.command}${c.attempt > 1 ? ` #${c.attempt}` : ''}`;
      const cStatus = isRunning(c) ? 'running' : c.status === 'running' ? 'interrupted' : c.status;
      const cTitle = `${label} · ${cStatus}\n${dateTime(c.startedAt)} – ${cEnd ? dateTime(cEnd) : 'now'} (${formatDuration((cEnd ?? now) - ms(c.startedAt))})${c.message ? `\n${c.message}` : ''}`;
      rows.push({ key: `c:${group}:${c.key}`, kind: 'command', story: group, label, title: cTitle, start: ms(c.startedAt), end: cEnd, status: cStatus, depth: 1, index: 0, kind2: c.kind, duration: formatDuration((cEnd ?? now) - ms(c.startedAt)) });
      const skipped = c.taskCount - c.tasks.length;
      c.tasks.forEach((t, i) => {
        if (story && t.storyShortId !== null && t.storyShortId !== story) return;
        // a phase left open in a command that ended, ended with it
        const tEndAt = t.endedAt ? ms(t.endedAt) : t.status === 'running' && cEnd === null ? null : (cEnd ?? ms(t.startedAt));
        const tTitle = `${t.taskId} · ${tEndAt === null ? 'running' : 'done'}\n${dateTime(t.startedAt)} – ${tEndAt ? dateTime(tEndAt) : 'now'} (${formatDuration((tEndAt ?? now) - ms(t.startedAt))})${t.message ? `\n${t.message}` : ''}`;
        rows.push({ key: `t:${group}:${c.key}:${skipped + i}`, kind: 'task', story: group, label: t.taskId, title: tTitle, start: ms(t.startedAt), end: tEndAt, status: tEndAt === null ? 'running' : 'done', depth: 2, index: 0, kind2: c.kind, duration: formatDuration((tEndAt ?? now) - ms(t.startedAt)) });
      });
    }
  }
  rows.forEach((r, i) => (r.index = i));
  return { rows, hiddenCount };
}
