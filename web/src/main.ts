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

const VIEWS: View[] = [runView, epicsView, storiesView, activityView, timelineView, inspectorView];

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
  for (const view of VIEWS) {
    const button = h('button', { role: 'tab', 'data-tab': view.id, onclick: () => select(view.id) }, view.title);
    buttons.set(view.id, button);
    tabs.append(button);
    const section = h('section', { class: `view view-${view.id}`, 'data-view': view.id, role: 'tabpanel' });
    sections.set(view.id, section);
    main.append(section);
    view.mount(section, store);
  }
  select(ui().tab);
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
  await store.loadInitial();
  new Connection(store).start();
  (window as unknown as { sprintRunner: unknown }).sprintRunner = { store };
}

void boot();
