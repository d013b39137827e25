// Draws a laid-out statechart as SVG: rounded state boxes, labelled arrows, initial dots; returns the nodes to patch.
import { FONTS, METRICS, textWidth, type ChartLayout, type FontName, type Point } from './layout.js';

const SVG = 'http://www.w3.org/2000/svg';

function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, ...children: (Node | string)[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  el.append(...children);
  return el;
}

function text(x: number, y: number, content: string, font: FontName, cls: string): SVGTextElement {
  const f = FONTS[font];
  return s('text', { x, y, class: cls, 'font-family': f.family, 'font-size': f.size, 'font-weight': f.weight }, content);
}

const r1 = (n: number) => Math.round(n * 10) / 10;

/** An orthogonal polyline with its corners rounded. */
export function roundedPath(points: Point[], radius = 6): string {
  if (points.length < 2) return '';
  let d = `M${r1(points[0]!.x)},${r1(points[0]!.y)}`;
  for (let i = 1; i < points.length - 1; i++) {
    const prev = points[i - 1]!;
    const at = points[i]!;
    const next = points[i + 1]!;
    const inLen = Math.hypot(at.x - prev.x, at.y - prev.y);
    const outLen = Math.hypot(next.x - at.x, next.y - at.y);
    const r = Math.min(radius, inLen / 2, outLen / 2);
    if (r < 0.5) {
      d += ` L${r1(at.x)},${r1(at.y)}`;
      continue;
    }
    const a = { x: at.x - ((at.x - prev.x) / inLen) * r, y: at.y - ((at.y - prev.y) / inLen) * r };
    const b = { x: at.x + ((next.x - at.x) / outLen) * r, y: at.y + ((next.y - at.y) / outLen) * r };
    d += ` L${r1(a.x)},${r1(a.y)} Q${r1(at.x)},${r1(at.y)} ${r1(b.x)},${r1(b.y)}`;
  }
  const last = points[points.length - 1]!;
  return `${d} L${r1(last.x)},${r1(last.y)}`;
}

export interface RenderedChart {
  svg: SVGSVGElement;
  /** state id → its group, whose class is patched to show the active states */
  nodes: Map<string, SVGGElement>;
  /** edge id → its group (path and label) */
  edges: Map<string, SVGGElement>;
  setZoom(zoom: number): void;
}

/** A drawn chart kept with the layout it was drawn from: zoom, Fit and follow measure the layout. */
export type LaidOutChart = RenderedChart & { layout: ChartLayout };

export function renderChart(layout: ChartLayout): RenderedChart {
  const machine = layout.chart.machine.replace(/[^\w-]/g, '_');
  const marker = (kind: string) => `insp-arrow-${machine}-${kind}`;
  const svg = s('svg', {
    class: 'insp-svg',
    viewBox: `0 0 ${layout.width} ${layout.height}`,
    width: layout.width,
    height: layout.height,
    role: 'img',
    'aria-label': `statechart of the ${layout.chart.machine} machine`,
    'data-machine': layout.chart.machine,
    // the stylesheet lights the last transition's arrowhead with this machine's own marker
    style: `--insp-lit-marker: url(#${marker('lit')})`,
  });
  const defs = s('defs');
  for (const kind of ['plain', 'error', 'lit']) {
    defs.append(
      s('marker', { id: marker(kind), viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse' }, s('path', { d: 'M0,0.5 L10,5 L0,9.5 z', class: `insp-arrowhead insp-arrowhead-${kind}` })),
    );
  }
  svg.append(defs);

  const nodes = new Map<string, SVGGElement>();
  const containers = s('g', { class: 'insp-layer-containers' });
  const states = s('g', { class: 'insp-layer-states' });
  for (const placed of layout.nodes) {
    const { node, x, y, width, height } = placed;
    const compound = node.children.length > 0;
    const classes = ['insp-node', `insp-${node.type}`, compound ? 'insp-compound' : 'insp-leaf'];
    if (node.id === layout.chart.rootId) classes.push('insp-root');
    if (node.region) classes.push('insp-region');
    const g = s('g', { class: classes.join(' '), 'data-state': node.id });
    g.append(s('title', {}, node.description ? `${node.key}: ${node.description}` : node.key));
    g.append(s('rect', { class: 'insp-box', x: r1(x), y: r1(y), width: r1(width), height: r1(height), rx: compound ? 10 : 8 }));
    if (node.type === 'final') g.append(s('rect', { class: 'insp-final-ring', x: r1(x + 3), y: r1(y + 3), width: r1(width - 6), height: r1(height - 6), rx: 6 }));
    g.append(text(x + METRICS.padX, y + 19, node.key, 'key', 'insp-key'));
    if (placed.tag) {
      const keyEnd = x + METRICS.padX + textWidth(node.key, 'key');
      const tagWidth = textWidth(placed.tag, 'tag') + 10;
      g.append(s('rect', { class: 'insp-tag-box', x: r1(keyEnd + 8), y: r1(y + 8), width: r1(tagWidth), height: 15, rx: 7.5 }));
      g.append(text(keyEnd + 13, y + 19, placed.tag, 'tag', 'insp-tag'));
    }
    node.lines.forEach((line, i) => g.append(text(x + METRICS.padX, y + METRICS.headerHeight + 8 + i * METRICS.lineHeight, line, 'line', 'insp-line')));
    if (compound && node.lines.length) {
      const lineY = y + METRICS.headerHeight + node.lines.length * METRICS.lineHeight + 4;
      g.append(s('line', { class: 'insp-divider', x1: r1(x), x2: r1(x + width), y1: r1(lineY), y2: r1(lineY) }));
    }
    nodes.set(node.id, g);
    (compound ? containers : states).append(g);
  }

  const edges = new Map<string, SVGGElement>();
  const edgeLayer = s('g', { class: 'insp-layer-edges' });
  for (const placed of layout.edges) {
    const { edge } = placed;
    if (placed.points.length < 2) continue;
    const g = s('g', { class: `insp-edge insp-edge-${edge.kind}`, 'data-edge': edge.id, 'data-source': edge.source, 'data-target': edge.target });
    const title = `${edge.label}${edge.guard ? ` [${edge.guard}]` : ''}: ${edge.source} → ${edge.target}`;
    g.append(s('title', {}, title));
    const d = roundedPath(placed.points);
    g.append(s('path', { class: 'insp-edge-hit', d }));
    g.append(s('path', { class: 'insp-edge-line', d, 'marker-end': `url(#${marker(edge.kind === 'error' ? 'error' : 'plain')})` }));
    if (placed.label) {
      const { x, y, width, height } = placed.label;
      g.append(s('rect', { class: 'insp-edge-label-box', x: r1(x), y: r1(y), width: r1(width), height: r1(height), rx: 4 }));
      g.append(text(x + METRICS.labelPadX, y + METRICS.labelPadY + 11, edge.label, 'label', 'insp-edge-label'));
      if (edge.guard) g.append(text(x + METRICS.labelPadX, y + METRICS.labelPadY + 11 + METRICS.labelLineHeight, `[${edge.guard}]`, 'guard', 'insp-edge-guard'));
    }
    edges.set(edge.id, g);
    edgeLayer.append(g);
  }

  const initials = s('g', { class: 'insp-layer-initials' });
  for (const initial of layout.initials) {
    const g = s('g', { class: 'insp-initial', 'data-parent': initial.parent });
    g.append(s('title', {}, `initial state of ${initial.parent}`));
    g.append(s('circle', { cx: r1(initial.x + initial.width / 2), cy: r1(initial.y + initial.height / 2), r: initial.width / 2 }));
    if (initial.points.length >= 2) g.append(s('path', { d: roundedPath(initial.points), 'marker-end': `url(#${marker('plain')})` }));
    initials.append(g);
  }

  svg.append(containers, states, edgeLayer, initials);
  return {
    svg,
    nodes,
    edges,
    setZoom(zoom: number) {
      svg.setAttribute('width', String(Math.round(layout.width * zoom)));
      svg.setAttribute('height', String(Math.round(layout.height * zoom)));
    },
  };
}
