// The Activity tab: the most recently active stories, each with its commands and their task phases, patched per command event.
import { clock, formatCost, formatDuration, h, setAttr, setText, syncList } from '../dom.js';
import { dateTime, inScope, isRunningNow, shownStatus, storyTotals } from '../model.js';
import { setUi, ui } from '../persist.js';
import type { Store } from '../store.js';
import type { CommandView, TaskView } from '../types.js';
import type { View } from '../view.js';
import { statusOf, storyName } from './stories.js';
import { openTranscript } from './transcript.js';
import { showVerdict, trackVerdicts } from './verdict.js';

/** how many stories the tab shows, newest activity first */
const MAX_STORIES = 30;
/** commands that serve no story (project context) are grouped under this key */
const NO_STORY = '';

const ms = (iso: string | null): number => (iso ? new Date(iso).getTime() : 0);

function mount(container: HTMLElement, store: Store): void {
  const isRunning = (c: CommandView) => isRunningNow(c, store.state);
  const list = h('div', { class: 'activity-list', 'data-testid': 'activity-list' });
  const empty = h('div', { class: 'muted activity-empty' }, 'No activity yet: start a batch from the Run tab.');
  container.append(list, empty);
  trackVerdicts(store, list);

  /** the story with the newest activity: open unless closed by hand */
  let newest: string | null = null;
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
    newest = order[0] ?? null;
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
        h('span', { class: 'mono activity-story-totals', 'data-testid': 'activity-totals' }),
      ),
      h('ul', { class: 'activity-commands' }),
    );
  }

  /** open: a hand-set choice wins; else the running story, or the newest one when nothing runs */
  function isOpen(id: string): boolean {
    const chosen = ui().activityOpen[id || '(batch)'];
    if (chosen !== undefined) return chosen;
    return lastActivity.get(id) === Infinity || newest === id;
  }

  function updateStory(el: HTMLElement, id: string): void {
    const head = el.firstElementChild as HTMLElement;
    const [, name, badge, time, totalsEl] = Array.from(head.children) as HTMLElement[];
    head.onclick = () => {
      setUi('activityOpen', { ...ui().activityOpen, [id || '(batch)']: !isOpen(id) });
      updateStory(el, id);
      if (isOpen(id)) syncCommands(id);
    };
    const open = isOpen(id);
    setAttr(el, 'data-open', String(open));
    (el.lastElementChild as HTMLElement).hidden = !open;
    // totals per scope: the tool's batches, and the history from before it apart (never joined to a new run)
    const commands = byStory.get(id) ?? [];
    const runs = storyTotals(commands.filter((c) => inScope(c, { kind: 'runs' })), store.state);
    const legacy = commands.filter((c) => inScope(c, { kind: 'legacy' }));
    setText(
      totalsEl!,
      [
        runs.commands ? `${runs.commands} command${runs.commands === 1 ? '' : 's'} · ${formatDuration(runs.busyMs)} busy · ${formatCost(runs.costUsd) || '$0'}${runs.shared ? ` (${runs.shared} shared, cost split)` : ''} in all batches` : '',
        legacy.length ? `${legacy.length} before the tool` : '',
      ]
        .filter(Boolean)
        .join(' · '),
    );
    const story = sprintStory(id);
    setText(name!, story ? storyName(story.key, story.shortId) : id ? '' : 'project context and other batch work');
    setAttr(name!, 'title', story ? (store.descriptions[story.key] ?? null) : null);
    const status = story ? statusOf(story) : '';
    badge!.hidden = !status;
    setText(badge!, status);
    setAttr(badge!, 'data-status', status || null);
    const last = lastActivity.get(id) ?? 0;
    setText(time!, last === Infinity ? 'running now' : last ? `last activity ${dateTime(last)}` : '');
    setAttr(el, 'data-running', last === Infinity ? 'true' : null);
  }

  function syncCommands(id: string): void {
    const el = list.querySelector<HTMLElement>(`:scope > [data-story="${CSS.escape(id)}"]`);
    if (!el) return;
    // a collapsed story keeps no command rows: 4,000 px of finished work is not rendered
    const commands = el.dataset['open'] === 'true' ? [...(byStory.get(id) ?? [])].reverse() : []; // newest first
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
        // issue 13: what the agent said and did (the hook stays one button: the view lives in transcript.ts)
        h('button', { type: 'button', class: 'link activity-transcript', 'data-testid': 'open-transcript', onclick: (event: Event) => {
          const li = (event.currentTarget as HTMLElement).closest<HTMLElement>('.activity-command')!;
          void openTranscript({ runId: li.dataset['runId']!, attempt: Number(li.dataset['attempt']), story: li.dataset['story'] || null });
        } }, 'transcript'),
      ),
      h('div', { class: 'activity-message' }),
      // a review attempt's verdict and the loop's decision, filled by verdict.ts (hidden for other commands)
      h('div', { class: 'activity-verdict', 'data-testid': 'review-verdict', hidden: true }),
      h('ol', { class: 'activity-tasks' }),
    );
  }

  function updateCommand(li: HTMLElement, c: CommandView, story: string): void {
    const [head, message, , tasks] = Array.from(li.children) as HTMLElement[];
    const [name, badge, duration, meta] = Array.from(head!.children) as HTMLElement[];
    const status = shownStatus(c, store.state);
    setAttr(li, 'data-key', c.key);
    setText(name!, `${c.command}${c.attempt > 1 ? ` (attempt ${c.attempt})` : ''}${c.background ? ' · background' : ''}`);
    setAttr(name!, 'title', `${c.runId} · started ${dateTime(c.startedAt)}${c.endedAt ? ` · ended ${dateTime(c.endedAt)}` : ''}`);
    setText(badge!, status);
    setAttr(badge!, 'data-status', status);
    setAttr(li, 'data-status', status);
    const end = c.endedAt ?? (status === 'running' ? null : (c.tasks.at(-1)?.endedAt ?? c.tasks.at(-1)?.startedAt ?? c.startedAt));
    setDuration(duration!, c.startedAt, end, status === 'running');
    setAttr(li, 'data-run-id', c.runId);
    setAttr(li, 'data-attempt', String(c.attempt));
    setAttr(li, 'data-story', story || null);
    const tokens = c.inputTokens !== null || c.outputTokens !== null ? `${c.inputTokens ?? 0} in / ${c.outputTokens ?? 0} out` : '';
    // only the newest task rows are kept (TASKS_PER_COMMAND); say so when there were more
    const skipped = c.taskCount - c.tasks.length;
    const phases = skipped > 0 ? `newest ${c.tasks.length} of ${c.taskCount.toLocaleString('en-US')} phases` : '';
    const cost = c.costUsd === null ? '' : c.stories.length > 1 ? `${formatCost(c.costUsd)} shared by ${c.stories.length} stories` : formatCost(c.costUsd);
    setText(meta!, [dateTime(c.startedAt), c.model ?? '', c.stories.length > 1 ? c.stories.join(', ') : '', cost, tokens, phases].filter(Boolean).join(' · '));
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
    const live = task.status === 'running' && isRunning(command);
    setDuration(duration!, task.startedAt, task.endedAt ?? (live ? null : task.startedAt), live);
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
  // "open command" (failures panel, batches): open its story, show it and mark it for a moment
  window.addEventListener('sprint:open-command', (e) => {
    const command = store.commands.get((e as CustomEvent<string>).detail);
    if (!command) return;
    const id = command.stories[0] ?? NO_STORY;
    setUi('activityOpen', { ...ui().activityOpen, [id || '(batch)']: true });
    requestAnimationFrame(() => {
      rebuild();
      const li = list.querySelector<HTMLElement>(`[data-key="${CSS.escape(command.key)}"]`);
      li?.scrollIntoView({ block: 'center' });
      li?.setAttribute('data-focus', 'true');
      setTimeout(() => li?.removeAttribute('data-focus'), 3000);
    });
  });
  for (const command of store.commandList()) track(command);
  syncStories();
}

let onShown: (() => void) | null = null;

export const activityView: View = { id: 'activity', title: 'Activity', mount, shown: () => onShown?.() };
