// Lays a statechart out with elkjs (layered, compound states as nested nodes) and caches the result per machine.
import type { ELK, ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import { buildChart, type Chart, type ChartEdge, type ChartNode } from './chart.js';

/** The fonts the SVG uses: measured here with the same strings, so the boxes fit their text. */
export const FONTS = {
  key: { family: 'system-ui, -apple-system, "Segoe UI", sans-serif', size: 13, weight: 600 },
  line: { family: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace', size: 11, weight: 400 },
  tag: { family: 'system-ui, -apple-system, "Segoe UI", sans-serif', size: 10, weight: 500 },
  label: { family: 'system-ui, -apple-system, "Segoe UI", sans-serif', size: 11, weight: 500 },
  guard: { family: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace', size: 10, weight: 400 },
} as const;
export type FontName = keyof typeof FONTS;

export const METRICS = {
  padX: 12,
  headerHeight: 28,
  lineHeight: 15,
  bottomPad: 8,
  minWidth: 96,
  initialSize: 10,
  labelLineHeight: 14,
  labelPadX: 5,
  labelPadY: 3,
} as const;

export interface Point {
  x: number;
  y: number;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedNode extends Box {
  node: ChartNode;
  /** the type tag drawn beside the key: `parallel`, `final`, `history` or empty */
  tag: string;
}

export interface PlacedEdge {
  edge: ChartEdge;
  points: Point[];
  label: Box | null;
}

export interface PlacedInitial extends Box {
  parent: string;
  target: string;
  points: Point[];
}

export interface ChartLayout {
  chart: Chart;
  width: number;
  height: number;
  /** parents before children */
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  initials: PlacedInitial[];
}

let context: CanvasRenderingContext2D | null | undefined;
export function textWidth(text: string, font: FontName): number {
  const f = FONTS[font];
  if (context === undefined) context = typeof document === 'undefined' ? null : document.createElement('canvas').getContext('2d');
  if (!context) return text.length * f.size * 0.62;
  context.font = `${f.weight} ${f.size}px ${f.family}`;
  return Math.ceil(context.measureText(text).width);
}

const tagOf = (node: ChartNode): string => (node.type === 'parallel' ? 'parallel' : node.type === 'final' ? 'final' : node.type === 'history' ? 'history' : '');

/** The width and the header height (key, tag and lines) of a state's box. */
function measure(node: ChartNode): { width: number; header: number } {
  const tag = tagOf(node);
  const keyWidth = textWidth(node.key, 'key') + (tag ? 8 + textWidth(tag, 'tag') + 10 : 0);
  const lineWidth = Math.max(0, ...node.lines.map((l) => textWidth(l, 'line')));
  const width = Math.max(METRICS.minWidth, Math.ceil(Math.max(keyWidth, lineWidth) + 2 * METRICS.padX));
  const header = METRICS.headerHeight + node.lines.length * METRICS.lineHeight + (node.lines.length ? METRICS.bottomPad - 2 : 0);
  return { width, header };
}

export function edgeLabelSize(edge: ChartEdge): { width: number; height: number } {
  const width = Math.max(textWidth(edge.label, 'label'), edge.guard ? textWidth(`[${edge.guard}]`, 'guard') : 0);
  return { width: Math.ceil(width + 2 * METRICS.labelPadX), height: (edge.guard ? 2 : 1) * METRICS.labelLineHeight + 2 * METRICS.labelPadY };
}

const initialId = (parent: string) => `${parent}::initial`;

export type Direction = 'DOWN' | 'RIGHT';

/** `widen`: extra horizontal padding per compound state, found by a previous pass (see layoutChart). */
export function toElk(chart: Chart, direction: Direction, widen: ReadonlyMap<string, number> = new Map()): ElkNode {
  const build = (node: ChartNode): ElkNode => {
    const { width, header } = measure(node);
    if (!node.children.length) return { id: node.id, width, height: Math.max(header + (node.lines.length ? 0 : 6), 40) };
    const children = node.children.map((c) => build(chart.byId.get(c)!));
    const initial = chart.initials.find((i) => i.parent === node.id);
    if (initial) children.unshift({ id: initialId(node.id), width: METRICS.initialSize, height: METRICS.initialSize });
    const side = 16 + (widen.get(node.id) ?? 0) / 2;
    return {
      id: node.id,
      children,
      layoutOptions: {
        'elk.padding': `[top=${header + 10},left=${side},bottom=16,right=${side}]`,
        // the regions of a parallel state side by side, across the flow
        ...(node.type === 'parallel' ? { 'elk.direction': direction === 'DOWN' ? 'RIGHT' : 'DOWN' } : {}),
      },
    };
  };
  // A loop must be drawn against the flow somewhere: let it be the transition back to an earlier state in
  // definition order (the cycle-breaking strategy options are not honoured with INCLUDE_CHILDREN; edge priorities are).
  const order = new Map(chart.nodes.map((n, i) => [n.id, i]));
  const forward = { 'elk.layered.priority.direction': '5' };
  const edges: ElkExtendedEdge[] = chart.edges.map((edge) => ({
    id: edge.id,
    sources: [edge.source],
    targets: [edge.target],
    labels: [{ id: `${edge.id}:label`, text: edge.label, ...edgeLabelSize(edge) }],
    ...((order.get(edge.source) ?? 0) < (order.get(edge.target) ?? 0) ? { layoutOptions: forward } : {}),
  }));
  for (const initial of chart.initials) {
    edges.push({ id: `${initial.parent}::initial-edge`, sources: [initialId(initial.parent)], targets: [initial.target], layoutOptions: { 'elk.layered.priority.direction': '10' } });
  }
  return {
    id: '__graph',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.direction': direction,
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.spacing.nodeNode': '28',
      'elk.layered.spacing.nodeNodeBetweenLayers': '36',
      'elk.spacing.edgeNode': '14',
      'elk.spacing.edgeEdge': '10',
      'elk.layered.spacing.edgeNodeBetweenLayers': '14',
      'elk.layered.spacing.edgeEdgeBetweenLayers': '10',
      'elk.spacing.edgeLabel': '3',
      'elk.edgeLabels.placement': 'CENTER',
      'elk.layered.edgeLabels.sideSelection': 'SMART_DOWN',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.layered.crossingMinimization.forceNodeModelOrder': 'false',
      'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
      'elk.layered.mergeEdges': 'false',
      'elk.json.edgeCoords': 'ROOT',
      'elk.json.shapeCoords': 'ROOT',
      'elk.padding': '[top=12,left=12,bottom=12,right=12]',
    },
    children: [build(chart.byId.get(chart.rootId)!)],
    edges,
  };
}

let elk: Promise<ELK> | null = null;
function getElk(): Promise<ELK> {
  // loaded on the first layout, so the other tabs never pay for it
  elk ??= import('elkjs/lib/elk.bundled.js').then((module) => {
    // a CommonJS module: its export is the constructor, or sits under `default`, depending on the bundler's interop
    const m = module as unknown as { default?: unknown };
    let Ctor: unknown = m.default ?? module;
    if (typeof Ctor !== 'function' && Ctor && typeof (Ctor as { default?: unknown }).default === 'function') Ctor = (Ctor as { default: unknown }).default;
    if (typeof Ctor !== 'function') throw new Error('elkjs did not load');
    return new (Ctor as new () => ELK)();
  });
  elk.catch(() => (elk = null));
  return elk;
}

function place(chart: Chart, graph: ElkNode): ChartLayout {
  const boxes = new Map<string, Box>();
  const collect = (n: ElkNode) => {
    boxes.set(n.id, { x: n.x ?? 0, y: n.y ?? 0, width: n.width ?? 0, height: n.height ?? 0 });
    for (const c of n.children ?? []) collect(c);
  };
  collect(graph);
  const nodes: PlacedNode[] = chart.nodes.map((node) => {
    const box = boxes.get(node.id);
    if (!box) throw new Error(`elkjs placed no box for ${node.id}`);
    return { ...box, node, tag: tagOf(node) };
  });
  const pointsOf = (e: ElkExtendedEdge): Point[] => {
    const points: Point[] = [];
    for (const s of e.sections ?? []) {
      if (!points.length) points.push(s.startPoint);
      points.push(...(s.bendPoints ?? []), s.endPoint);
    }
    return points;
  };
  const elkEdges = new Map((graph.edges ?? []).map((e) => [e.id, e as ElkExtendedEdge]));
  const edges: PlacedEdge[] = chart.edges.map((edge) => {
    const e = elkEdges.get(edge.id);
    const label = e?.labels?.[0];
    return {
      edge,
      points: e ? pointsOf(e) : [],
      label: label && label.x !== undefined && label.y !== undefined ? { x: label.x, y: label.y, width: label.width ?? 0, height: label.height ?? 0 } : null,
    };
  });
  const initials: PlacedInitial[] = chart.initials.map((i) => ({ ...(boxes.get(initialId(i.parent)) ?? { x: 0, y: 0, width: 0, height: 0 }), ...i, points: pointsOf(elkEdges.get(`${i.parent}::initial-edge`) ?? { id: '', sources: [], targets: [] }) }));
  return { chart, width: Math.ceil(graph.width ?? 0), height: Math.ceil(graph.height ?? 0), nodes, edges, initials };
}

export async function layoutChart(chart: Chart, direction: Direction = 'DOWN'): Promise<ChartLayout> {
  const engine = await getElk();
  // With INCLUDE_CHILDREN, elkjs ignores a compound node's minimum size, so a header wider than the
  // children would stick out: such states get that much more padding and the chart is laid out again.
  const widen = new Map<string, number>();
  let layout = place(chart, await engine.layout(toElk(chart, direction, widen)));
  for (let pass = 0; pass < 3; pass++) {
    let short = false;
    for (const placed of layout.nodes) {
      if (!placed.node.children.length) continue;
      const missing = measure(placed.node).width - placed.width;
      if (missing > 0.5) {
        widen.set(placed.node.id, (widen.get(placed.node.id) ?? 0) + Math.ceil(missing));
        short = true;
      }
    }
    if (!short) break;
    layout = place(chart, await engine.layout(toElk(chart, direction, widen)));
  }
  return layout;
}

const cache = new Map<string, { definition: unknown; direction: Direction; promise: Promise<ChartLayout> }>();

/** One layout per machine (and definition): switching machines back and forth never lays out again. */
export function layoutMachine(machine: string, definition: unknown, direction: Direction = 'DOWN'): Promise<ChartLayout> {
  const cached = cache.get(machine);
  if (cached && cached.definition === definition && cached.direction === direction) return cached.promise;
  const promise = Promise.resolve().then(() => layoutChart(buildChart(machine, definition), direction));
  cache.set(machine, { definition, direction, promise });
  // a failure is shown once; the next request tries again
  promise.catch(() => {
    if (cache.get(machine)?.promise === promise) cache.delete(machine);
  });
  return promise;
}
