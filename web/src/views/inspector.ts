// The Inspector tab: the workflow machines drawn locally as statecharts (elkjs), active states lit live, recent transitions, opt-in Stately.
import { clock, h, setAttr, setText, syncList } from '../dom.js';
import { setUi, ui, type UiState } from '../persist.js';
import type { ActiveStateView, Store } from '../store.js';
import { isLive } from '../model.js';
import type { View } from '../view.js';
import { activeIds, buildChart, formatValue, transitionPath, type Chart } from '../inspector/chart.js';
import { layoutMachine, type ChartLayout } from '../inspector/layout.js';
import { renderChart, type RenderedChart } from '../inspector/render.js';
import { StatelyBridge, type StatelyStatus } from '../inspector/stately.js';
import { TransitionLog, type TransitionEntry } from '../inspector/transitions.js';

const MACHINES = ['batch', 'cycle', 'story', 'review', 'commandRun'];
const ZOOMS = [0.25, 0.33, 0.5, 0.67, 0.75, 0.85, 1, 1.15, 1.3, 1.5, 1.75, 2];
/** Below this zoom a chart's 13 px state names (layout.ts FONTS.key) are under 8.7 px: too small to read. */
const READABLE_ZOOM = 0.67;

/** The inspector's section of the saved UI state, with the zoom per machine and `follow` kept beside the two typed fields. */
type InspectorUi = UiState['inspector'] & { zoom?: Record<string, number>; follow?: boolean };
const inspectorUi = (): InspectorUi => ui().inspector as InspectorUi;
const saveInspectorUi = (patch: Partial<InspectorUi>) => setUi('inspector', { ...inspectorUi(), ...patch } as UiState['inspector']);

class InspectorPanel {
  private readonly log = new TransitionLog();
  private readonly charts = new Map<string, Chart>();
  private readonly rendered = new Map<string, RenderedChart & { layout: ChartLayout }>();
  private machine = MACHINES.includes(inspectorUi().machine) ? inspectorUi().machine : 'batch';
  /** the actor path whose states alone are lit; null: every live actor of the shown machine */
  private focus: string | null = null;
  /** per actor path: its active state ids and the edges its last change most likely took (transitionPath) */
  private readonly lit = new Map<string, { machine: string; ids: Set<string>; edges: Set<string> }>();
  private loaded = false;
  private requested = 0;
  private readonly stately: StatelyBridge;

  private readonly select: HTMLSelectElement;
  private readonly scroll: HTMLElement;
  private readonly message: HTMLElement;
  private readonly zoomLabel: HTMLElement;
  private readonly actorsList: HTMLElement;
  private readonly actorsEmpty: HTMLElement;
  private readonly showAll: HTMLButtonElement;
  private readonly transitionsList: HTMLElement;
  private readonly transitionsEmpty: HTMLElement;
  private readonly statelyBox: HTMLInputElement;
  private readonly statelyStatus: HTMLElement;
  private readonly statelyOpen: HTMLButtonElement;
  private readonly followBox: HTMLInputElement;

  constructor(
    private readonly container: HTMLElement,
    private readonly store: Store,
  ) {
    this.select = h('select', { 'data-testid': 'inspector-machine', 'aria-label': 'machine', onchange: () => this.choose(this.select.value) });
    for (const name of MACHINES) this.select.append(h('option', { value: name }, name));
    this.select.value = this.machine;

    this.zoomLabel = h('span', { class: 'insp-zoom-value mono', 'data-testid': 'inspector-zoom' }, '100%');
    const zoomTools = h(
      'div',
      { class: 'insp-zoom', role: 'group', 'aria-label': 'zoom' },
      h('button', { class: 'action', title: 'zoom out (Ctrl + wheel)', onclick: () => this.stepZoom(-1) }, '−'),
      this.zoomLabel,
      h('button', { class: 'action', title: 'zoom in (Ctrl + wheel)', onclick: () => this.stepZoom(1) }, '+'),
      h('button', { class: 'action', title: 'actual size', onclick: () => this.setZoom(1) }, '1:1'),
      h('button', { class: 'action', 'data-testid': 'inspector-fit', title: 'fit the whole chart, or its width when the whole would be too small to read', onclick: () => this.fit() }, 'Fit'),
    );

    this.followBox = h('input', {
      type: 'checkbox',
      'data-testid': 'inspector-follow',
      onchange: () => {
        saveInspectorUi({ follow: this.followBox.checked });
        this.follow();
      },
    });
    this.followBox.checked = inspectorUi().follow !== false;
    const followTool = h('label', { class: 'insp-follow', title: 'scroll the chart to the active state when it changes' }, this.followBox, ' Follow the active state');

    this.statelyBox = h('input', { type: 'checkbox', 'data-testid': 'inspector-stately', onchange: () => this.toggleStately() });
    this.statelyBox.checked = inspectorUi().stately === true;
    this.statelyStatus = h('span', { class: 'insp-stately-status', 'data-testid': 'inspector-stately-status' });
    this.statelyOpen = h('button', { class: 'action', hidden: true, onclick: () => void this.stately.start(this.store.active) }, 'Open the Stately window');
    const statelyTools = h(
      'div',
      { class: 'panel insp-stately' },
      h('label', {}, this.statelyBox, ' Send to the Stately inspector'),
      h('p', { class: 'muted insp-stately-note' }, 'Off by default. When on, it opens stately.ai/inspect, a hosted service, in a new window and sends it the live machine states and runner events. The charts on this tab are drawn locally and need no outside service.'),
      h('div', { class: 'insp-stately-line' }, this.statelyStatus, this.statelyOpen),
    );

    this.message = h('div', { class: 'insp-message', 'data-testid': 'inspector-message' }, 'Waiting for the machine definitions…');
    this.scroll = h('div', { class: 'insp-scroll', 'data-testid': 'inspector-chart' }, this.message);
    this.installPanZoom();

    this.actorsList = h('ul', { class: 'insp-actors', 'data-testid': 'inspector-actors' });
    this.actorsEmpty = h('p', { class: 'muted insp-empty' }, 'No live actors: no batch is running.');
    this.showAll = h('button', { class: 'action insp-show-all', hidden: true, onclick: () => this.setFocus(null) }, 'Highlight all');
    this.transitionsList = h('ol', { class: 'insp-transitions', 'data-testid': 'inspector-transitions' });
    this.transitionsEmpty = h('p', { class: 'muted insp-empty' }, 'No transitions yet.');

    container.append(
      h(
        'div',
        { class: 'insp' },
        h('div', { class: 'toolbar insp-toolbar' }, h('label', { class: 'insp-picker' }, 'Machine ', this.select), zoomTools, followTool, legend()),
        h(
          'div',
          { class: 'insp-body' },
          h('div', { class: 'panel insp-chart' }, this.scroll),
          h(
            'aside',
            { class: 'insp-side' },
            h('div', { class: 'panel' }, h('h2', {}, 'Live actors ', this.showAll), this.actorsEmpty, this.actorsList),
            h('div', { class: 'panel insp-transitions-panel' }, h('h2', {}, 'Recent transitions'), this.transitionsEmpty, this.transitionsList),
            statelyTools,
          ),
        ),
      ),
    );

    this.stately = new StatelyBridge(
      () => this.store.machines,
      (status) => this.showStately(status),
    );
    this.showStately('off');

    store.on('history', () => {
      this.loaded = true;
      this.buildCharts();
      this.log.replay(store.events);
      this.renderTransitions();
      this.onMachine(this.shownActive());
      if (this.visible()) this.ensureChart();
      if (this.statelyBox.checked && this.stately.status === 'off') void this.stately.start(store.active);
    });
    // a batch that is not live lights nothing (stopped) or its final state (completed, failed), never a stale `cycling`
    store.on('state', () => this.onMachine(this.shownActive()));
    store.on('machine', (active) => {
      this.onMachine(this.shownActive(active));
      this.stately.update(active);
    });
    store.on('event', (event) => {
      this.stately.event(event);
      if (this.log.ingest(event)) this.renderTransitions();
    });
    this.renderActors();
    this.renderTransitions();
  }

  shown(): void {
    this.ensureChart();
  }

  private visible(): boolean {
    return !this.container.hidden && this.container.isConnected;
  }

  private buildCharts(): void {
    this.charts.clear();
    for (const [name, definition] of Object.entries(this.store.machines)) {
      try {
        this.charts.set(name, buildChart(name, definition));
      } catch {
        // shown as the layout error when that machine is picked
      }
    }
    const names = [...new Set([...MACHINES, ...Object.keys(this.store.machines)])];
    if (this.select.options.length !== names.length) {
      this.select.replaceChildren(...names.map((n) => h('option', { value: n }, n)));
      this.select.value = this.machine;
    }
  }

  private choose(machine: string): void {
    if (machine === this.machine) return;
    this.machine = machine;
    this.select.value = machine;
    if (this.focus && !this.store.active.some((a) => a.path === this.focus && a.machine === machine)) this.focus = null;
    saveInspectorUi({ machine });
    this.ensureChart();
    this.renderActors();
    this.renderTransitions();
  }

  /** Shows the chosen machine's chart: laid out once (async, cached), then only its classes change. */
  private ensureChart(): void {
    if (!this.loaded) return;
    const machine = this.machine;
    const cached = this.rendered.get(machine);
    if (cached) {
      this.attach(cached);
      return;
    }
    const definition = this.store.machines[machine];
    if (!definition) {
      this.showMessage(Object.keys(this.store.machines).length ? `The server has no definition of the ${machine} machine.` : 'The server sent no machine definitions (GET /api/machines failed).', true);
      return;
    }
    const request = ++this.requested;
    this.showMessage(`Laying out the ${machine} machine…`, false);
    layoutMachine(machine, definition).then(
      (layout) => {
        let rendered = this.rendered.get(machine);
        if (!rendered) {
          rendered = { ...renderChart(layout), layout };
          this.rendered.set(machine, rendered);
        }
        if (request === this.requested && this.machine === machine) this.attach(rendered);
      },
      (error: unknown) => {
        if (request !== this.requested || this.machine !== machine) return;
        const text = error instanceof Error ? error.message : String(error);
        this.showMessage(`Could not lay out the ${machine} machine: ${text}`, true, () => this.ensureChart());
      },
    );
  }

  private showMessage(text: string, isError: boolean, retry?: () => void): void {
    this.message.replaceChildren(text, retry ? h('button', { class: 'action', onclick: retry }, 'Try again') : '');
    setAttr(this.message, 'data-testid', isError ? 'inspector-error' : 'inspector-message');
    this.message.classList.toggle('insp-error', isError);
    this.scroll.replaceChildren(this.message);
  }

  private attach(rendered: RenderedChart & { layout: ChartLayout }): void {
    if (this.scroll.firstElementChild !== rendered.svg) this.scroll.replaceChildren(rendered.svg);
    rendered.setZoom(this.zoom());
    setText(this.zoomLabel, `${Math.round(this.zoom() * 100)}%`);
    this.highlight();
    this.follow(false);
  }

  /** Scrolls the deepest active state of the shown chart into the middle when it is out of sight. */
  private follow(smooth = true): void {
    const rendered = this.rendered.get(this.machine);
    if (!rendered || !this.followBox.checked || this.scroll.classList.contains('insp-panning') || !this.visible()) return;
    const lit = rendered.layout.nodes.filter((p) => rendered.nodes.get(p.node.id)?.classList.contains('active') && p.node.id !== rendered.layout.chart.rootId);
    const target = lit.find((p) => !p.node.children.length) ?? lit[lit.length - 1];
    if (!target) return;
    const z = this.zoom();
    const { scrollLeft: left, scrollTop: top, clientWidth: width, clientHeight: height } = this.scroll;
    const inside = target.x * z >= left && target.y * z >= top && (target.x + target.width) * z <= left + width && (target.y + target.height) * z <= top + height;
    if (inside) return;
    this.scroll.scrollTo({
      left: Math.max(0, (target.x + target.width / 2) * z - width / 2),
      top: Math.max(0, (target.y + target.height / 2) * z - height / 2),
      behavior: smooth ? 'smooth' : 'auto',
    });
  }

  // ---- zoom and pan ----

  private zoom(machine = this.machine): number {
    const z = inspectorUi().zoom?.[machine];
    return typeof z === 'number' && z >= ZOOMS[0]! && z <= ZOOMS[ZOOMS.length - 1]! ? z : 1;
  }

  private setZoom(zoom: number, anchor?: { x: number; y: number }): void {
    const rendered = this.rendered.get(this.machine);
    const old = this.zoom();
    const z = Math.min(ZOOMS[ZOOMS.length - 1]!, Math.max(ZOOMS[0]!, Math.round(zoom * 100) / 100));
    saveInspectorUi({ zoom: { ...(inspectorUi().zoom ?? {}), [this.machine]: z } });
    setText(this.zoomLabel, `${Math.round(z * 100)}%`);
    if (!rendered) return;
    // keep the point under the cursor (or the centre) where it was
    const ax = anchor?.x ?? this.scroll.clientWidth / 2;
    const ay = anchor?.y ?? this.scroll.clientHeight / 2;
    const cx = (this.scroll.scrollLeft + ax) / old;
    const cy = (this.scroll.scrollTop + ay) / old;
    rendered.setZoom(z);
    this.scroll.scrollLeft = cx * z - ax;
    this.scroll.scrollTop = cy * z - ay;
  }

  private stepZoom(direction: 1 | -1, anchor?: { x: number; y: number }): void {
    const z = this.zoom();
    const next = direction > 0 ? ZOOMS.find((v) => v > z + 0.001) : [...ZOOMS].reverse().find((v) => v < z - 0.001);
    if (next !== undefined) this.setZoom(next, anchor);
  }

  private fit(): void {
    const rendered = this.rendered.get(this.machine);
    if (!rendered || !this.scroll.clientWidth) return;
    const pad = 8;
    const byWidth = (this.scroll.clientWidth - pad) / rendered.layout.width;
    const whole = Math.min(byWidth, (this.scroll.clientHeight - pad) / rendered.layout.height, 2);
    // the cycle machine is tall: fitted whole, its state names shrink past reading. Then Fit fits the width, never
    // below READABLE_ZOOM, and the chart scrolls for the rest.
    const z = whole >= READABLE_ZOOM ? whole : Math.max(READABLE_ZOOM, Math.min(byWidth, 2));
    this.setZoom(Math.max(ZOOMS[0]!, z));
    this.scroll.scrollLeft = 0;
    this.scroll.scrollTop = 0;
  }

  private installPanZoom(): void {
    let drag: { x: number; y: number; left: number; top: number; id: number } | null = null;
    this.scroll.addEventListener('pointerdown', (e) => {
      if (e.button !== 0 || !(e.target === this.scroll || e.target instanceof SVGElement)) return;
      drag = { x: e.clientX, y: e.clientY, left: this.scroll.scrollLeft, top: this.scroll.scrollTop, id: e.pointerId };
    });
    this.scroll.addEventListener('pointermove', (e) => {
      if (!drag || e.pointerId !== drag.id) return;
      const dx = e.clientX - drag.x;
      const dy = e.clientY - drag.y;
      if (!this.scroll.classList.contains('insp-panning')) {
        if (Math.hypot(dx, dy) < 4) return;
        this.scroll.classList.add('insp-panning');
        this.scroll.setPointerCapture(e.pointerId);
      }
      this.scroll.scrollLeft = drag.left - dx;
      this.scroll.scrollTop = drag.top - dy;
    });
    const end = () => {
      drag = null;
      this.scroll.classList.remove('insp-panning');
    };
    this.scroll.addEventListener('pointerup', end);
    this.scroll.addEventListener('pointercancel', end);
    this.scroll.addEventListener(
      'wheel',
      (e) => {
        if (!e.ctrlKey && !e.metaKey) return;
        e.preventDefault();
        const rect = this.scroll.getBoundingClientRect();
        this.stepZoom(e.deltaY < 0 ? 1 : -1, { x: e.clientX - rect.left, y: e.clientY - rect.top });
      },
      { passive: false },
    );
  }

  // ---- live state ----

  /** The states to light: the live ones while a batch runs; after it, the batch's final state or nothing. */
  private shownActive(active: ActiveStateView[] = this.store.active): ActiveStateView[] {
    const state = this.store.state;
    if (!state || isLive(state)) return active;
    if (state.status === 'completed') return [{ path: 'batch', machine: 'batch', value: 'completed' }];
    if (state.status === 'error') return [{ path: 'batch', machine: 'batch', value: 'failed' }];
    return [];
  }

  private onMachine(active: ActiveStateView[]): void {
    const seen = new Set<string>();
    let shownChanged = false;
    for (const actor of active) {
      seen.add(actor.path);
      const chart = this.charts.get(actor.machine);
      if (!chart) continue;
      const ids = new Set(activeIds(chart, actor.value));
      const before = this.lit.get(actor.path);
      if (before && before.machine === actor.machine && sameSet(before.ids, ids)) continue;
      const edges = before && before.machine === actor.machine ? transitionPath(chart, before.ids, ids) : new Set<string>();
      this.lit.set(actor.path, { machine: actor.machine, ids, edges });
      shownChanged ||= actor.machine === this.machine;
    }
    for (const path of [...this.lit.keys()]) if (!seen.has(path)) this.lit.delete(path);
    if (this.focus && !seen.has(this.focus)) this.focus = null;
    this.highlight();
    // only a change of the shown machine moves the view, so reading another part of the chart is not interrupted
    if (shownChanged) this.follow();
    this.renderActors();
  }

  /** Patches the class of every state and edge of the shown chart; nothing is laid out or rebuilt. */
  private highlight(): void {
    const rendered = this.rendered.get(this.machine);
    if (!rendered) return;
    const lit = [...this.lit.entries()].filter(([path, l]) => l.machine === this.machine && (this.focus === null || path === this.focus)).map(([, l]) => l);
    const ids = new Set(lit.flatMap((l) => [...l.ids]));
    const edges = new Set(lit.flatMap((l) => [...l.edges]));
    for (const [id, g] of rendered.nodes) g.classList.toggle('active', ids.has(id));
    for (const [id, g] of rendered.edges) g.classList.toggle('lit', edges.has(id));
    rendered.svg.classList.toggle('insp-live', lit.length > 0);
  }

  private setFocus(path: string | null): void {
    this.focus = path;
    const actor = path ? this.store.active.find((a) => a.path === path) : undefined;
    if (actor && actor.machine !== this.machine) {
      this.machine = actor.machine;
      this.select.value = actor.machine;
      saveInspectorUi({ machine: actor.machine });
      this.ensureChart();
      this.renderTransitions();
    }
    this.highlight();
    this.follow();
    this.renderActors();
  }

  private renderActors(): void {
    const active = this.store.active;
    this.actorsEmpty.hidden = active.length > 0;
    this.showAll.hidden = this.focus === null;
    syncList(
      this.actorsList,
      active,
      (a) => a.path,
      (a) =>
        h(
          'li',
          { class: 'insp-actor', 'data-testid': 'inspector-actor', title: 'light only this actor’s states', onclick: () => this.setFocus(this.focus === a.path ? null : a.path) },
          h('span', { class: 'insp-actor-path mono' }),
          h('span', { class: 'badge insp-actor-machine' }),
          h('span', { class: 'insp-actor-value mono' }),
        ),
      (el, a) => {
        setText(el.children[0]!, a.path);
        setText(el.children[1]!, a.machine);
        setText(el.children[2]!, formatValue(a.value));
        el.classList.toggle('insp-shown', a.machine === this.machine);
        el.classList.toggle('insp-focused', a.path === this.focus);
        setAttr(el, 'data-path', a.path);
      },
    );
    const counts = new Map<string, number>();
    for (const a of active) counts.set(a.machine, (counts.get(a.machine) ?? 0) + 1);
    for (const option of Array.from(this.select.options)) {
      const n = counts.get(option.value) ?? 0;
      setText(option, n ? `${option.value} · ${n} live` : option.value);
    }
  }

  private renderTransitions(): void {
    const entries = this.log.entries;
    this.transitionsEmpty.hidden = entries.length > 0;
    syncList(
      this.transitionsList,
      entries,
      (e) => e.key,
      (e) =>
        h(
          'li',
          { class: 'insp-transition', 'data-testid': 'inspector-transition', title: 'show this machine', onclick: () => this.choose(e.machine) },
          h('span', { class: 'insp-t-time mono muted' }, clock(e.ts)),
          h('span', { class: 'insp-t-path mono' }, e.path),
          h('span', { class: 'insp-t-change mono' }, ...change(e)),
          e.events ? h('span', { class: 'insp-t-events muted' }, e.events) : null,
        ),
      (el, e) => {
        el.classList.toggle('insp-shown', e.machine === this.machine);
      },
    );
  }

  // ---- Stately ----

  private toggleStately(): void {
    const on = this.statelyBox.checked;
    saveInspectorUi({ stately: on });
    if (on) void this.stately.start(this.store.active);
    else this.stately.stop();
  }

  private showStately(status: StatelyStatus): void {
    const text: Record<StatelyStatus, string> = {
      off: '',
      loading: 'opening…',
      open: 'sending to the Stately window',
      blocked: 'the browser blocked the window:',
      error: `could not start: ${this.stately?.error ?? ''}`,
    };
    setText(this.statelyStatus, text[status]);
    this.statelyStatus.dataset['status'] = status;
    this.statelyOpen.hidden = status !== 'blocked';
  }
}

function change(e: TransitionEntry): (Node | string)[] {
  if (e.from === null) return [h('span', { class: 'insp-t-note' }, 'started in '), h('b', {}, e.to ?? '')];
  if (e.to === null) return [h('span', {}, e.from), h('span', { class: 'insp-t-note' }, ' · stopped')];
  return [h('span', {}, e.from), h('span', { class: 'insp-t-arrow' }, ' → '), h('b', {}, e.to)];
}

function legend(): HTMLElement {
  return h(
    'div',
    { class: 'insp-legend muted', 'aria-label': 'legend' },
    h('span', { class: 'insp-key-active' }, 'active'),
    h('span', { class: 'insp-key-edge' }, 'event'),
    h('span', { class: 'insp-key-always' }, 'always'),
    h('span', { class: 'insp-key-error' }, 'error'),
    h('span', {}, 'hover a state for its description; drag to pan, Ctrl + wheel to zoom'),
  );
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false;
  for (const v of a) if (!b.has(v)) return false;
  return true;
}

let panel: InspectorPanel | null = null;

export const inspectorView: View = {
  id: 'inspector',
  title: 'Inspector',
  mount(container, store) {
    panel = new InspectorPanel(container, store);
  },
  shown() {
    panel?.shown();
  },
};
