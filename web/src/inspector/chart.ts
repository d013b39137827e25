// Turns an XState v5 `machine.root.definition` (as JSON from /api/machines) into the nodes and labelled edges of a statechart.

export type StateType = 'atomic' | 'compound' | 'parallel' | 'final' | 'history';

export interface ChartNode {
  /** the definition's id, such as `cycle.developing.story` (the root's is the machine id) */
  id: string;
  key: string;
  type: StateType;
  parent: string | null;
  children: string[];
  description: string | null;
  /** the parent's initial child */
  initial: boolean;
  /** a region of a parallel state */
  region: boolean;
  /** what the state invokes, then the events it handles without leaving (targetless transitions) */
  lines: string[];
}

export type EdgeKind = 'event' | 'always' | 'done' | 'error' | 'after';

export interface ChartEdge {
  id: string;
  source: string;
  target: string;
  kind: EdgeKind;
  /** `CONTROL`, `always`, `done: commandRun`, `error: readSprintStatus`, `after 500ms` */
  label: string;
  /** the guards of the merged transitions, `else` for an unguarded one among guarded ones; empty when none */
  guard: string;
}

export interface Chart {
  machine: string;
  rootId: string;
  /** parents before children, in definition order */
  nodes: ChartNode[];
  byId: Map<string, ChartNode>;
  edges: ChartEdge[];
  /** initial pseudo-states: a dot inside `parent` pointing at `target` */
  initials: { parent: string; target: string }[];
}

interface RawTransition {
  target?: unknown;
  guard?: unknown;
  eventType?: unknown;
  description?: unknown;
}

interface RawNode {
  id?: unknown;
  key?: unknown;
  type?: unknown;
  initial?: unknown;
  states?: Record<string, RawNode>;
  on?: Record<string, RawTransition[] | RawTransition>;
  always?: RawTransition[] | RawTransition;
  invoke?: { id?: unknown; src?: unknown }[];
  description?: unknown;
}

const asArray = <T>(value: T | T[] | undefined | null): T[] => (value === undefined || value === null ? [] : Array.isArray(value) ? value : [value]);

/** `'hasFailure'`, `{ type: 'entryIs', params: { step: 'create' } }` → `entryIs(step: create)` */
export function guardText(guard: unknown): string {
  if (guard === undefined || guard === null) return '';
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object') {
    const g = guard as { type?: unknown; params?: unknown };
    const name = typeof g.type === 'string' ? g.type : 'guard';
    if (g.params && typeof g.params === 'object') {
      const params = Object.entries(g.params as Record<string, unknown>)
        .filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v))
        .map(([k, v]) => `${k}: ${String(v)}`);
      if (params.length) return `${name}(${params.join(', ')})`;
    }
    return name;
  }
  return 'guard';
}

function targetIds(target: unknown): string[] {
  return asArray(target as unknown[])
    .map((t) => (typeof t === 'string' ? t : t && typeof t === 'object' && typeof (t as { id?: unknown }).id === 'string' ? `#${(t as { id: string }).id}` : null))
    .filter((t): t is string => t !== null)
    .map((t) => (t.startsWith('#') ? t.slice(1) : t));
}

/** The src an invoke id stands for, looked up on the state and its ancestors. */
function invokeSrc(id: string, node: RawNode, ancestors: RawNode[]): string {
  for (const n of [node, ...ancestors]) {
    const found = (n.invoke ?? []).find((i) => i.id === id);
    if (found) return typeof found.src === 'string' ? found.src : id;
  }
  return id;
}

/** How an event type reads on an edge, and what kind of edge it makes. */
export function eventLabel(eventType: string, node: RawNode, ancestors: RawNode[]): { label: string; kind: EdgeKind } {
  if (eventType === '') return { label: 'always', kind: 'always' };
  let m = /^xstate\.done\.actor\.(.+)$/.exec(eventType);
  if (m) return { label: `done: ${invokeSrc(m[1]!, node, ancestors)}`, kind: 'done' };
  m = /^xstate\.error\.actor\.(.+)$/.exec(eventType);
  if (m) return { label: `error: ${invokeSrc(m[1]!, node, ancestors)}`, kind: 'error' };
  if (/^xstate\.done\.state\./.test(eventType)) return { label: 'done', kind: 'done' };
  m = /^xstate\.after\.([^.]+)\./.exec(eventType);
  if (m) return { label: `after ${/^\d+$/.test(m[1]!) ? `${m[1]}ms` : m[1]}`, kind: 'after' };
  return { label: eventType, kind: 'event' };
}

export function buildChart(machine: string, definition: unknown): Chart {
  const root = definition as RawNode;
  if (!root || typeof root !== 'object' || typeof root.id !== 'string') throw new Error(`the ${machine} definition has no root state`);
  const nodes: ChartNode[] = [];
  const byId = new Map<string, ChartNode>();
  const initials: Chart['initials'] = [];
  const pending: { source: string; target: string; kind: EdgeKind; label: string; guard: string }[] = [];

  const visit = (raw: RawNode, parent: ChartNode | null, ancestors: RawNode[], initial: boolean) => {
    const id = String(raw.id);
    const type = (['atomic', 'compound', 'parallel', 'final', 'history'].includes(String(raw.type)) ? raw.type : 'atomic') as StateType;
    const node: ChartNode = {
      id,
      key: typeof raw.key === 'string' ? raw.key : id.split('.').pop()!,
      type,
      parent: parent?.id ?? null,
      children: [],
      description: typeof raw.description === 'string' ? raw.description : null,
      initial,
      region: parent?.type === 'parallel',
      lines: [],
    };
    nodes.push(node);
    byId.set(id, node);
    parent?.children.push(id);

    for (const invoke of raw.invoke ?? []) {
      const src = typeof invoke.src === 'string' ? invoke.src : '?';
      const invokeId = typeof invoke.id === 'string' ? invoke.id : '';
      node.lines.push(invokeId && invokeId !== src ? `invoke ${src} as ${invokeId}` : `invoke ${src}`);
    }

    // every transition: `on` holds events, invoke done/error and state done; `always` the eventless ones
    const transitions: { eventType: string; t: RawTransition }[] = [];
    for (const [eventType, list] of Object.entries(raw.on ?? {})) for (const t of asArray(list)) transitions.push({ eventType, t });
    for (const t of asArray(raw.always)) transitions.push({ eventType: '', t });
    const internal: string[] = [];
    for (const { eventType, t } of transitions) {
      const { label, kind } = eventLabel(eventType, raw, ancestors);
      const targets = targetIds(t.target);
      const guard = guardText(t.guard);
      if (!targets.length) {
        const line = guard ? `${label} [${guard}]` : label;
        if (!internal.includes(line)) internal.push(line);
        continue;
      }
      for (const target of targets) pending.push({ source: id, target, kind, label, guard });
    }
    node.lines.push(...internal);

    const children = Object.values(raw.states ?? {});
    const initialTarget = raw.initial && typeof raw.initial === 'object' ? targetIds((raw.initial as { target?: unknown }).target)[0] : undefined;
    const initialKey = typeof raw.initial === 'string' ? raw.initial : undefined;
    for (const child of children) {
      const childId = String(child.id);
      const isInitial = type !== 'parallel' && (childId === initialTarget || (initialKey !== undefined && child.key === initialKey));
      visit(child, node, [raw, ...ancestors], isInitial);
    }
    const initialChild = node.children.map((c) => byId.get(c)!).find((c) => c.initial);
    if (initialChild) initials.push({ parent: id, target: initialChild.id });
  };
  visit(root, null, [], false);

  // one edge per source, target and label; the guards of the merged transitions are listed on it
  const merged = new Map<string, ChartEdge & { guards: string[] }>();
  for (const p of pending) {
    if (!byId.has(p.target)) continue; // a target outside this machine: nothing to draw it to
    const key = `${p.source}\u0000${p.target}\u0000${p.label}`;
    let edge = merged.get(key);
    if (!edge) merged.set(key, (edge = { id: `e${merged.size}`, source: p.source, target: p.target, kind: p.kind, label: p.label, guard: '', guards: [] }));
    edge.guards.push(p.guard);
  }
  const edges: ChartEdge[] = [...merged.values()].map(({ guards, ...edge }) => {
    const named = guards.filter(Boolean);
    const guard = named.length === 0 ? '' : guards.length === named.length ? [...new Set(named)].join(' | ') : [...new Set(named), 'else'].join(' | ');
    return { ...edge, guard };
  });
  return { machine, rootId: String(root.id), nodes, byId, edges, initials };
}

/**
 * The ids of every state a state value makes active, the root included: `{ developing: 'story' }` in
 * `cycle` gives `cycle`, `cycle.developing` and `cycle.developing.story`.
 */
export function activeIds(chart: Chart, value: unknown): string[] {
  const out: string[] = [chart.rootId];
  const childByKey = (parentId: string, key: string) => chart.byId.get(parentId)?.children.find((c) => chart.byId.get(c)?.key === key);
  const walk = (parentId: string, v: unknown) => {
    if (typeof v === 'string') {
      const id = childByKey(parentId, v);
      if (id) out.push(id);
    } else if (v && typeof v === 'object') {
      for (const [key, sub] of Object.entries(v as Record<string, unknown>)) {
        const id = childByKey(parentId, key);
        if (!id) continue;
        out.push(id);
        walk(id, sub);
      }
    }
  };
  walk(chart.rootId, value);
  return out;
}

/**
 * The edges most likely taken from one set of active states to the next: one transition out of a state
 * that was active, then eventless (`always`) ones through transient states such as `routing`, to a state
 * that is active now. The shortest such path, or nothing when there is none.
 */
export function transitionPath(chart: Chart, before: ReadonlySet<string>, after: ReadonlySet<string>): Set<string> {
  const entered = (id: string) => after.has(id) && !before.has(id);
  // entering a compound state enters its initial child too
  const landing = (id: string): string => {
    let at = id;
    for (let n = chart.byId.get(at); n?.children.length; n = chart.byId.get(at)) {
      const initial = n.children.find((c) => chart.byId.get(c)?.initial);
      if (!initial) break;
      at = initial;
    }
    return at;
  };
  let frontier = chart.edges.filter((e) => before.has(e.source)).map((e) => ({ at: e.target, path: [e.id] }));
  const seen = new Set<string>();
  /** a path into an active compound state whose initial child is not the active one: kept in case no longer path gets there */
  let partial: string[] | null = null;
  for (let depth = 0; depth < 6 && frontier.length; depth++) {
    const next: typeof frontier = [];
    for (const f of frontier) {
      const at = landing(f.at);
      if (entered(f.at) && (at === f.at || after.has(at))) return new Set(f.path);
      if (entered(f.at)) partial ??= f.path;
      if (seen.has(at)) continue;
      seen.add(at);
      for (const e of chart.edges) if (e.kind === 'always' && (e.source === at || e.source === f.at)) next.push({ at: e.target, path: [...f.path, e.id] });
    }
    frontier = next;
  }
  return new Set(partial ?? []);
}

/** A state value as one line: `developing.story`, `creating.{createStory.running, storyDiscovery.finished}`. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'string') return value;
  if (typeof value !== 'object') return String(value);
  const entries = Object.entries(value as Record<string, unknown>);
  const one = ([key, sub]: [string, unknown]) => (sub && typeof sub === 'object' && Object.keys(sub).length === 0 ? key : `${key}.${formatValue(sub)}`);
  if (entries.length === 1) return one(entries[0]!);
  return `{${entries.map(one).join(', ')}}`;
}
