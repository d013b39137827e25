// The Activity tab: the most recently active stories, each with its commands and their task phases, patched per command event.
import { clock, formatCost, formatDuration, h, setAttr, setText, syncList } from '../dom.js';
import type { Store } from '../store.js';
import type { CommandView, TaskView } from '../types.js';
import type { View } from '../view.js';
import { statusOf, storyName } from './stories.js';
import { showVerdict, trackVerdicts } from './verdict.js';

/** how many stories the tab shows, newest activity first */
const MAX_STORIES = 30;
/** commands that serve no story (project context) are grouped under this key */
const NO_STORY = '';

const ms = (iso: string | null): number => (iso ? new Date(iso).getTime() : 0);
const isRunning = (c: CommandView) => c.status === 'running' && c.endedAt === null;

function mount(container: HTMLElement, store: Store): void {
  const list = h('div', { class: 'activity-list', 'data-testid': 'activity-list' });
  const empty = h('div', { class: 'muted activity-empty' }, 'No activity yet: start a batch from the Run tab.');
  container.append(list, empty);
  trackVerdicts(store, list);

  /** commands by story short id, in start order */
  const byStory = new Map<string, CommandView[]>();
  const lastActivity = new Map<string, number>();

  const track = (command: CommandView) => {
    for (const story of command.stories.length ? command.stories : [NO_STORY]) {
      let commands = byStory.get(story);
      if (!commands) byStory.set(story, (commands = []));
      if (!commands.includes(command)) {
        commands.push(command);
        commands.sort((a, b) => ms(a.startedAt) - ms(b.startedAt));
      }
      const latest = Math.max(...commands.map((c) => (isRunning(c) ? Infinity : Math.max(ms(c.startedAt), ms(c.endedAt)))));
      lastActivity.set(story, latest);
    }
  };

  const sprintStory = (shortId: string) => store.sprint?.stories.find((s) => s.shortId === shortId);

  /** creates and reorders story blocks; fills the commands of blocks created now */
  function syncStories(): void {
    const order = [...byStory.keys()].sort((a, b) => (lastActivity.get(b) ?? 0) - (lastActivity.get(a) ?? 0) || (a < b ? -1 : 1)).slice(0, MAX_STORIES);
    const fresh: string[] = [];
    syncList(
      list,
      order,
      (id) => id || '(batch)',
      (id) => {
        fresh.push(id);
        return createStory(id);
      },
      updateStory,
    );
    for (const id of fresh) syncCommands(id);
    empty.hidden = order.length > 0;
  }

  function createStory(id: string): HTMLElement {
    return h(
      'article',
      { class: 'activity-story', 'data-testid': 'activity-story', 'data-story': id },
      h(
        'header',
        { class: 'activity-story-head' },
        h('span', { class: 'mono activity-story-id' }, id || 'batch'),
        h('span', { class: 'activity-story-name' }),
        h('span', { class: 'badge' }),
        h('span', { class: 'muted activity-story-time' }),
      ),
      h('ul', { class: 'activity-commands' }),
    );
  }

  function updateStory(el: HTMLElement, id: string): void {
    const [, name, badge, time] = Array.from(el.firstElementChild!.children) as HTMLElement[];
    const story = sprintStory(id);
    setText(name!, story ? storyName(story.key, story.shortId) : id ? '' : 'project context and other batch work');
    setAttr(name!, 'title', story ? (store.descriptions[story.key] ?? null) : null);
    const status = story ? statusOf(story) : '';
    badge!.hidden = !status;
    setText(badge!, status);
    setAttr(badge!, 'data-status', status || null);
    const last = lastActivity.get(id) ?? 0;
    setText(time!, last === Infinity ? 'running now' : last ? `last activity ${clock(last)}` : '');
    setAttr(el, 'data-running', last === Infinity ? 'true' : null);
  }

  function syncCommands(id: string): void {
    const el = list.querySelector<HTMLElement>(`:scope > [data-story="${CSS.escape(id)}"]`);
    if (!el) return;
    const commands = [...(byStory.get(id) ?? [])].reverse(); // newest first
    syncList(el.lastElementChild!, commands, (c) => c.key, createCommand, (li, c) => updateCommand(li, c, id));
  }

  function createCommand(): HTMLElement {
    return h(
      'li',
      { class: 'activity-command', 'data-testid': 'activity-command' },
      h(
        'div',
        { class: 'activity-command-head' },
        h('span', { class: 'activity-command-name' }),
        h('span', { class: 'badge' }),
        h('span', { class: 'mono activity-duration' }),
        h('span', { class: 'muted activity-command-meta' }),
      ),
      h('div', { class: 'activity-message' }),
      h('ol', { class: 'activity-tasks' }),
    );
  }

  function updateCommand(li: HTMLElement, c: CommandView, story: string): void {
    const [head, message, tasks] = Array.from(li.children) as HTMLElement[];
    const [name, badge, duration, meta] = Array.from(head!.children) as HTMLElement[];
    setText(name!, `${c.command}${c.attempt > 1 ? ` (attempt ${c.attempt})` : ''}${c.background ? ' · background' : ''}`);
    setAttr(name!, 'title', `${c.runId} · started ${clock(c.startedAt)}${c.endedAt ? ` · ended ${clock(c.endedAt)}` : ''}`);
    setText(badge!, c.status);
    setAttr(badge!, 'data-status', c.status);
    setAttr(li, 'data-status', c.status);
    setDuration(duration!, c.startedAt, c.endedAt, isRunning(c));
    const tokens = c.inputTokens !== null || c.outputTokens !== null ? `${c.inputTokens ?? 0} in / ${c.outputTokens ?? 0} out` : '';
    // only the newest task rows are kept (TASKS_PER_COMMAND); say so when there were more
    const skipped = c.taskCount - c.tasks.length;
    const phases = skipped > 0 ? `newest ${c.tasks.length} of ${c.taskCount.toLocaleString('en-US')} phases` : '';
    setText(meta!, [c.model ?? '', c.stories.length > 1 ? c.stories.join(', ') : '', formatCost(c.costUsd), tokens, phases].filter(Boolean).join(' · '));
    setText(message!, c.message ?? '');
    message!.hidden = !c.message;
    // keyed by the row's place among all of the command's tasks, so dropping the oldest moves no key
    const own = c.tasks.map((task, index) => ({ task, index: skipped + index })).filter(({ task }) => !story || task.storyShortId === null || task.storyShortId === story);
    syncList(tasks!, own, ({ index }) => String(index), createTask, (el, { task }) => updateTask(el, task, c));
    // a review attempt shows its verdict and the loop's decision (verdict.ts)
    showVerdict(li, c.runId);
  }

  function createTask(): HTMLElement {
    return h(
      'li',
      { class: 'activity-task', 'data-testid': 'activity-task' },
      h('span', { class: 'mono activity-task-id' }),
      h('span', { class: 'badge' }),
      h('span', { class: 'mono activity-duration' }),
      h('span', { class: 'activity-task-message' }),
    );
  }

  function updateTask(el: HTMLElement, task: TaskView, command: CommandView): void {
    const [id, badge, duration, message] = Array.from(el.children) as HTMLElement[];
    setText(id!, task.taskId);
    const phase = store.taxonomy[command.kind]?.find((p) => p.id === task.taskId);
    setAttr(id!, 'title', phase ? phase.label : task.known ? null : 'not in the taxonomy');
    setAttr(el, 'data-known', String(task.known));
    setText(badge!, task.status);
    setAttr(badge!, 'data-status', task.status);
    setDuration(duration!, task.startedAt, task.endedAt, task.status === 'running');
    setText(message!, task.message ?? '');
  }

  /** a running duration is counted up by the timer below, from data-start */
  function setDuration(el: HTMLElement, start: string, end: string | null, running: boolean): void {
    setAttr(el, 'data-start', running ? String(ms(start)) : null);
    setText(el, formatDuration((running ? Date.now() : ms(end ?? start)) - ms(start)));
  }

  let timer: ReturnType<typeof setInterval> | null = null;
  function tick(): void {
    const running = list.querySelectorAll<HTMLElement>('[data-start]');
    for (const el of running) setText(el, formatDuration(Date.now() - Number(el.dataset['start'])));
    if (!running.length && timer) {
      clearInterval(timer);
      timer = null;
    }
  }
  const ensureTimer = () => {
    if (!timer && list.querySelector('[data-start]')) timer = setInterval(tick, 1000);
  };

  // a hidden tab only tracks; its blocks are rebuilt when it is shown
  let stale = false;
  onShown = () => {
    if (!stale) return;
    stale = false;
    rebuild();
  };
  store.on('command', (command) => {
    track(command);
    if (container.hidden) {
      stale = true;
      return;
    }
    syncStories();
    for (const story of command.stories.length ? command.stories : [NO_STORY]) syncCommands(story);
    ensureTimer();
  });
  const rebuild = () => {
    syncStories();
    for (const id of byStory.keys()) syncCommands(id);
    ensureTimer();
  };
  store.on('history', () => {
    byStory.clear();
    lastActivity.clear();
    for (const command of store.commandList()) track(command);
    if (container.hidden) stale = true;
    else rebuild();
  });
  const headers = () => syncList(list, Array.from(list.children, (el) => (el as HTMLElement).dataset['story'] ?? ''), (id) => id || '(batch)', createStory, updateStory);
  store.on('sprint', headers);
  store.on('descriptions', headers);
  for (const command of store.commandList()) track(command);
  syncStories();
}

let onShown: (() => void) | null = null;

export const activityView: View = { id: 'activity', title: 'Activity', mount, shown: () => onShown?.() };
