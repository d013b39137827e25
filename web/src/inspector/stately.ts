// Opt-in bridge to Stately's hosted inspector: @statelyai/inspect is loaded, opened and fed only after the operator asks.
import type { ActiveStateView } from '../store.js';
import type { StoredEvent } from '../types.js';

type Inspector = ReturnType<typeof import('@statelyai/inspect').createBrowserInspector>;
type ActorArg = Parameters<Inspector['actor']>[0];

interface RawTransition {
  target?: unknown;
  guard?: unknown;
  description?: unknown;
}
interface RawNode {
  id?: unknown;
  key?: unknown;
  type?: unknown;
  initial?: unknown;
  states?: Record<string, RawNode>;
  on?: Record<string, RawTransition[]>;
  always?: RawTransition[];
  invoke?: { id?: unknown; src?: unknown }[];
  description?: unknown;
}

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function transition(t: RawTransition): Record<string, unknown> {
  const targets = list(t.target as unknown[]).filter((x): x is string => typeof x === 'string');
  return {
    ...(targets.length ? { target: targets } : {}),
    ...(t.guard !== undefined && t.guard !== null ? { guard: t.guard } : {}),
    ...(typeof t.description === 'string' ? { description: t.description } : {}),
  };
}

/**
 * A `machine.root.definition` back into the config shape `createMachine` takes (what the inspector reads
 * from `actor.logic.config`): invoke done/error events become `onDone`/`onError`, state done `onDone`.
 */
export function toMachineConfig(raw: RawNode, isRoot = true): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (isRoot && typeof raw.id === 'string') out['id'] = raw.id;
  if (raw.type === 'parallel' || raw.type === 'final' || raw.type === 'history') out['type'] = raw.type;
  if (typeof raw.description === 'string') out['description'] = raw.description;
  const initial = raw.initial && typeof raw.initial === 'object' ? list((raw.initial as { target?: unknown[] }).target)[0] : undefined;
  if (typeof initial === 'string') {
    const child = Object.values(raw.states ?? {}).find((c) => `#${String(c.id)}` === initial);
    if (child && typeof child.key === 'string') out['initial'] = child.key;
  }
  const invoke = (raw.invoke ?? []).map((i) => ({ id: i.id, src: i.src }) as Record<string, unknown>);
  const on: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  for (const [eventType, ts] of Object.entries(raw.on ?? {})) {
    const converted = list(ts).map(transition);
    let m = /^xstate\.(done|error)\.actor\.(.+)$/.exec(eventType);
    const inv = m ? invoke.find((i) => i['id'] === m![2]) : undefined;
    if (m && inv) {
      inv[m[1] === 'done' ? 'onDone' : 'onError'] = converted;
      continue;
    }
    if (eventType === `xstate.done.state.${String(raw.id)}`) {
      out['onDone'] = converted;
      continue;
    }
    m = /^xstate\.after\.([^.]+)\./.exec(eventType);
    if (m) {
      after[m[1]!] = converted;
      continue;
    }
    on[eventType] = converted;
  }
  if (invoke.length) out['invoke'] = invoke;
  if (Object.keys(on).length) out['on'] = on;
  if (Object.keys(after).length) out['after'] = after;
  if (raw.always?.length) out['always'] = list(raw.always).map(transition);
  const states = Object.entries(raw.states ?? {});
  if (states.length) out['states'] = Object.fromEntries(states.map(([key, child]) => [key, toMachineConfig(child, false)]));
  return out;
}

export type StatelyStatus = 'off' | 'loading' | 'open' | 'blocked' | 'error';

/**
 * Feeds Stately's inspector window with our actors (one per live path, parented by path), their state
 * values as snapshots, and the runner's events. Nothing is loaded or sent until `start`.
 */
export class StatelyBridge {
  private inspector: Inspector | null = null;
  private refs = new Map<string, ActorArg>();
  private values = new Map<string, string>();
  private lastEvent: { type: string } | null = null;
  status: StatelyStatus = 'off';
  error = '';

  constructor(
    private readonly machines: () => Record<string, unknown>,
    private readonly onStatus: (status: StatelyStatus) => void,
  ) {}

  /** Loads the package and opens the inspector window; call it from the operator's click. */
  async start(active: readonly ActiveStateView[]): Promise<void> {
    if (this.inspector) return;
    this.setStatus('loading');
    try {
      const { createBrowserInspector } = await import('@statelyai/inspect');
      if (this.status !== 'loading') return; // turned off while loading
      const inspector = createBrowserInspector({ maxDeferredEvents: 2000 });
      const opened = (inspector.adapter as { targetWindow?: Window | null }).targetWindow;
      if (!opened) {
        inspector.stop();
        this.setStatus('blocked');
        return;
      }
      this.inspector = inspector;
      this.refs.clear();
      this.values.clear();
      this.update(active);
      this.setStatus('open');
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
      this.setStatus('error');
    }
  }

  stop(): void {
    this.inspector?.stop();
    this.inspector = null;
    this.refs.clear();
    this.values.clear();
    this.setStatus('off');
  }

  /** A `machine` event: new actors are registered, changed ones get a snapshot, gone ones a `done` one. */
  update(active: readonly ActiveStateView[]): void {
    const inspector = this.inspector;
    if (!inspector) return;
    const info = this.lastEvent ? { event: this.lastEvent } : undefined;
    const live = new Set<string>();
    // parents first, so each actor names a registered parent
    for (const actor of [...active].sort((a, b) => a.path.split('/').length - b.path.split('/').length)) {
      live.add(actor.path);
      const json = JSON.stringify(actor.value);
      const snapshot = { status: 'active' as const, value: actor.value, context: {} };
      if (!this.refs.has(actor.path)) {
        const ref = this.ref(actor);
        this.refs.set(actor.path, ref);
        inspector.actor(ref, snapshot);
      } else if (this.values.get(actor.path) !== json) inspector.snapshot(this.refs.get(actor.path)!, snapshot, info);
      this.values.set(actor.path, json);
    }
    for (const [path, ref] of this.refs) {
      if (live.has(path)) continue;
      inspector.snapshot(ref, { status: 'done', value: JSON.parse(this.values.get(path) ?? 'null'), context: {} }, info);
      this.refs.delete(path);
      this.values.delete(path);
    }
    this.lastEvent = null;
  }

  /** A runner event, shown as an event sent to the root actor. */
  event(event: StoredEvent): void {
    if (event.type === 'machine') return;
    this.lastEvent = { type: event.type };
    if (!this.inspector) return;
    const root = [...this.refs.keys()].find((p) => !p.includes('/'));
    const payload = event.payload && typeof event.payload === 'object' ? (event.payload as Record<string, unknown>) : { payload: event.payload };
    this.inspector.event(root ? this.refs.get(root)! : 'sprint-runner', { ...payload, type: event.type, eventId: event.id });
  }

  private ref(actor: ActiveStateView): ActorArg {
    const parentPath = actor.path.includes('/') ? actor.path.slice(0, actor.path.lastIndexOf('/')) : null;
    const definition = this.machines()[actor.machine];
    const config = definition ? toMachineConfig(definition as RawNode) : { id: actor.machine };
    const values = this.values;
    return {
      sessionId: actor.path,
      id: actor.path.split('/').pop(),
      _parent: parentPath ? this.refs.get(parentPath) : undefined,
      logic: { config },
      send: () => undefined,
      getSnapshot: () => ({ status: 'active', value: JSON.parse(values.get(actor.path) ?? 'null') }),
    } as unknown as ActorArg;
  }

  private setStatus(status: StatelyStatus): void {
    this.status = status;
    this.onStatus(status);
  }
}
