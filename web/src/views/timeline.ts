// The Timeline tab: a Gantt chart of stories (newest first), their commands (coloured by kind) and task phases, with dates, compacted gaps, a Fit that always fits, per-story hiding and follow-live.
import { clock, formatDuration, h, setAttr, setText, syncList } from '../dom.js';
import { setUi, ui } from '../persist.js';
import type { Store } from '../store.js';
import type { View } from '../view.js';
import { dateTime } from '../model.js';
import { buildRows, type Row } from './timeline-rows.js';
import { busySpans, extent, GAP_PX, timeScale, type TimeScale } from './timescale.js';

const ROW_H = 24;
/** pixels per minute at zoom 1; zoom doubles or halves per click */
const BASE_PX_PER_MIN = 20;
/** low enough for any history: Fit sets whatever fits, this only bounds the zoom buttons */
const MIN_ZOOM = 1e-6;
const MAX_ZOOM = 4096;
const MIN_LABEL = 120;
const MAX_LABEL = 640;
/** free pixels left of the first bar */
const PAD = 16;
/** axis label spacings to choose from: the smallest that leaves room for a label */
const TICK_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400, 172800, 604800].map((s) => s * 1000);

/** One colour per command kind (the legend lists them); unknown kinds share the last. */
const KIND_COLOURS: Record<string, string> = {
  'create-story': '#4ea1ff',
  'story-discovery': '#56d4dd',
  'story-review': '#7ee787',
  'create-tech-spec': '#d2a8ff',
  'tech-spec-review': '#bc8cff',
  'dev-story': '#f0883e',
  'code-review': '#ff7b72',
  'background-review-chain': '#e3b341',
  'project-context': '#8b98a7',
  'batch-commit': '#a5d6ff',
};
const OTHER_COLOUR = '#6e7681';
const colourOf = (kind: string): string => KIND_COLOURS[kind] ?? OTHER_COLOUR;

const pxPerMs = () => (BASE_PX_PER_MIN * ui().timeline.zoom) / 60_000;
const blockMs = () => Math.max(0.1, ui().timeline.blockMinutes || 5) * 60_000;
const saveTimeline = (patch: Partial<ReturnType<typeof ui>['timeline']>) => setUi('timeline', { ...ui().timeline, ...patch });

let onShown: (() => void) | null = null;

function mount(container: HTMLElement, store: Store): void {
  const zoomLabel = h('span', { class: 'mono tl-zoom-label', 'data-testid': 'timeline-zoom-label' });
  const block = h('input', { type: 'number', min: 0.1, step: 'any', class: 'tl-block', 'data-testid': 'timeline-block', 'aria-label': 'Block size in minutes' });
  const toggleAll = h('button', { class: 'action', type: 'button', 'data-testid': 'timeline-toggle-all', onclick: () => setShowAll(!ui().timeline.showAll) });
  const summary = h('span', { class: 'muted', 'data-testid': 'timeline-range' });
  const follow = h('input', { type: 'checkbox', 'data-testid': 'timeline-follow' });
  follow.checked = ui().timeline.follow !== false;
  follow.addEventListener('change', () => {
    saveTimeline({ follow: follow.checked });
    if (follow.checked) scroller.scrollLeft = scroller.scrollWidth;
  });
  const unhide = h('button', { class: 'action', type: 'button', 'data-testid': 'timeline-unhide', onclick: () => (saveTimeline({ hidden: [] }), render()) });
  const legend = h('div', { class: 'tl-legend', 'data-testid': 'timeline-legend' });
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
      h('label', { 'data-tip': 'keep the newest moment in view while a batch runs' }, follow, ' follow live'),
      unhide,
      summary,
    ),
    legend,
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
  let busy: [number, number][] = [];
  let scale: TimeScale = timeScale([], 1);
  const gapLayer = h('div', { class: 'tl-gaps' });
  const gridLayer = h('div', { class: 'tl-gridlines' });
  canvas.prepend(gridLayer, gapLayer);

  // room for a label with its date (`Nov 21 00:00`)
  const tickStep = () => TICK_STEPS.find((s) => s * pxPerMs() >= 110) ?? TICK_STEPS[TICK_STEPS.length - 1]!;
  const xOf = (t: number) => PAD + scale.xOf(t);
  const tOf = (x: number) => scale.tOf(x - PAD);
  const chartWidth = () => Math.max(200, (scroller.clientWidth || window.innerWidth) - ui().timeline.labelWidth);

  function render(): void {
    const now = Date.now();
    const { rows, hiddenCount } = buildRows(store, toggled, now);
    running = rows.some((r) => r.end === null);
    const px = pxPerMs();
    const starts = rows.map((r) => r.start);
    t0 = Math.floor((starts.length ? Math.min(...starts) : now) / 1000) * 1000;
    tEnd = Math.max(t0 + 1000, ...rows.map((r) => r.end ?? now));
    // busy time is where commands ran: a story's first-to-last span may cross quiet days
    busy = busySpans(rows.filter((r) => r.kind === 'command').map((r) => [r.start, r.end ?? now] as const));
    scale = timeScale(busy, px);
    const width = Math.max(chartWidth(), Math.ceil(xOf(tEnd) + 4 * PAD));
    setStyle(right, 'width', `${width}px`);
    setStyle(canvas, 'height', `${Math.max(rows.length * ROW_H, ROW_H * 4)}px`);
    setStyle(left, 'width', `${ui().timeline.labelWidth}px`);
    syncList(labels, rows, (r) => r.key, createLabel, updateLabel);
    syncList(bars, rows, (r) => r.key, () => h('div', { class: 'tl-bar', 'data-testid': 'timeline-bar' }), (el, r) => updateBar(el, r, now));
    // each compacted gap: a fixed slot marked ···, its real length in the tooltip
    syncList(gapLayer, scale.gaps, (g) => String(g.from), () => h('div', { class: 'tl-gap', 'data-testid': 'timeline-gap' }, '···'), (el, g) => {
      setStyle(el, 'left', `${PAD + g.x}px`);
      setStyle(el, 'width', `${GAP_PX}px`);
      setAttr(el, 'title', `${formatDuration(g.to - g.from)} without activity\n${dateTime(g.from)} – ${dateTime(g.to)}`);
    });
    nowLine.hidden = !running;
    setStyle(nowLine, 'left', `${xOf(now)}px`);
    setText(zoomLabel, `${formatPx(BASE_PX_PER_MIN * ui().timeline.zoom)} px/min`);
    if (document.activeElement !== block) block.value = String(ui().timeline.blockMinutes);
    setText(toggleAll, ui().timeline.showAll ? 'Collapse all' : 'Expand all');
    setAttr(toggleAll, 'aria-pressed', String(ui().timeline.showAll));
    unhide.hidden = hiddenCount === 0;
    setText(unhide, `Show ${hiddenCount} hidden`);
    const storyCount = rows.filter((r) => r.kind === 'story').length;
    const { busyMs, gaps } = extent(busy);
    setText(summary, storyCount ? `${storyCount} stories · ${dateTime(t0)} – ${running ? 'now' : dateTime(tEnd)} · ${formatDuration(busyMs)} with activity${gaps ? `, ${gaps} quiet stretch${gaps === 1 ? '' : 'es'} compacted (···)` : ''}` : '');
    const kinds = [...new Set(rows.filter((r) => r.kind === 'command').map((r) => r.kind2))].sort();
    syncList(legend, kinds, String, () => h('span', { class: 'tl-legend-item' }, h('span', { class: 'tl-swatch' }), h('span', {})), (el, kind) => {
      setStyle(el.firstElementChild as HTMLElement, 'backgroundColor', colourOf(kind));
      setText(el.lastElementChild!, kind);
    });
    empty.hidden = rows.length > 0;
    scroller.hidden = rows.length === 0;
    if (running && ui().timeline.follow !== false) scroller.scrollLeft = scroller.scrollWidth;
    renderTicks();
    if (running && !timer) timer = setInterval(schedule, 1000);
    if (!running && timer) {
      clearInterval(timer);
      timer = null;
    }
  }

  function createLabel(r: Row): HTMLElement {
    const hide = h('button', { class: 'tl-hide', type: 'button', title: 'Hide this story', 'data-testid': 'timeline-hide' }, '×');
    const el = h('div', { class: 'tl-label', 'data-testid': 'timeline-label', 'data-kind': r.kind }, h('span', { class: 'tl-caret' }), h('span', { class: 'tl-label-text' }), h('span', { class: 'tl-label-duration mono' }), hide);
    hide.hidden = r.kind !== 'story';
    if (r.kind === 'story') {
      el.addEventListener('click', () => {
        if (!toggled.delete(r.story)) toggled.add(r.story);
        schedule();
      });
      hide.addEventListener('click', (e) => {
        e.stopPropagation();
        saveTimeline({ hidden: [...(ui().timeline.hidden ?? []), r.story] });
        render();
      });
    }
    return el;
  }

  function updateLabel(el: HTMLElement, r: Row): void {
    const [caret, text, duration] = Array.from(el.children) as HTMLElement[];
    setText(duration!, r.duration);
    setText(caret!, r.kind === 'story' ? (ui().timeline.showAll !== toggled.has(r.story) ? '▾' : '▸') : '');
    setText(text!, r.label);
    setAttr(el, 'title', r.title);
    setAttr(el, 'data-status', r.status);
    setStyle(el, 'paddingLeft', `${6 + r.depth * 14}px`);
  }

  function updateBar(el: HTMLElement, r: Row, now: number): void {
    setAttr(el, 'data-kind', r.kind);
    setAttr(el, 'data-status', r.status);
    setAttr(el, 'data-running', r.end === null ? 'true' : null);
    setAttr(el, 'title', r.title);
    const x = xOf(r.start);
    setStyle(el, 'left', `${Math.round(x)}px`);
    // a bar is at least 4 px: a 5-second command is still there to point at at any zoom
    setStyle(el, 'width', `${Math.max(4, Math.round(xOf(r.end ?? now) - x))}px`);
    setStyle(el, 'top', `${r.index * ROW_H}px`);
    if (r.kind === 'command') setStyle(el, 'backgroundColor', colourOf(r.kind2));
    setText(el, r.kind === 'command' ? `${r.label} · ${r.duration}` : '');
  }

  /** time labels on the axis and grid lines, only for the visible part; a label shows its date when the day changes */
  function renderTicks(): void {
    const step = tickStep();
    const from = tOf(scroller.scrollLeft);
    const to = tOf(scroller.scrollLeft + chartWidth());
    const times: number[] = [];
    for (const seg of scale.segments) {
      if (seg.to < from || seg.from > to) continue;
      for (let t = Math.ceil(Math.max(seg.from, from) / step) * step; t <= Math.min(seg.to, to) && times.length < 200; t += step) times.push(t);
    }
    if (!times.length && scale.segments.length) times.push(Math.max(from, scale.segments[0]!.from));
    let lastDay = '';
    const labels = times.map((t, i) => {
      const day = new Date(t).toDateString();
      const withDate = i === 0 || day !== lastDay || step >= 86_400_000;
      lastDay = day;
      const time = step < 60_000 ? clock(t) : clock(t).slice(0, 5);
      return { t, text: withDate ? `${new Date(t).toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}` : time };
    });
    syncList(ticks, labels, (l) => String(l.t), () => h('div', { class: 'tl-tick mono', 'data-testid': 'timeline-tick' }), (el, l) => {
      setStyle(el, 'left', `${xOf(l.t)}px`);
      setText(el, l.text);
    });
    // block lines (the Block setting) inside busy segments, a few hundred at most
    const bms = blockMs();
    const lines: number[] = [];
    if (bms * pxPerMs() >= 6) {
      for (const seg of scale.segments) {
        if (seg.to < from || seg.from > to) continue;
        for (let t = Math.ceil(Math.max(seg.from, from) / bms) * bms; t <= Math.min(seg.to, to) && lines.length < 400; t += bms) lines.push(t);
      }
    }
    syncList(gridLayer, lines, String, () => h('div', { class: 'tl-gridline' }), (el, t) => setStyle(el, 'left', `${xOf(t)}px`));
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
    const busyMin = Math.max(1, extent(busy).busyMs / 60_000);
    const widest = 8e6 / busyMin / BASE_PX_PER_MIN;
    const next = Math.min(MAX_ZOOM, widest, Math.max(MIN_ZOOM, zoom));
    const visible = chartWidth();
    const center = tOf(scroller.scrollLeft + visible / 2);
    saveTimeline({ zoom: next });
    render();
    scroller.scrollLeft = Math.max(0, xOf(center) - visible / 2);
    renderTicks();
  }

  /** Everything in view: the busy time at the scale that fills the width, each quiet stretch as its fixed slot. */
  function fit(): void {
    const { busyMs, gaps } = extent(busy);
    const room = Math.max(40, chartWidth() - 4 * PAD - gaps * GAP_PX);
    const zoom = room / (Math.max(1000, busyMs) / 60_000) / BASE_PX_PER_MIN;
    saveTimeline({ zoom: Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom)) });
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

function setStyle(el: HTMLElement, name: 'width' | 'height' | 'left' | 'top' | 'paddingLeft' | 'backgroundColor', value: string): void {
  if (el.style[name] !== value) el.style[name] = value;
}

const formatPx = (n: number) => (n >= 10 ? String(Math.round(n)) : n.toFixed(n >= 1 ? 1 : 2));

export const timelineView: View = { id: 'timeline', title: 'Timeline', mount, shown: () => onShown?.() };
