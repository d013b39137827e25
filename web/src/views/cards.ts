// The summary cards above every tab: epics, stories done out of total with %, the current story, and the batch.
import { formatCost, h, setText } from '../dom.js';
import type { Store } from '../store.js';
import { batchTime, cycleWords } from './run.js';

function card(testid: string, label: string) {
  const value = h('div', { class: 'value' });
  const detail = h('div', { class: 'detail' });
  const el = h('div', { class: 'card', 'data-testid': testid }, h('div', { class: 'label' }, label), value, detail);
  return { el, value, detail };
}

export function mountCards(container: HTMLElement, store: Store): void {
  const epics = card('card-epics', 'Epics');
  const stories = card('card-stories', 'Stories done');
  const current = card('card-current', 'Current story');
  const batch = card('card-batch', 'Batch');
  container.append(epics.el, stories.el, current.el, batch.el);

  store.on('sprint', (sprint) => {
    if (!sprint) {
      // unreadable: the Epics and Stories tabs say why
      for (const c of [epics, stories]) {
        setText(c.value, '—');
        setText(c.detail, 'sprint-status unreadable');
      }
      return;
    }
    const done = sprint.stories.filter((s) => s.status === 'done').length;
    const total = sprint.stories.length;
    const epicsDone = sprint.epics.filter((e) => {
      const own = sprint.stories.filter((s) => s.epicId === e.epicId);
      return own.length > 0 && own.every((s) => s.status === 'done');
    }).length;
    setText(epics.value, String(sprint.epics.length));
    setText(epics.detail, `${epicsDone} done`);
    setText(stories.value, `${done}/${total}`);
    setText(stories.detail, total ? `${Math.round((done / total) * 100)}%` : '');
  });
  store.on('state', (state) => {
    setText(current.value, state.currentStory?.shortId ?? '—');
    setText(current.detail, state.currentStory ? `${state.currentStory.key}${state.currentCommand ? ` · ${state.currentCommand.command}` : ''}` : 'nothing running');
    setText(batch.value, state.batch ? `#${state.batch.id}` : '—');
    setText(batch.detail, state.batch ? `${state.status} · ${cycleWords(state)} · ${batchTime(state)} · ${formatCost(state.batch.costUsd) || '$0'} this batch` : state.status);
  });
}
