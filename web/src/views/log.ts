// The live event log: newest first, filtered, virtualised so 100,000 events keep a DOM of a few dozen rows.
import { eventText } from '../../../machines/event-text.js';
import { clock, h, setText } from '../dom.js';
import { setUi, ui } from '../persist.js';
import type { Store } from '../store.js';
import type { StoredEvent } from '../types.js';

const ROW_HEIGHT = 22;
const OVERSCAN = 10;
/** the shortest time between two updates of the "N shown of M" count */
const COUNT_MS = 250;
export const LOG_TYPES = ['batch', 'cycle', 'command:start', 'command:progress', 'command:end', 'story:status', 'warning', 'error', 'state', 'machine'] as const;

/** One line of text for an event (the terminal's text too); the filter searches it. */
export const describeEvent = (event: StoredEvent): string => eventText(event).text;

const typeGroup = (type: string) => (type.startsWith('batch') ? 'batch' : type.startsWith('cycle') ? 'cycle' : type);

export function mountLog(container: HTMLElement, store: Store): void {
  const filterText = h('input', { type: 'search', placeholder: 'filter the log', 'data-testid': 'log-filter-text', value: ui().logFilter.text });
  const typeBoxes = LOG_TYPES.map((type) => {
    const box = h('input', { type: 'checkbox', value: type, 'data-testid': `log-type-${type}` });
    box.checked = ui().logFilter.types.includes(type);
    return { type, box, label: h('label', { class: 'log-type' }, box, type) };
  });
  const count = h('span', { class: 'muted', 'data-testid': 'log-count' });
  const viewport = h('div', { class: 'log-viewport', 'data-testid': 'event-log' });
  const spacer = h('div', { class: 'log-spacer' });
  /**
   * The rows live in one layer. A row's place inside it is fixed by its event's place from the oldest; the layer
   * moves down one line per new event. So a new event costs one transform on the layer and one new row, and the
   * rows already shown are neither rewritten nor repainted.
   */
  const rowsLayer = h('div', { class: 'log-rows' });
  viewport.append(spacer, rowsLayer);
  container.append(h('div', { class: 'toolbar' }, filterText, ...typeBoxes.map((t) => t.label), count), viewport);

  /** matching events, oldest first: row i from the top shows filtered[length - 1 - i] */
  let filtered: StoredEvent[] = [];
  /**
   * The rendered rows by event id. A row stays with its event while it is in view, so a new event at the top
   * moves the rows below it (one style write each) instead of rewriting the text of every row.
   */
  const rowsById = new Map<number, HTMLElement>();
  const spareRows: HTMLElement[] = [];
  /** matching events that arrived since the last render: a reader scrolled down is kept on what they read */
  let arrivedAbove = 0;
  let loadingOlder = false;

  const matches = (event: StoredEvent) => {
    const { text, types } = ui().logFilter;
    if (!types.includes(typeGroup(event.type))) return false;
    return !text || describeEvent(event).toLowerCase().includes(text.toLowerCase()) || event.type.includes(text);
  };
  const saveFilter = () => {
    const checked = typeBoxes.filter((t) => t.box.checked).map((t) => t.type);
    setUi('logFilter', { text: filterText.value, types: checked });
    refilter();
  };
  const refilter = () => {
    filtered = store.events.filter(matches);
    arrivedAbove = 0;
    // every event's place from the oldest may have changed: place every row again
    for (const row of rowsById.values()) {
      row.hidden = true;
      spareRows.push(row);
    }
    rowsById.clear();
    render();
  };

  /** The row of filtered[fromOldest]: placed once, when it is given to its event. */
  const rowFor = (event: StoredEvent, fromOldest: number): HTMLElement => {
    let row = rowsById.get(event.id);
    if (row) return row;
    row = spareRows.pop();
    if (!row) {
      // rows are only created up to the number in view: the DOM stays bounded whatever the history
      row = h('div', { class: 'log-row', 'data-testid': 'log-row' }, h('span', { class: 'log-time mono' }), h('span', { class: 'log-type-tag' }), h('span', { class: 'log-text' }));
      rowsLayer.append(row);
    }
    rowsById.set(event.id, row);
    row.hidden = false;
    row.style.transform = `translateY(${-fromOldest * ROW_HEIGHT}px)`;
    row.dataset['id'] = String(event.id);
    row.dataset['type'] = event.type;
    setText(row.children[0]!, clock(event.ts));
    setText(row.children[1]!, event.type);
    setText(row.children[2]!, describeEvent(event));
    return row;
  };

  /**
   * The count sits outside the log's layer: changing it repaints the page, so a flood of events updates it at
   * most every COUNT_MS (and once more after the last change).
   */
  let countShownAt = 0;
  let countTimer: ReturnType<typeof setTimeout> | null = null;
  const showCount = () => {
    if (countTimer) return;
    const wait = countShownAt + COUNT_MS - performance.now();
    const update = () => {
      countTimer = null;
      countShownAt = performance.now();
      setText(count, `${filtered.length} shown of ${store.events.length}${store.hasOlderEvents ? '+' : ''}`);
    };
    if (wait <= 0) update();
    else countTimer = setTimeout(update, wait);
  };

  const render = () => {
    // every layout read comes before any write: a read after a write would force a layout per frame
    let scrollTop = viewport.scrollTop;
    const height = viewport.clientHeight || 400;
    const total = filtered.length * ROW_HEIGHT;
    spacer.style.height = `${total}px`;
    // the newest event sits at the top: the layer's origin is the oldest event's line
    rowsLayer.style.transform = `translateY(${(filtered.length - 1) * ROW_HEIGHT}px)`;
    if (scrollTop > 0 && arrivedAbove > 0) {
      scrollTop += arrivedAbove * ROW_HEIGHT;
      viewport.scrollTop = scrollTop;
    }
    arrivedAbove = 0;
    showCount();
    const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(filtered.length, first + Math.ceil(height / ROW_HEIGHT) + OVERSCAN * 2);
    const inView = new Set<number>();
    for (let index = first; index < last; index++) inView.add(filtered[filtered.length - 1 - index]!.id);
    for (const [id, row] of rowsById) {
      if (inView.has(id)) continue;
      rowsById.delete(id);
      row.hidden = true;
      spareRows.push(row);
    }
    for (let index = first; index < last; index++) rowFor(filtered[filtered.length - 1 - index]!, filtered.length - 1 - index);
    const nearEnd = scrollTop + height >= total - ROW_HEIGHT * 20;
    if (nearEnd && store.hasOlderEvents && !loadingOlder) {
      loadingOlder = true;
      void store.loadOlder().finally(() => (loadingOlder = false));
    }
  };

  filterText.addEventListener('input', saveFilter);
  for (const t of typeBoxes) t.box.addEventListener('change', saveFilter);
  viewport.addEventListener('scroll', () => requestAnimationFrame(render), { passive: true });
  store.on('history', refilter);
  let frame = 0;
  store.on('event', (event) => {
    if (!matches(event)) return;
    filtered.push(event);
    arrivedAbove++;
    if (!frame) frame = requestAnimationFrame(() => ((frame = 0), render()));
  });
  refilter();
}
