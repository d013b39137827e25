// Crash test: a real `sprint-runner serve` is SIGKILLed at many moments of a 3-cycle run, restarted and resumed.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../machines/claude/process-tree.js';
import { makeProject, SPRINT_STATUS_REL, type TraceLine } from '../support/scenario.js';
import { startServe, stuckServe, waitForServeStatus, type ServeProcess } from '../support/serve-process.js';
import { waitFor } from '../support/wait.js';

/** Three cycles of the demo: a review story, a ready-for-dev pair, a backlog story whose review forks a chain. */
const SCENARIO = { stories: { '2a-3': { storyReview: [1] } }, commands: { 'background-review-chain': ['slow:300'] } };
const MOMENTS = 22;

interface CommandRow {
  command: string;
  stories: string[];
  status: string;
  attempt: number;
}

const stepOf = (command: string, stories: readonly string[]) => `${command} ${stories.join(',')}`;

function readTrace(root: string): (TraceLine & { logged: string; stories: string[] })[] {
  const file = path.join(root, '.sprint-sim', 'trace.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

function countStarts(trace: ReturnType<typeof readTrace>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of trace) if (line.ev === 'start') counts.set(stepOf(line.logged, line.stories), (counts.get(stepOf(line.logged, line.stories)) ?? 0) + 1);
  return counts;
}

const waitForStatus = (serve: ServeProcess, statuses: string[], timeoutMs = 40_000) =>
  waitForServeStatus<{ status: string }>(serve, statuses, `status ${statuses.join(' or ')}`, timeoutMs);

async function stopServe(serve: ServeProcess) {
  serve.child.kill('SIGTERM');
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(stuckServe(serve, 'serve to exit after SIGTERM', '')), 15_000)));
  try {
    await Promise.race([serve.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

function project() {
  const root = makeProject({ scenario: SCENARIO });
  return { root, db: path.join(root, 'runner.db'), trace: path.join(root, '.sprint-sim', 'trace.jsonl') };
}

let baseline: { sprintStatus: string; events: number };
const roots: string[] = [];

beforeAll(async () => {
  const { root, db, trace } = project();
  roots.push(root);
  const serve = await startServe(root, db, { SPRINT_SIM_TRACE: trace });
  expect((await serve.api('/api/batch/start', { method: 'POST', body: { cycles: 3 } })).status).toBe(200);
  const done = await waitForStatus(serve, ['completed', 'error']);
  expect(done).toMatchObject({ status: 'completed', batch: { cyclesCompleted: 3 } });
  const { body } = await serve.api<{ lastEventId: number }>('/api/state');
  await stopServe(serve);
  baseline = { sprintStatus: readFileSync(path.join(root, SPRINT_STATUS_REL), 'utf8'), events: body.lastEventId };
}, 120_000);

afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

describe('SIGKILL of the orchestrator at any moment', () => {
  it('the baseline run is long enough to kill at many distinct moments', () => {
    expect(baseline.events).toBeGreaterThan(MOMENTS * 3);
  });

  const moments = Array.from({ length: MOMENTS }, (_, i) => i);
  it.each(moments)('moment %i: restart finds it interrupted, ends the old children, and resume finishes exactly', async (moment) => {
    const threshold = Math.max(2, Math.round(((moment + 1) / (MOMENTS + 1)) * baseline.events));
    const { root, db, trace } = project();
    roots.push(root);
    const first = await startServe(root, db, { SPRINT_SIM_TRACE: trace });
    await first.api('/api/batch/start', { method: 'POST', body: { cycles: 3 } });
    await waitFor(async () => ((await first.api<{ lastEventId: number }>('/api/state')).body.lastEventId >= threshold ? true : null), `event ${threshold}`);
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await startServe(root, db, { SPRINT_SIM_TRACE: trace });
    // read only now: the old run's children keep going until the restart's recovery ends them
    const before = readTrace(root);
    const startsBefore = countStarts(before);
    try {
      const state = (await second.api<{ status: string }>('/api/state')).body;
      // a kill right at the end may leave nothing to resume
      if (state.status === 'completed') {
        expect(readFileSync(path.join(root, SPRINT_STATUS_REL), 'utf8')).toBe(baseline.sprintStatus);
        return;
      }
      expect(state.status).toBe('interrupted');
      // no process of the old run survives the restart
      for (const line of before.filter((l) => l.ev === 'start' || l.ev === 'grandchild')) expect(isAlive(line.pid), `pid ${line.pid} (${line.ev})`).toBe(false);
      const recorded = (await second.api<CommandRow[]>('/api/commands')).body;
      const completed = recorded.filter((c) => c.status === 'ok').map((c) => stepOf(c.command, c.stories));
      const interrupted = recorded.filter((c) => c.status === 'interrupted').map((c) => stepOf(c.command, c.stories));

      expect((await second.api('/api/batch/resume', { method: 'POST' })).status).toBe(200);
      const done = await waitForStatus(second, ['completed', 'error']);
      expect(done).toMatchObject({ status: 'completed', batch: { cyclesCompleted: 3 } });

      expect(readFileSync(path.join(root, SPRINT_STATUS_REL), 'utf8')).toBe(baseline.sprintStatus);
      const startsAfter = countStarts(readTrace(root));
      for (const step of completed) expect(startsAfter.get(step), `completed ${step}`).toBe(1);
      for (const step of interrupted) expect(startsAfter.get(step), `interrupted ${step}`).toBe((startsBefore.get(step) ?? 0) + 1);
    } finally {
      await stopServe(second);
    }
    const check = new Database(db, { readonly: true });
    try {
      expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(check.pragma('foreign_key_check')).toEqual([]);
    } finally {
      check.close();
    }
  });
});
