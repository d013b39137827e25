// The dashboard's pure rules, as tables: the compacted time axis, a command's shown status and end, cost shares and
// story totals, and the one event text the terminal and the log share.
import { describe, expect, it } from 'vitest';
import { eventText } from '../../machines/event-text.js';
import type { ApiState, StoredEvent } from '../../machines/wire.js';
import { costShare, endOf, shownStatus, storyTotals } from '../../web/src/model.js';
import { busySpans, GAP_MS, GAP_PX, timeScale } from '../../web/src/views/timescale.js';
import type { CommandView } from '../../web/src/types.js';
import { apiState } from '../support/api-state.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

describe('the compacted time axis', () => {
  it('merges spans closer than GAP_MS and keeps longer quiet stretches apart', () => {
    expect(busySpans([[0, MIN], [MIN + GAP_MS, 2 * GAP_MS], [3 * HOUR, 3 * HOUR + MIN]])).toEqual([[0, 2 * GAP_MS], [3 * HOUR, 3 * HOUR + MIN]]);
    expect(busySpans([])).toEqual([]);
  });

  it('draws a day-long gap as GAP_PX, maps both ways, and keeps time order', () => {
    const busy = busySpans([[0, HOUR], [25 * HOUR, 26 * HOUR]]);
    const scale = timeScale(busy, 1 / MIN); // 1 px per minute
    expect(scale.width).toBe(60 + GAP_PX + 60);
    expect(scale.xOf(0)).toBe(0);
    expect(scale.xOf(HOUR)).toBe(60);
    expect(scale.xOf(25 * HOUR)).toBe(60 + GAP_PX);
    expect(scale.xOf(13 * HOUR)).toBeCloseTo(60 + GAP_PX / 2);
    for (const t of [0, 30 * MIN, HOUR, 10 * HOUR, 25 * HOUR, 25.5 * HOUR, 26 * HOUR]) expect(scale.tOf(scale.xOf(t))).toBeCloseTo(t, 0);
    const times = [0, HOUR, 2 * HOUR, 24 * HOUR, 25 * HOUR, 26 * HOUR];
    const xs = times.map(scale.xOf);
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
  });
});

const state = (status: ApiState['status'], batchId: number | null): ApiState =>
  apiState({ status, batch: batchId === null ? null : { id: batchId, startedAt: '2030-01-01T00:00:00.000Z', endedAt: null, maxCycles: 2, cyclesCompleted: 0, message: null, costUsd: 0 } });

const command = (patch: Partial<CommandView>): CommandView => ({
  key: 'r#1',
  runId: 'r',
  command: 'dev-story',
  kind: 'dev-story',
  stories: ['1-1'],
  attempt: 1,
  reviewAttempt: null,
  batchId: 1,
  model: null,
  background: false,
  status: 'ok',
  message: null,
  costUsd: null,
  inputTokens: null,
  outputTokens: null,
  startedAt: '2030-01-01T00:00:00.000Z',
  endedAt: '2030-01-01T00:01:00.000Z',
  tasks: [],
  taskCount: 0,
  ...patch,
});

describe('a command as shown', () => {
  const open = command({ status: 'running', endedAt: null, tasks: [{ storyShortId: '1-1', taskId: 'setup', known: true, status: 'running', message: null, startedAt: '2030-01-01T00:00:30.000Z', endedAt: null }] });
  it.each([
    ['running in the live batch', state('running', 1), 'running', null],
    ['paused batch: still running', state('paused', 1), 'running', null],
    ['the batch completed: cut off, ends at its last task', state('completed', 1), 'interrupted', Date.parse('2030-01-01T00:00:30.000Z')],
    ['the batch stopped', state('stopped', 1), 'interrupted', Date.parse('2030-01-01T00:00:30.000Z')],
    ['a later batch runs', state('running', 2), 'interrupted', Date.parse('2030-01-01T00:00:30.000Z')],
  ] as const)('%s', (_, s, status, end) => {
    expect(shownStatus(open, s)).toBe(status);
    expect(endOf(open, s)).toBe(end);
  });
  it('a legacy row is never running', () => {
    expect(shownStatus(command({ batchId: null, status: 'running', endedAt: null }), state('running', 1))).toBe('interrupted');
  });
});

describe('costs and story totals', () => {
  it('splits a paired command between its stories, so the stories add up to what was spent', () => {
    const paired = command({ stories: ['2a-1', '2a-2'], costUsd: 1.5 });
    const single = command({ key: 's#1', costUsd: 0.5 });
    expect(costShare(paired)).toBe(0.75);
    expect(costShare(command({ costUsd: null }))).toBeNull();
    const totals = storyTotals([paired, single], state('completed', 1));
    expect(totals).toMatchObject({ costUsd: 1.25, commands: 2, shared: 1, busyMs: 2 * MIN, running: false });
  });
});

describe('one event text for the terminal and the log', () => {
  const ev = (type: string, payload: unknown): StoredEvent => ({ id: 1, type, ts: 0, payload });
  it.each([
    [ev('batch:end', { status: 'completed', message: 'Batch complete', cyclesCompleted: 1 }), 'batch completed: Batch complete (1 cycle completed)', false],
    [ev('story:status', { story: { key: '1-1-x', shortId: '1-1', epicId: '1' }, status: 'blocked', reason: 'same error 3 times' }), 'story 1-1-x → blocked (same error 3 times)', false],
    [ev('command:progress', { kind: 'spawned', pid: 42, startTime: 1, runId: 'r', command: 'dev-story', stories: ['1-1'] }), '    dev-story pid 42', true],
    [ev('machine', { actors: [] }), 'machines: 0 active', true],
    [ev('some-future-event', { a: 1 }), 'some-future-event {"a":1}', true],
  ])('%#: %j', (event, text, detail) => {
    expect(eventText(event)).toEqual({ text, detail });
  });
});
