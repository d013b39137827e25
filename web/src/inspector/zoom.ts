// Zoom and pan of the inspector's chart: the zoom buttons and Fit, a zoom saved per machine, drag to pan, Ctrl + wheel to zoom.
import { h, setText } from '../dom.js';
import type { LaidOutChart } from './render.js';
import { inspectorUi, saveInspectorUi } from './ui-state.js';

const ZOOMS = [0.25, 0.33, 0.5, 0.67, 0.75, 0.85, 1, 1.15, 1.3, 1.5, 1.75, 2];
/** Below this zoom a chart's 13 px state names (layout.ts FONTS.key) are under 8.7 px: too small to read. */
const READABLE_ZOOM = 0.67;

export class ChartZoom {
  /** the zoom buttons and the zoom shown, for the toolbar */
  readonly tools: HTMLElement;
  private readonly label: HTMLElement;

  /** `machine` and `shown`: the machine picked and its chart once laid out, both owned by the panel */
  constructor(
    private readonly scroll: HTMLElement,
    private readonly machine: () => string,
    private readonly shown: () => LaidOutChart | undefined,
  ) {
    this.label = h('span', { class: 'insp-zoom-value mono', 'data-testid': 'inspector-zoom' }, '100%');
    this.tools = h(
      'div',
      { class: 'insp-zoom', role: 'group', 'aria-label': 'zoom' },
      h('button', { class: 'action', title: 'zoom out (Ctrl + wheel)', onclick: () => this.stepZoom(-1) }, '−'),
      this.label,
      h('button', { class: 'action', title: 'zoom in (Ctrl + wheel)', onclick: () => this.stepZoom(1) }, '+'),
      h('button', { class: 'action', title: 'actual size', onclick: () => this.setZoom(1) }, '1:1'),
      h('button', { class: 'action', 'data-testid': 'inspector-fit', title: 'fit the whole chart, or its width when the whole would be too small to read', onclick: () => this.fit() }, 'Fit'),
    );
    this.installPanZoom();
  }

  /** true while the chart is dragged: following the active state then would fight the hand */
  get panning(): boolean {
    return this.scroll.classList.contains('insp-panning');
  }

  zoom(machine = this.machine()): number {
    const z = inspectorUi().zoom?.[machine];
    return typeof z === 'number' && z >= ZOOMS[0]! && z <= ZOOMS[ZOOMS.length - 1]! ? z : 1;
  }

  /** Gives a chart just put in view its machine's saved zoom, and shows that zoom. */
  apply(rendered: LaidOutChart): void {
    rendered.setZoom(this.zoom());
    setText(this.label, `${Math.round(this.zoom() * 100)}%`);
  }

  private setZoom(zoom: number, anchor?: { x: number; y: number }): void {
    const rendered = this.shown();
    const old = this.zoom();
    const z = Math.min(ZOOMS[ZOOMS.length - 1]!, Math.max(ZOOMS[0]!, Math.round(zoom * 100) / 100));
    saveInspectorUi({ zoom: { ...(inspectorUi().zoom ?? {}), [this.machine()]: z } });
    setText(this.label, `${Math.round(z * 100)}%`);
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
    const rendered = this.shown();
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
}
