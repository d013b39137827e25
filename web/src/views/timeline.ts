// The Timeline tab: a Gantt chart of stories, their commands and task phases, with zoom, grid blocks, a resizable label column and a time cursor.
import { clock, formatDuration, h, setAttr, setText, syncList } from '../dom.js';
import { setUi, ui } from '../persist.js';
import type { Store } from '../store.js';
import type { CommandView } from '../types.js';
import type { View } from '../view.js';
import { statusOf, storyName } from './stories.js';

const ROW_H = 24;
/** pixels per minute at zoom 1; zoom doubles or halves per click */
const BASE_PX_PER_MIN = 20;
const MIN_ZOOM = 1 / 64;
const MAX_ZOOM = 4096;
const MIN_LABEL = 120;
const MAX_LABEL = 640;
const NO_STORY = '';
/** free pixels left of the first bar */
const PAD = 16;
/** axis label spacings to choose from: the smallest that leaves room for a label */
const TICK_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400].map((s) => s * 1000);

interface Row {
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
}

const ms = (iso: string) => new Date(iso).getTime();
const isRunning = (c: CommandView) => c.status === 'running' && c.endedAt === null;
const pxPerMs = () => (BASE_PX_PER_MIN * ui().timeline.zoom) / 60_000;
const blockMs = () => Math.max(0.1, ui().timeline.blockMinutes || 5) * 60_000;
const saveTimeline = (patch: Partial<ReturnType<typeof ui>['timeline']>) => setUi('timeline', { ...ui().timeline, ...patch });

let onShown: (() => void) | null = null;

function mount(container: HTMLElement, store: Store): void {
  const zoomLabel = h('span', { class: 'mono tl-zoom-label', 'data-testid': 'timeline-zoom-label' });
  const block = h('input', { type: 'number', min: 0.1, step: 'any', class: 'tl-block', 'data-testid': 'timeline-block', 'aria-label': 'Block size in minutes' });
  const toggleAll = h('button', { class: 'action', type: 'button', 'data-testid': 'timeline-toggle-all', onclick: () => setShowAll(!ui().timeline.showAll) });
  const summary = h('span', { class: 'muted' });
  container.append(
    h(
      'div',
      { class: 'toolbar tl-toolbar' },
      h('button', { class: 'action', type: 'button', title: 'Zoom out', 'data-testid': 'timeline-zoom-out', onclick: () => zoomTo(ui().timeline.zoom / 2) }, '−'),
      h('button', { class: 'action', type: 'button', title: 'Zoom in', 'data-testid': 'timeline-zoom-in', onclick: () => zoomTo(ui().timeline.zoom * 2) }, '+'),
      h('button', { class: 'action', type: 'button', title: 'Fit everything in view', 'data-testid': 'timeline-fit', onclick: () => fit() }, 'Fit'),
      zoomLabel,
      h('label', {}, 'Block ', block, ' min'),
      toggleAll,
      summary,
    ),
  );
  const corner = h('div', { class: 'tl-corner muted' }, 'story / command / task');
  const labels = h('div', { class: 'tl-labels' });
  const handle = h('div', { class: 'tl-handle', 'data-testid': 'timeline-resize', title: 'Drag to resize' });
  const left = h('div', { class: 'tl-left' }, corner, labels, handle);
  const cursorTime = h('div', { class: 'tl-cursor-time mono', 'data-testid': 'timeline-cursor-time', hidden: true });
  const ticks = h('div', { class: 'tl-ticks' });
  const axis = h('div', { class: 'tl-axis' }, ticks, cursorTime);
  const bars = h('div', { class: 'tl-bars' });
  const nowLine = h('div', { class: 'tl-now', 'data-testid': 'timeline-now', hidden: true });
  const cursor = h('div', { class: 'tl-cursor', 'data-testid': 'timeline-cursor', hidden: true });
  const canvas = h('div', { class: 'tl-canvas', 'data-testid': 'timeline-canvas' }, bars, nowLine, cursor);
  const right = h('div', { class: 'tl-right' }, axis, canvas);
  const scroller = h('div', { class: 'tl-scroll', 'data-testid': 'timeline' }, h('div', { class: 'tl-grid' }, left, right));
  const empty = h('div', { class: 'muted tl-empty' }, 'No commands yet: the timeline fills as a batch runs.');
  container.append(scroller, empty);

  /** stories toggled against the show-all setting (cleared when it changes) */
  const toggled = new Set<string>();
  let t0 = 0;
  let tEnd = 0;
  let running = false;

  function buildRows(now: number): Row[] {
    const byStory = new Map<string, CommandView[]>();
    for (const c of store.commandList()) for (const s of c.stories.length ? c.stories : [NO_STORY]) (byStory.get(s) ?? byStory.set(s, []).get(s)!).push(c);
    const rows: Row[] = [];
    const stories = [...byStory].sort(([ka, a], [kb, b]) => ms(a[0]!.startedAt) - ms(b[0]!.startedAt) || (ka < kb ? -1 : 1));
    for (const [story, commands] of stories) {
      const sprintStory = store.sprint?.stories.find((s) => s.shortId === story);
      const live = commands.some(isRunning);
      const start = Math.min(...commands.map((c) => ms(c.startedAt)));
      const end = live ? null : Math.max(...commands.map((c) => ms(c.endedAt ?? c.startedAt)));
      const name = sprintStory ? storyName(sprintStory.key, sprintStory.shortId) : story ? '' : 'project context, batch work';
      const status = live ? 'running' : sprintStory ? statusOf(sprintStory) : (commands[commands.length - 1]!.status as string);
      const description = sprintStory ? store.descriptions[sprintStory.key] : undefined;
      const title = `${story || 'batch'} ${name}\n${clock(start)} – ${end ? clock(end) : 'now'} (${formatDuration((end ?? now) - start)})${description ? `\n\n${description}` : ''}`;
      rows.push({ key: `s:${story}`, kind: 'story', story, label: `${story || 'batch'} ${name}`, title, start, end, status, depth: 0, index: 0 });
      if (ui().timeline.showAll === toggled.has(story)) continue;
      for (const c of commands) {
        const cEnd = isRunning(c) ? null : ms(c.endedAt ?? c.startedAt);
        const label = `${c.command}${c.attempt > 1 ? ` #${c.attempt}` : ''}`;
        const cTitle = `${label} · ${c.status}\n${clock(c.startedAt)} – ${cEnd ? clock(cEnd) : 'now'} (${formatDuration((cEnd ?? now) - ms(c.startedAt))})${c.message ? `\n${c.message}` : ''}`;
        rows.push({ key: `c:${story}:${c.key}`, kind: 'command', story, label, title: cTitle, start: ms(c.startedAt), end: cEnd, status: c.status, depth: 1, index: 0 });
        const skipped = c.taskCount - c.tasks.length;
        c.tasks.forEach((t, i) => {
          if (story && t.storyShortId !== null && t.storyShortId !== story) return;
          const tEndAt = t.status === 'running' ? null : ms(t.endedAt ?? t.startedAt);
          const tTitle = `${t.taskId} · ${t.status}\n${clock(t.startedAt)} – ${tEndAt ? clock(tEndAt) : 'now'} (${formatDuration((tEndAt ?? now) - ms(t.startedAt))})${t.message ? `\n${t.message}` : ''}`;
          rows.push({ key: `t:${story}:${c.key}:${skipped + i}`, kind: 'task', story, label: t.taskId, title: tTitle, start: ms(t.startedAt), end: tEndAt, status: t.status, depth: 2, index: 0 });
        });
      }
    }
    rows.forEach((r, i) => (r.index = i));
    return rows;
  }

  const tickStep = () => TICK_STEPS.find((s) => s * pxPerMs() >= 80) ?? TICK_STEPS[TICK_STEPS.length - 1]!;
  const xOf = (t: number) => PAD + (t - t0) * pxPerMs();
  const tOf = (x: number) => t0 + (x - PAD) / pxPerMs();
  const chartWidth = () => Math.max(200, (scroller.clientWidth || window.innerWidth) - ui().timeline.labelWidth);
  const atRightEdge = () => scroller.scrollLeft > 0 && scroller.scrollLeft + scroller.clientWidth >= scroller.scrollWidth - 4;

  function render(): void {
    const now = Date.now();
    const follow = atRightEdge();
    const rows = buildRows(now);
    running = rows.some((r) => r.end === null);
    const px = pxPerMs();
    const bms = blockMs();
    const starts = rows.map((r) => r.start);
    t0 = Math.floor((starts.length ? Math.min(...starts) : now) / 1000) * 1000;
    tEnd = Math.max(t0 + 1000, ...rows.map((r) => r.end ?? now));
    const width = Math.max(chartWidth(), Math.ceil(xOf(tEnd) + 4 * PAD));
    setStyle(right, 'width', `${width}px`);
    setStyle(canvas, 'height', `${Math.max(rows.length * ROW_H, ROW_H * 4)}px`);
    const blockPx = bms * px;
    // grid lines every block and faint ones at each axis label, on whole multiples (a CSS background: no nodes)
    const step = tickStep();
    const line = (color: string) => `linear-gradient(to right, var(${color}) 0 1px, transparent 1px)`;
    setStyle(canvas, 'backgroundImage', blockPx >= 4 ? `${line('--tl-grid')}, ${line('--tl-tick')}` : line('--tl-tick'));
    setStyle(canvas, 'backgroundSize', `${blockPx >= 4 ? `${blockPx}px 100%, ` : ''}${step * px}px 100%`);
    const offset = (every: number) => `${xOf(Math.ceil(t0 / every) * every) % (every * px)}px 0`;
    setStyle(canvas, 'backgroundPosition', `${blockPx >= 4 ? `${offset(bms)}, ` : ''}${offset(step)}`);
    setStyle(left, 'width', `${ui().timeline.labelWidth}px`);
    syncList(labels, rows, (r) => r.key, createLabel, updateLabel);
    syncList(bars, rows, (r) => r.key, () => h('div', { class: 'tl-bar', 'data-testid': 'timeline-bar' }), (el, r) => updateBar(el, r, now));
    nowLine.hidden = !running;
    setStyle(nowLine, 'left', `${xOf(now)}px`);
    setText(zoomLabel, `${formatPx(BASE_PX_PER_MIN * ui().timeline.zoom)} px/min`);
    if (document.activeElement !== block) block.value = String(ui().timeline.blockMinutes);
    setText(toggleAll, ui().timeline.showAll ? 'Hide all' : 'Show all');
    setAttr(toggleAll, 'aria-pressed', String(ui().timeline.showAll));
    const storyCount = rows.filter((r) => r.kind === 'story').length;
    setText(summary, storyCount ? `${storyCount} stories · ${clock(t0)} – ${running ? 'now' : clock(tEnd)}` : '');
    empty.hidden = rows.length > 0;
    scroller.hidden = rows.length === 0;
    if (follow) scroller.scrollLeft = scroller.scrollWidth;
    renderTicks();
    if (running && !timer) timer = setInterval(schedule, 1000);
    if (!running && timer) {
      clearInterval(timer);
      timer = null;
    }
  }

  function createLabel(r: Row): HTMLElement {
    const el = h('div', { class: 'tl-label', 'data-testid': 'timeline-label', 'data-kind': r.kind }, h('span', { class: 'tl-caret' }), h('span', { class: 'tl-label-text' }));
    if (r.kind === 'story') {
      el.addEventListener('click', () => {
        if (!toggled.delete(r.story)) toggled.add(r.story);
        schedule();
      });
    }
    return el;
  }

  function updateLabel(el: HTMLElement, r: Row): void {
    const [caret, text] = Array.from(el.children) as HTMLElement[];
    setText(caret!, r.kind === 'story' ? (ui().timeline.showAll !== toggled.has(r.story) ? '▾' : '▸') : '');
    setText(text!, r.label);
    setAttr(el, 'title', r.title);
    setAttr(el, 'data-status', r.status);
    setStyle(el, 'paddingLeft', `${6 + r.depth * 14}px`);
  }

  function updateBar(el: HTMLElement, r: Row, now: number): void {
    const px = pxPerMs();
    setAttr(el, 'data-kind', r.kind);
    setAttr(el, 'data-status', r.status);
    setAttr(el, 'data-running', r.end === null ? 'true' : null);
    setAttr(el, 'title', r.title);
    setStyle(el, 'left', `${Math.round(xOf(r.start))}px`);
    setStyle(el, 'width', `${Math.max(2, Math.round(((r.end ?? now) - r.start) * px))}px`);
    setStyle(el, 'top', `${r.index * ROW_H}px`);
    setText(el, r.kind === 'task' ? '' : r.kind === 'command' ? r.label : '');
  }

  /** time labels on the axis, only for the visible part (the grid itself is a CSS background) */
  function renderTicks(): void {
    const px = pxPerMs();
    const step = tickStep();
    const from = tOf(scroller.scrollLeft);
    const to = tOf(scroller.scrollLeft + chartWidth());
    const times: number[] = [];
    for (let t = Math.floor(from / step) * step; t <= to + step && times.length < 200; t += step) if (xOf(t) >= 0) times.push(t);
    syncList(ticks, times, String, () => h('div', { class: 'tl-tick mono' }), (el, t) => {
      setStyle(el, 'left', `${xOf(t)}px`);
      setText(el, step < 60_000 ? clock(t) : clock(t).slice(0, 5));
    });
  }

  let frame = 0;
  let timer: ReturnType<typeof setInterval> | null = null;
  function schedule(): void {
    // a hidden tab is rebuilt when it is shown (onShown renders), not on every event
    if (container.hidden || frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      render();
    });
  }

  function zoomTo(zoom: number): void {
    // browsers cap an element's width (~33M px): a long history limits how far one can zoom in
    const widest = 8e6 / (Math.max(60_000, tEnd - t0) / 60_000) / BASE_PX_PER_MIN;
    const next = Math.min(MAX_ZOOM, widest, Math.max(MIN_ZOOM, zoom));
    const visible = chartWidth();
    const center = tOf(scroller.scrollLeft + visible / 2);
    saveTimeline({ zoom: next });
    render();
    scroller.scrollLeft = Math.max(0, xOf(center) - visible / 2);
    renderTicks();
  }

  function fit(): void {
    const span = Math.max(1000, tEnd - t0);
    const zoom = (chartWidth() - 3 * PAD) / (span / 60_000) / BASE_PX_PER_MIN;
    saveTimeline({ zoom: Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, 2 ** Math.floor(Math.log2(zoom)))) });
    render();
    scroller.scrollLeft = 0;
    renderTicks();
  }

  function setShowAll(showAll: boolean): void {
    toggled.clear();
    saveTimeline({ showAll });
    render();
  }

  block.addEventListener('change', () => {
    const minutes = Number(block.value);
    if (Number.isFinite(minutes) && minutes >= 0.1) saveTimeline({ blockMinutes: minutes });
    render();
  });

  // the label column's width: drag the handle
  handle.addEventListener('pointerdown', (down: PointerEvent) => {
    down.preventDefault();
    const startX = down.clientX;
    const startWidth = ui().timeline.labelWidth;
    handle.setPointerCapture(down.pointerId);
    const move = (e: PointerEvent) => {
      const width = Math.min(MAX_LABEL, Math.max(MIN_LABEL, startWidth + e.clientX - startX));
      setStyle(left, 'width', `${width}px`);
      saveTimeline({ labelWidth: Math.round(width) });
    };
    const up = () => {
      handle.removeEventListener('pointermove', move);
      handle.removeEventListener('pointerup', up);
      render();
    };
    handle.addEventListener('pointermove', move);
    handle.addEventListener('pointerup', up);
  });

  // the cursor line and the time under the mouse
  right.addEventListener('mousemove', (e: MouseEvent) => {
    const x = e.clientX - canvas.getBoundingClientRect().left;
    cursor.hidden = cursorTime.hidden = x < 0;
    if (x < 0) return;
    setStyle(cursor, 'left', `${x}px`);
    setStyle(cursorTime, 'left', `${x}px`);
    setText(cursorTime, clock(tOf(x)));
  });
  right.addEventListener('mouseleave', () => (cursor.hidden = cursorTime.hidden = true));
  scroller.addEventListener('scroll', () => requestAnimationFrame(renderTicks), { passive: true });

  let firstShow = true;
  onShown = () => {
    render();
    if (firstShow && scroller.clientWidth) {
      firstShow = false;
      scroller.scrollLeft = scroller.scrollWidth;
      renderTicks();
    }
  };
  for (const topic of ['command', 'history', 'sprint', 'descriptions'] as const) store.on(topic, schedule);
  render();
}

function setStyle(el: HTMLElement, name: 'width' | 'height' | 'left' | 'top' | 'paddingLeft' | 'backgroundImage' | 'backgroundSize' | 'backgroundPosition', value: string): void {
  if (el.style[name] !== value) el.style[name] = value;
}

const formatPx = (n: number) => (n >= 10 ? String(Math.round(n)) : n.toFixed(n >= 1 ? 1 : 2));

export const timelineView: View = { id: 'timeline', title: 'Timeline', mount, shown: () => onShown?.() };
