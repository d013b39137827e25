// The dashboard's model as a specification: which batch a command seen live belongs to, whatever the order in which
// its start event and the new batch's state arrive.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiState, StoredEvent } from '../../machines/wire.js';
import { Store } from '../../web/src/store.js';
import { apiState } from '../support/api-state.js';

const T0 = Date.parse('2026-12-07T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function state(batch: { id: number; startedAt: number; endedAt: number | null } | null): ApiState {
  return apiState({
    status: batch === null ? 'idle' : batch.endedAt === null ? 'running' : 'completed',
    batch: batch && { id: batch.id, startedAt: iso(batch.startedAt), endedAt: batch.endedAt === null ? null : iso(batch.endedAt), maxCycles: 1, cyclesCompleted: 0, message: null, costUsd: 0 },
  });
}

let nextId = 1;
function commandStart(ts: number, runId: string): StoredEvent {
  return { id: nextId++, type: 'command:start', ts, payload: { runId, command: 'create-story', kind: 'create-story', stories: [{ shortId: '1-1' }], attempt: 1, reviewAttempt: null, model: null, background: false } };
}

describe('the batch of a command seen live', () => {
  // the model refetches the state after such events on a timer; no timer runs here, so no request is made
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('is the running batch when the state already knows it', () => {
    const store = new Store();
    store.setState(state({ id: 3, startedAt: T0, endedAt: null }));
    store.apply(commandStart(T0 + 1000, 'c1/create-story/1-1'));
    expect(store.commands.get('c1/create-story/1-1#1')?.batchId).toBe(3);
  });

  it('is learned from the next state when the command started before the state knew the new batch', () => {
    const store = new Store();
    // the page was opened on an empty project: no batch yet
    store.setState(state(null));
    store.apply(commandStart(T0 + 1000, 'c1/create-story/1-1'));
    expect(store.commands.get('c1/create-story/1-1#1')?.batchId).toBeNull();
    store.setState(state({ id: 1, startedAt: T0, endedAt: null }));
    expect(store.commands.get('c1/create-story/1-1#1')?.batchId).toBe(1);
  });

  it('is never the previous, ended batch the state still shows when a new one starts', () => {
    const store = new Store();
    store.setState(state({ id: 1, startedAt: T0, endedAt: T0 + 60_000 }));
    store.apply(commandStart(T0 + 120_000, 'c1/create-story/1-2'));
    expect(store.commands.get('c1/create-story/1-2#1')?.batchId).toBeNull();
    store.setState(state({ id: 2, startedAt: T0 + 119_000, endedAt: null }));
    expect(store.commands.get('c1/create-story/1-2#1')?.batchId).toBe(2);
  });
});
