// The Batches tab: the current batch with its elapsed time, and every past batch (started, duration, cycles, cost, outcome, stories), each openable.
import { formatCost, formatDuration, h, setAttr, setText, syncList } from '../dom.js';
import { dateTime, isLive, shownStatus } from '../model.js';
import type { Store } from '../store.js';
import type { BatchSummary } from '../types.js';
import type { View } from '../view.js';
import { openCommand } from './failures.js';
import { batchTime, statusLine } from './run.js';

const ms = (iso: string) => new Date(iso).getTime();

function mount(container: HTMLElement, store: Store): void {
  const current = h('div', { class: 'panel batch-current', 'data-testid': 'batch-current' });
  const body = h('tbody');
  const table = h(
    'table',
    { class: 'batches-table', 'data-testid': 'batches' },
    h('thead', {}, h('tr', {}, ...['#', 'started', 'duration', 'cycles', 'cost', 'outcome', 'done', 'blocked'].map((label) => h('th', {}, label)))),
    body,
  );
  container.append(current, h('div', { class: 'panel' }, h('h2', {}, 'All batches (newest first)'), table));
  const open = new Set<number>();

  function renderCurrent(): void {
    const state = store.state;
    if (!state?.batch) {
      setText(current, 'No batch yet: start one from the Sprint Run tab.');
      return;
    }
    const summary = store.batches.find((b) => b.id === state.batch!.id);
    setText(
      current,
      `Batch #${state.batch.id} · started ${dateTime(state.batch.startedAt)} · ${isLive(state) ? `${batchTime(state)} elapsed` : `took ${batchTime(state)}`} · ${statusLine(state)} · ${formatCost(state.batch.costUsd) || '$0'} · ${summary?.storiesDone.length ?? 0} done, ${summary?.storiesBlocked.length ?? 0} blocked`,
    );
    setAttr(current, 'data-status', state.status);
  }

  function rowsOf(batches: readonly BatchSummary[]): { key: string; batch: BatchSummary; detail: boolean }[] {
    return batches.flatMap((batch) => [{ key: `b${batch.id}`, batch, detail: false }, ...(open.has(batch.id) ? [{ key: `d${batch.id}`, batch, detail: true }] : [])]);
  }

  function render(): void {
    renderCurrent();
    syncList(
      body,
      rowsOf(store.batches),
      (r) => r.key,
      (r) => (r.detail ? h('tr', { class: 'batch-detail', 'data-testid': 'batch-detail' }, h('td', { colspan: 8 })) : h('tr', { class: 'batch-row', 'data-testid': 'batch-row', tabindex: 0 }, ...Array.from({ length: 8 }, () => h('td')))),
      (tr, r) => (r.detail ? updateDetail(tr, r.batch) : updateRow(tr, r.batch)),
    );
  }

  function updateRow(tr: HTMLElement, b: BatchSummary): void {
    const live = store.state?.batch?.id === b.id && isLive(store.state);
    const end = b.endedAt ? ms(b.endedAt) : live ? Date.now() : null;
    const cells = Array.from(tr.children) as HTMLElement[];
    const values = [
      `${open.has(b.id) ? '▾' : '▸'} #${b.id}`,
      dateTime(b.startedAt),
      end === null ? '—' : `${formatDuration(end - ms(b.startedAt))}${live ? ' (running)' : ''}`,
      `${b.cyclesCompleted}/${b.maxCycles}`,
      formatCost(b.costUsd) || '$0',
      b.status,
      String(b.storiesDone.length),
      String(b.storiesBlocked.length),
    ];
    values.forEach((v, i) => setText(cells[i]!, v));
    setAttr(tr, 'data-id', String(b.id));
    setAttr(tr, 'data-status', b.status);
    setAttr(cells[5]!, 'data-tip', b.message);
    tr.onclick = () => {
      if (!open.delete(b.id)) open.add(b.id);
      render();
    };
  }

  function updateDetail(tr: HTMLElement, b: BatchSummary): void {
    const cell = tr.firstElementChild as HTMLElement;
    const commands = store.commandList().filter((c) => c.batchId === b.id);
    cell.replaceChildren(
      h('div', {}, b.message ?? ''),
      h('div', {}, `done: ${b.storiesDone.join(', ') || 'none'}`),
      h('div', {}, `blocked: ${b.storiesBlocked.map((s) => `${s.story} (${s.reason})`).join('; ') || 'none'}`),
      h(
        'ul',
        { class: 'batch-commands' },
        ...commands.map((c) =>
          h(
            'li',
            {},
            h('button', { class: 'link', type: 'button', onclick: () => openCommand(c.key) }, `${c.command} ${c.stories.join(',')}`),
            ` · ${shownStatus(c, store.state)} · ${dateTime(c.startedAt)}${c.costUsd !== null ? ` · ${formatCost(c.costUsd)}` : ''}`,
          ),
        ),
      ),
    );
  }

  store.on('batches', render);
  // an open batch lists its commands: those that start, end or learn their batch show without waiting for a refetch
  let pending = false;
  store.on('command', () => {
    if (open.size === 0 || pending) return;
    pending = true;
    setTimeout(() => {
      pending = false;
      render();
    }, 250);
  });
  store.on('state', renderCurrent);
  setInterval(() => {
    if (!container.hidden && isLive(store.state)) render();
  }, 1000);
  render();
}

export const batchesView: View = { id: 'batches', title: 'Batches', mount };
