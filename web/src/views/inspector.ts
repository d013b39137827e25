// The Inspector tab: the workflow machines drawn locally as statecharts (elkjs), active states lit live, recent transitions, opt-in Stately.
import { h, setAttr, setText } from '../dom.js';
import type { ActiveStateView, Store } from '../store.js';
import { isLive } from '../model.js';
import type { View } from '../view.js';
import { activeIds, buildChart, transitionPath, type Chart } from '../inspector/chart.js';
import { layoutMachine } from '../inspector/layout.js';
import { renderChart, type LaidOutChart } from '../inspector/render.js';
import { SideLists } from '../inspector/side-lists.js';
import { StatelyBridge, type StatelyStatus } from '../inspector/stately.js';
import { TransitionLog } from '../inspector/transitions.js';
import { inspectorUi, saveInspectorUi } from '../inspector/ui-state.js';
import { ChartZoom } from '../inspector/zoom.js';

const MACHINES = ['batch', 'cycle', 'story', 'review', 'commandRun'];

class InspectorPanel {
  private readonly log = new TransitionLog();
  private readonly charts = new Map<string, Chart>();
  private readonly rendered = new Map<string, LaidOutChart>();
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
  private readonly zoomer: ChartZoom;
  private readonly side: SideLists;
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
    this.zoomer = new ChartZoom(
      this.scroll,
      () => this.machine,
      () => this.rendered.get(this.machine),
    );
    this.side = new SideLists({
      actor: (path) => this.setFocus(this.focus === path ? null : path),
      showAll: () => this.setFocus(null),
      transition: (machine) => this.choose(machine),
    });

    container.append(
      h(
        'div',
        { class: 'insp' },
        h('div', { class: 'toolbar insp-toolbar' }, h('label', { class: 'insp-picker' }, 'Machine ', this.select), this.zoomer.tools, followTool, legend()),
        h(
          'div',
          { class: 'insp-body' },
          h('div', { class: 'panel insp-chart' }, this.scroll),
          h(
            'aside',
            { class: 'insp-side' },
            this.side.actorsPanel,
            this.side.transitionsPanel,
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

  private attach(rendered: LaidOutChart): void {
    if (this.scroll.firstElementChild !== rendered.svg) this.scroll.replaceChildren(rendered.svg);
    this.zoomer.apply(rendered);
    this.highlight();
    this.follow(false);
  }

  /** Scrolls the deepest active state of the shown chart into the middle when it is out of sight. */
  private follow(smooth = true): void {
    const rendered = this.rendered.get(this.machine);
    if (!rendered || !this.followBox.checked || this.zoomer.panning || !this.visible()) return;
    const lit = rendered.layout.nodes.filter((p) => rendered.nodes.get(p.node.id)?.classList.contains('active') && p.node.id !== rendered.layout.chart.rootId);
    const target = lit.find((p) => !p.node.children.length) ?? lit[lit.length - 1];
    if (!target) return;
    const z = this.zoomer.zoom();
    const { scrollLeft: left, scrollTop: top, clientWidth: width, clientHeight: height } = this.scroll;
    const inside = target.x * z >= left && target.y * z >= top && (target.x + target.width) * z <= left + width && (target.y + target.height) * z <= top + height;
    if (inside) return;
    this.scroll.scrollTo({
      left: Math.max(0, (target.x + target.width / 2) * z - width / 2),
      top: Math.max(0, (target.y + target.height / 2) * z - height / 2),
      behavior: smooth ? 'smooth' : 'auto',
    });
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

  /** The live actors list, and each machine's count of them in the picker. */
  private renderActors(): void {
    const active = this.store.active;
    this.side.renderActors(active, this.machine, this.focus);
    const counts = new Map<string, number>();
    for (const a of active) counts.set(a.machine, (counts.get(a.machine) ?? 0) + 1);
    for (const option of Array.from(this.select.options)) {
      const n = counts.get(option.value) ?? 0;
      setText(option, n ? `${option.value} · ${n} live` : option.value);
    }
  }

  private renderTransitions(): void {
    this.side.renderTransitions(this.log.entries, this.machine);
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
