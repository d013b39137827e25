// The dashboard's entry: loads the model, opens the WebSocket, and mounts the tabs and the summary cards.
import { Connection } from './connection.js';
import { h, setText } from './dom.js';
import { setUi, ui } from './persist.js';
import { Store } from './store.js';
import type { View } from './view.js';
import { mountCards } from './views/cards.js';
import { runView } from './views/run.js';
import { epicsView } from './views/epics.js';
import { storiesView } from './views/stories.js';
import { activityView } from './views/activity.js';
import { timelineView } from './views/timeline.js';
import { inspectorView } from './views/inspector.js';
import { batchesView } from './views/batches.js';
import { problemsOf } from './views/failures.js';
import { mountNotifications } from './notify.js';
import { mountTooltip } from './tooltip.js';
import { isRunningNow } from './model.js';

const VIEWS: View[] = [runView, batchesView, epicsView, storiesView, activityView, timelineView, inspectorView];

/** The count a tab shows beside its title (empty: none). */
function tabCount(id: string, store: Store): string {
  switch (id) {
    case 'run': {
      const n = problemsOf(store).filter((p) => p.level !== 'warning').length;
      return n ? `${n} ⚠` : '';
    }
    case 'batches':
      return store.batches.length ? String(store.batches.length) : '';
    case 'epics':
      return store.sprint ? String(store.sprint.epics.length) : '';
    case 'stories':
      return store.sprint ? `${store.sprint.stories.filter((s) => s.status === 'done').length}/${store.sprint.stories.length}` : '';
    case 'activity': {
      const running = store.commandList().filter((c) => isRunningNow(c, store.state)).length;
      return running ? `${running} running` : '';
    }
    default:
      return '';
  }
}

function mountTabs(store: Store): void {
  const tabs = document.getElementById('tabs')!;
  const main = document.getElementById('views')!;
  const sections = new Map<string, HTMLElement>();
  const buttons = new Map<string, HTMLButtonElement>();
  const select = (id: string) => {
    const known = VIEWS.some((v) => v.id === id) ? id : VIEWS[0]!.id;
    for (const [viewId, section] of sections) section.hidden = viewId !== known;
    for (const [viewId, button] of buttons) button.setAttribute('aria-selected', String(viewId === known));
    setUi('tab', known);
    VIEWS.find((v) => v.id === known)?.shown?.();
  };
  const counts = new Map<string, HTMLElement>();
  for (const view of VIEWS) {
    const count = h('span', { class: 'tab-count', 'data-testid': `tab-count-${view.id}` });
    counts.set(view.id, count);
    const button = h('button', { role: 'tab', 'data-tab': view.id, onclick: () => select(view.id) }, view.title, count);
    buttons.set(view.id, button);
    tabs.append(button);
    const section = h('section', { class: `view view-${view.id}`, 'data-view': view.id, role: 'tabpanel' });
    sections.set(view.id, section);
    main.append(section);
    view.mount(section, store);
  }
  select(ui().tab);
  // counts: refreshed at most once a second, a flood of events must not recount every frame
  let pending: ReturnType<typeof setTimeout> | null = null;
  const recount = () => {
    pending ??= setTimeout(() => {
      pending = null;
      for (const [id, el] of counts) setText(el, tabCount(id, store));
    }, 250);
  };
  for (const topic of ['state', 'sprint', 'batches', 'history'] as const) store.on(topic, recount);
  // a task line patches its command too: only a start or an end changes a count
  store.on('event', (event) => (event.type === 'command:start' || event.type === 'command:end' || event.type === 'error' || event.type === 'story:status') && recount());
  // "open command" links anywhere: the Activity tab shows it
  window.addEventListener('sprint:open-command', () => select('activity'));
}

function mountConnectionBadge(store: Store): void {
  const badge = document.getElementById('connection')!;
  const labels = { connecting: 'connecting…', open: 'live', reconnecting: 'reconnecting…', closed: 'disconnected' } as const;
  store.on('connection', (state) => {
    badge.dataset['state'] = state;
    setText(badge, labels[state]);
  });
}

async function boot(): Promise<void> {
  const store = new Store();
  mountConnectionBadge(store);
  mountCards(document.getElementById('cards')!, store);
  mountTabs(store);
  mountTooltip();
  mountNotifications(document.getElementById('topbar-tools')!, store, () => problemsOf(store).filter((p) => p.level !== 'warning').length);
  await store.loadInitial();
  new Connection(store).start();
  (window as unknown as { sprintRunner: unknown }).sprintRunner = { store };
}

void boot();
