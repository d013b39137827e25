// The recent transitions: which actor went from which state value to which, derived from consecutive `machine` events.
import type { ActiveStateView } from '../store.js';
import type { StoredEvent } from '../types.js';
import { formatValue } from './chart.js';

export interface TransitionEntry {
  /** `${machine event id}:${actor path}` */
  key: string;
  eventId: number;
  ts: number | string;
  path: string;
  machine: string;
  /** null: the actor started */
  from: string | null;
  /** null: the actor stopped */
  to: string | null;
  /** the other events since the previous change, such as `command:end, story:status, command:progress ×12` */
  events: string;
}

export const TRANSITION_LIMIT = 50;

export class TransitionLog {
  /** newest first, at most TRANSITION_LIMIT */
  entries: TransitionEntry[] = [];
  private previous = new Map<string, { machine: string; value: string }>();
  private since = new Map<string, number>();

  constructor(private readonly limit = TRANSITION_LIMIT) {}

  reset(): void {
    this.entries = [];
    this.previous.clear();
    this.since.clear();
  }

  /** Feeds one event in id order; returns true when the list changed. */
  ingest(event: StoredEvent): boolean {
    if (event.type !== 'machine') {
      this.since.set(event.type, (this.since.get(event.type) ?? 0) + 1);
      return false;
    }
    const actors = ((event.payload as { actors?: ActiveStateView[] } | null)?.actors ?? []) as ActiveStateView[];
    const events = [...this.since].map(([type, n]) => (n > 1 ? `${type} ×${n}` : type)).join(', ');
    this.since.clear();
    const now = new Map(actors.map((a) => [a.path, { machine: a.machine, value: formatValue(a.value) }]));
    const changed: TransitionEntry[] = [];
    const entry = (path: string, machine: string, from: string | null, to: string | null): TransitionEntry => ({ key: `${event.id}:${path}`, eventId: event.id, ts: event.ts, path, machine, from, to, events });
    for (const [path, current] of now) {
      const before = this.previous.get(path);
      if (!before || before.machine !== current.machine) changed.push(entry(path, current.machine, null, current.value));
      else if (before.value !== current.value) changed.push(entry(path, current.machine, before.value, current.value));
    }
    for (const [path, before] of this.previous) if (!now.has(path)) changed.push(entry(path, before.machine, before.value, null));
    this.previous = now;
    if (!changed.length) return false;
    // newest event first; within one event, parents before children as the actors list them
    this.entries = [...changed, ...this.entries].slice(0, this.limit);
    return true;
  }

  /** Rebuilds the list from a whole history, oldest first. */
  replay(events: readonly StoredEvent[]): void {
    this.reset();
    for (const event of events) this.ingest(event);
  }
}
