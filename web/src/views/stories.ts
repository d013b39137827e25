// The Stories tab: one table row per sprint story (id, name, epic, duration, status), filtered and sorted, patched in place.
import { formatDuration, h, setAttr, setText, syncList } from '../dom.js';
import { setUi, ui } from '../persist.js';
import type { Store } from '../store.js';
import type { ApiState, CommandView, SprintStoryView } from '../types.js';
import { endOf, inScope } from '../model.js';
import type { View } from '../view.js';
import { sprintProblem } from './sprint-problem.js';
import { compareEpicIds, compareStories } from '../../../machines/rules/story-keys.js';

export const STATUSES = ['backlog', 'ready-for-dev', 'in-progress', 'review', 'done', 'blocked'] as const;

/** The words after the short id in a long key: `2a-1-log-parser` -> `log parser`. */
export function storyName(key: string, shortId: string): string {
  const rest = key.startsWith(`${shortId}-`) ? key.slice(shortId.length + 1) : key === shortId ? '' : key;
  return rest.replace(/-/g, ' ');
}

/** A story's status as shown: the parsed one, or the raw value when it is unexpected. */
export const statusOf = (story: SprintStoryView): string => story.status ?? (story.rawStatus || 'unexpected');

// epic and story order are the runner's own rule (machines/rules/story-keys.ts), never a copy
export { compareEpicIds, compareStories } from '../../../machines/rules/story-keys.js';

const ms = (iso: string): number => new Date(iso).getTime();

/** First start to last end of the commands that served a story; a running command counts up to now. */
export interface Span {
  start: number;
  end: number;
  running: boolean;
}

/**
 * First start to last end of the commands that served a story; a running command counts up to now. The tool's runs
 * and the history from before it are never joined (a legacy line and today's run would make days of "duration"):
 * the runs when there are any, else the legacy history. A command cut off without an end ends at its last task.
 */
export function spanOf(all: readonly CommandView[], now = Date.now(), state: ApiState | null = null): Span | null {
  const runs = all.filter((c) => inScope(c, { kind: 'runs' }));
  const commands = runs.length ? runs : all;
  if (!commands.length) return null;
  let start = Infinity;
  let end = -Infinity;
  let running = false;
  for (const c of commands) {
    start = Math.min(start, ms(c.startedAt));
    const cEnd = endOf(c, state);
    if (cEnd === null) running = true;
    end = Math.max(end, cEnd ?? now);
  }
  return { start, end, running };
}

const COLUMNS = [
  { id: 'id', label: 'ID' },
  { id: 'name', label: 'Name' },
  { id: 'epic', label: 'Epic' },
  { id: 'duration', label: 'Duration' },
  { id: 'status', label: 'Status' },
] as const;

interface Row {
  story: SprintStoryView;
  name: string;
  span: Span | null;
}

function mount(container: HTMLElement, store: Store): void {
  const epicSelect = h('select', { 'data-testid': 'stories-filter-epic', 'aria-label': 'Epic' });
  const statusSelect = h(
    'select',
    { 'data-testid': 'stories-filter-status', 'aria-label': 'Status' },
    h('option', { value: '' }, 'All statuses'),
    ...STATUSES.map((s) => h('option', { value: s }, s)),
  );
  const count = h('span', { class: 'muted', 'data-testid': 'stories-count' });
  const headers = new Map<string, HTMLElement>();
  const headRow = h('tr');
  for (const column of COLUMNS) {
    const th = h('th', { 'data-column': column.id, 'data-testid': `stories-sort-${column.id}`, onclick: () => sortBy(column.id) }, column.label);
    headers.set(column.id, th);
    headRow.append(th);
  }
  const body = h('tbody', { 'data-testid': 'stories-body' });
  const empty = h('div', { class: 'muted stories-empty', hidden: true }, 'No story matches.');
  const problem = sprintProblem(store);
  container.append(
    problem.el,
    h('div', { class: 'toolbar' }, h('label', {}, 'Epic ', epicSelect), h('label', {}, 'Status ', statusSelect), count),
    h('table', { class: 'stories-table', 'data-testid': 'stories-table' }, h('thead', {}, headRow), body),
    empty,
  );

  /** durations by short id, recomputed only for the stories a command concerns */
  const spans = new Map<string, Span | null>();
  const recomputeSpan = (shortId: string) => {
    spans.set(shortId, spanOf([...store.commands.values()].filter((c) => c.stories.includes(shortId)), Date.now(), store.state));
  };
  const recomputeAll = () => {
    spans.clear();
    const byStory = new Map<string, CommandView[]>();
    for (const c of store.commands.values()) for (const s of c.stories) (byStory.get(s) ?? byStory.set(s, []).get(s)!).push(c);
    for (const [shortId, commands] of byStory) spans.set(shortId, spanOf(commands, Date.now(), store.state));
  };

  const sortBy = (column: string) => {
    const current = ui().storiesSort;
    setUi('storiesSort', { column, descending: current.column === column ? !current.descending : false });
    render();
  };
  const applyFilter = () => {
    setUi('storiesFilter', { epic: epicSelect.value, status: statusSelect.value });
    render();
  };
  epicSelect.addEventListener('change', applyFilter);
  statusSelect.addEventListener('change', applyFilter);
  statusSelect.value = ui().storiesFilter.status;

  const syncEpicOptions = () => {
    const epics = store.sprint?.epics ?? [];
    const wanted = ui().storiesFilter.epic;
    const options = [{ value: '', label: 'All epics' }, ...epics.map((e) => ({ value: e.epicId, label: `Epic ${e.epicId}` }))];
    // a saved filter naming an epic the sprint no longer has still shows, so it can be cleared
    if (wanted && !epics.some((e) => e.epicId === wanted)) options.push({ value: wanted, label: `Epic ${wanted}` });
    syncList(epicSelect, options, (o) => o.value, (o) => h('option', { value: o.value }), (el, o) => setText(el, o.label));
    if (epicSelect.value !== wanted) epicSelect.value = wanted;
  };

  const compare = (column: string) => (a: Row, b: Row): number => {
    switch (column) {
      case 'name':
        return a.name.localeCompare(b.name);
      case 'epic':
        return compareEpicIds(a.story.epicId, b.story.epicId);
      case 'duration':
        return (a.span ? a.span.end - a.span.start : -1) - (b.span ? b.span.end - b.span.start : -1);
      case 'status':
        return rank(statusOf(a.story)) - rank(statusOf(b.story));
      default:
        return 0;
    }
  };
  const rank = (status: string) => {
    const i = (STATUSES as readonly string[]).indexOf(status);
    return i < 0 ? STATUSES.length : i;
  };

  // a hidden tab is rendered when it is shown, not on every event
  let stale = false;
  onShown = () => {
    if (stale) render();
  };
  function render(): void {
    stale = container.hidden;
    if (stale) return;
    const { epic, status } = ui().storiesFilter;
    const { column, descending } = ui().storiesSort;
    const all = store.sprint?.stories ?? [];
    const rows: Row[] = all
      .filter((s) => (!epic || s.epicId === epic) && (!status || statusOf(s) === status))
      .map((story) => ({ story, name: storyName(story.key, story.shortId), span: spans.get(story.shortId) ?? null }));
    const cmp = compare(column);
    rows.sort((a, b) => (descending ? -1 : 1) * (cmp(a, b) || compareStories(a.story, b.story)));
    syncList(body, rows, (r) => r.story.key, createRow, updateRow);
    for (const [id, th] of headers) setAttr(th, 'aria-sort', id === column ? (descending ? 'descending' : 'ascending') : null);
    setText(count, `${rows.length} of ${all.length} stories`);
    empty.hidden = rows.length > 0 || !store.sprint;
    problem.update();
    // a running story's duration counts up once a second, only while something runs
    const running = [...spans.values()].some((span) => span?.running);
    if (running && !timer) timer = setInterval(tick, 1000);
    if (!running && timer) {
      clearInterval(timer);
      timer = null;
    }
  }

  let timer: ReturnType<typeof setInterval> | null = null;
  function tick(): void {
    for (const span of spans.values()) if (span?.running) span.end = Date.now();
    render();
  }

  function createRow(): HTMLElement {
    return h(
      'tr',
      { 'data-testid': 'story-row' },
      h('td', { class: 'mono', 'data-cell': 'id' }),
      h('td', { 'data-cell': 'name' }),
      h('td', { 'data-cell': 'epic' }),
      h('td', { class: 'mono', 'data-cell': 'duration' }),
      h('td', { 'data-cell': 'status' }, h('span', { class: 'badge', 'data-testid': 'story-status' })),
    );
  }

  function updateRow(tr: HTMLElement, row: Row): void {
    const [id, name, epic, duration, statusCell] = Array.from(tr.children) as HTMLElement[];
    const status = statusOf(row.story);
    setText(id!, row.story.shortId);
    setText(name!, row.name);
    setAttr(name!, 'title', store.descriptions[row.story.key] ?? null);
    setText(epic!, row.story.epicId);
    setText(duration!, row.span ? formatDuration(row.span.end - row.span.start) + (row.span.running ? ' …' : '') : '');
    const badge = statusCell!.firstElementChild!;
    setText(badge, status);
    setAttr(badge, 'data-status', status);
    setAttr(tr, 'data-status', status);
    setAttr(tr, 'data-epic', row.story.epicId);
    setAttr(tr, 'data-active', store.state?.currentStory?.key === row.story.key ? 'true' : null);
  }

  store.on('sprint', () => {
    syncEpicOptions();
    render();
  });
  store.on('descriptions', render);
  store.on('state', render);
  store.on('history', () => {
    recomputeAll();
    render();
  });
  store.on('command', (command) => {
    for (const shortId of command.stories) recomputeSpan(shortId);
    render();
  });
  syncEpicOptions();
  recomputeAll();
  render();
}

let onShown: (() => void) | null = null;

export const storiesView: View = { id: 'stories', title: 'Stories', mount, shown: () => onShown?.() };
