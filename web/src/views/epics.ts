// The Epics tab: a Backlog / In Progress / Done board whose cards expand to their stories; the column comes from the stories.
import { h, setAttr, setText, syncList } from '../dom.js';
import { setUi, ui } from '../persist.js';
import type { Store } from '../store.js';
import type { SprintStoryView } from '../types.js';
import type { View } from '../view.js';
import { compareEpicIds, compareStories, statusOf, storyName } from './stories.js';
import { sprintProblem } from './sprint-problem.js';

const COLUMNS = [
  { id: 'backlog', title: 'Backlog' },
  { id: 'in-progress', title: 'In Progress' },
  { id: 'done', title: 'Done' },
] as const;
type ColumnId = (typeof COLUMNS)[number]['id'];

/** All done -> Done; any story past backlog -> In Progress; otherwise (or no stories) Backlog. */
export function epicColumn(stories: readonly SprintStoryView[]): ColumnId {
  if (stories.length && stories.every((s) => s.status === 'done')) return 'done';
  if (stories.some((s) => s.status !== null && s.status !== 'backlog')) return 'in-progress';
  return 'backlog';
}

interface EpicItem {
  key: string;
  epicId: string;
  fileStatus: string;
  stories: SprintStoryView[];
  column: ColumnId;
}

function mount(container: HTMLElement, store: Store): void {
  const lists = new Map<ColumnId, HTMLElement>();
  const counts = new Map<ColumnId, HTMLElement>();
  const board = h('div', { class: 'epics-board', 'data-testid': 'epics-board' });
  for (const column of COLUMNS) {
    const list = h('div', { class: 'epics-list' });
    const count = h('span', { class: 'epics-count' });
    lists.set(column.id, list);
    counts.set(column.id, count);
    board.append(
      h(
        'div',
        { class: 'epics-column', 'data-testid': 'epic-column', 'data-column': column.id },
        h('div', { class: 'epics-column-head' }, h('span', {}, column.title), count),
        list,
      ),
    );
  }
  const empty = h('div', { class: 'muted epics-empty', hidden: true }, 'No epics in sprint-status.');
  const problem = sprintProblem(store);
  container.append(problem.el, h('div', { class: 'toolbar muted' }, 'Click a card to show its stories. Hover a story for its description.'), board, empty);

  /** one card per epic key, kept across column moves (syncList works per container, so placement is done here) */
  const cards = new Map<string, HTMLElement>();

  const toggle = (epicId: string) => {
    const expanded = new Set(ui().expandedEpics);
    if (expanded.has(epicId)) expanded.delete(epicId);
    else expanded.add(epicId);
    setUi('expandedEpics', [...expanded]);
    render();
  };

  function createCard(item: EpicItem): HTMLElement {
    const head = h(
      'button',
      { class: 'epic-head', type: 'button', 'data-testid': 'epic-toggle', onclick: () => toggle(item.epicId) },
      h('span', { class: 'epic-caret', 'aria-hidden': 'true' }),
      h('span', { class: 'epic-title' }, `Epic ${item.epicId}`),
      h('span', { class: 'epic-progress-text muted' }),
    );
    const bar = h('div', { class: 'epic-progress' }, h('div', { class: 'epic-progress-fill' }));
    const summary = h('div', { class: 'epic-summary' });
    const stories = h('ul', { class: 'epic-stories', 'data-testid': 'epic-stories' });
    const card = h('div', { class: 'epic-card', 'data-testid': 'epic-card', 'data-epic': item.epicId }, head, bar, summary, stories);
    card.dataset['key'] = item.key;
    return card;
  }

  function updateCard(card: HTMLElement, item: EpicItem): void {
    const expanded = ui().expandedEpics.includes(item.epicId);
    const [head, bar, summary, list] = Array.from(card.children) as HTMLElement[];
    const done = item.stories.filter((s) => s.status === 'done').length;
    const total = item.stories.length;
    setAttr(card, 'data-expanded', String(expanded));
    setAttr(card, 'data-column', item.column);
    setAttr(head!, 'aria-expanded', String(expanded));
    setText(head!.children[0]!, expanded ? '▾' : '▸');
    setText(head!.children[2]!, `${done}/${total} done`);
    setAttr(head!, 'title', `sprint-status says: ${item.fileStatus}`);
    const fill = bar!.firstElementChild as HTMLElement;
    const width = `${total ? Math.round((done / total) * 100) : 0}%`;
    if (fill.style.width !== width) fill.style.width = width;
    // a one-line breakdown by status while collapsed
    const byStatus = new Map<string, number>();
    for (const s of item.stories) byStatus.set(statusOf(s), (byStatus.get(statusOf(s)) ?? 0) + 1);
    syncList(
      summary!,
      [...byStatus],
      ([status]) => status,
      () => h('span', { class: 'badge' }),
      (el, [status, n]) => {
        setText(el, `${n} ${status}`);
        setAttr(el, 'data-status', status);
      },
    );
    summary!.hidden = expanded || total === 0;
    list!.hidden = !expanded;
    const activeKey = store.state?.currentStory?.key ?? null;
    syncList(
      list!,
      expanded ? item.stories : [],
      (s) => s.key,
      () =>
        h(
          'li',
          { class: 'epic-story', 'data-testid': 'epic-story' },
          h('span', { class: 'mono epic-story-id' }),
          h('span', { class: 'epic-story-name' }),
          h('span', { class: 'badge' }),
        ),
      (li, s) => {
        const [id, name, badge] = Array.from(li.children) as HTMLElement[];
        const status = statusOf(s);
        setText(id!, s.shortId);
        setText(name!, storyName(s.key, s.shortId) || s.key);
        setText(badge!, status);
        setAttr(badge!, 'data-status', status);
        setAttr(li, 'data-status', status);
        setAttr(li, 'data-active', s.key === activeKey ? 'true' : null);
        setAttr(li, 'title', store.descriptions[s.key] ?? null);
      },
    );
  }

  function render(): void {
    problem.update();
    const sprint = store.sprint;
    const stories = [...(sprint?.stories ?? [])].sort(compareStories);
    const ids = new Map<string, { key: string; status: string }>();
    for (const e of sprint?.epics ?? []) ids.set(e.epicId, { key: e.key, status: e.status });
    // stories whose epic has no `epic-X` line still get a card
    for (const s of stories) if (s.epicId && !ids.has(s.epicId)) ids.set(s.epicId, { key: `epic-${s.epicId}`, status: '' });
    const items: EpicItem[] = [...ids]
      .sort(([a], [b]) => compareEpicIds(a, b))
      .map(([epicId, e]) => {
        const own = stories.filter((s) => s.epicId === epicId);
        return { key: e.key, epicId, fileStatus: e.status, stories: own, column: epicColumn(own) };
      });
    const stale = new Set(cards.keys());
    for (const column of COLUMNS) {
      const list = lists.get(column.id)!;
      const inColumn = items.filter((i) => i.column === column.id);
      let cursor = list.firstElementChild;
      for (const item of inColumn) {
        stale.delete(item.key);
        let card = cards.get(item.key);
        if (!card) cards.set(item.key, (card = createCard(item)));
        updateCard(card, item);
        if (card !== cursor) list.insertBefore(card, cursor);
        else cursor = cursor.nextElementSibling;
      }
      // what is left moved to a later column (inserted there below, same node) or is gone
      while (cursor) {
        const next = cursor.nextElementSibling;
        cursor.remove();
        cursor = next;
      }
      setText(counts.get(column.id)!, String(inColumn.length));
    }
    for (const key of stale) {
      cards.get(key)?.remove();
      cards.delete(key);
    }
    empty.hidden = !sprint || items.length > 0;
  }

  store.on('sprint', render);
  store.on('descriptions', render);
  let activeKey: string | null = null;
  store.on('state', (state) => {
    const key = state.currentStory?.key ?? null;
    if (key !== activeKey) {
      activeKey = key;
      render();
    }
  });
  render();
}

export const epicsView: View = { id: 'epics', title: 'Epics', mount };
