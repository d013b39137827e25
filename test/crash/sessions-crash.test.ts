// A crash of a real `serve` (SIGKILL) mid dev-story: the resumed batch continues the CLI session the crash cut off.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { makeProject } from '../support/scenario.js';
import { startServe, type ServeProcess } from '../support/serve-process.js';
import { waitFor } from '../support/wait.js';

const running: ServeProcess[] = [];
const roots: string[] = [];
afterEach(async () => {
  for (const serve of running.splice(0)) {
    serve.child.kill('SIGTERM');
    await serve.exited;
  }
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

interface Start {
  ev: string;
  logged: string;
  sessionId: string;
  resumed: string | null;
  alreadyDone: string[];
}
const starts = (file: string) =>
  (existsSync(file) ? readFileSync(file, 'utf8') : '')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Start)
    .filter((l) => l.ev === 'start' && l.logged === 'dev-story');

describe('crash recovery continues the session', () => {
  it('after a SIGKILL of serve, the resumed dev-story forks the session stored with the crashed attempt', async () => {
    const root = makeProject({
      developmentStatus: '  epic-1: in-progress\n  1-1-alpha: in-progress\n',
      scenario: { stories: { '1-1': { run: { 'dev-story': ['stall:9', 'ok'] } } } },
    });
    roots.push(root);
    const db = path.join(root, 'runner.db');
    const trace = path.join(root, '.sprint-sim', 'trace.jsonl');
    const csv = path.join(root, 'docs', 'sprint-runner.csv');
    const first = await startServe(root, db, { SPRINT_SIM_TRACE: trace });
    running.push(first);
    expect((await first.api('/api/batch/start', { method: 'POST', body: { cycles: 1 } })).status).toBe(200);
    // the sim stalls after a few phases: wait until it logged phase ends
    await waitFor(() => ((existsSync(csv) ? readFileSync(csv, 'utf8') : '').match(/,dev-story,\w+,end,/g)?.length ?? 0) >= 2 || null, 'two dev-story phases', 30_000);
    first.child.kill('SIGKILL');
    await first.exited;
    running.splice(running.indexOf(first), 1);

    // the session id was stored before the spawn
    const sqlite = new Database(db, { readonly: true });
    const row = sqlite.prepare("select session_id, status from commands where command = 'dev-story'").get() as { session_id: string; status: string };
    sqlite.close();
    expect(row.session_id).toBe(starts(trace)[0]!.sessionId);

    const second = await startServe(root, db, { SPRINT_SIM_TRACE: trace });
    running.push(second);
    expect((await second.api<{ status: string }>('/api/state')).body.status).toBe('interrupted');
    expect((await second.api('/api/batch/resume', { method: 'POST' })).status).toBe(200);
    await waitFor(async () => (await second.api<{ status: string }>('/api/state')).body.status === 'completed' || null, 'the resumed batch', 60_000);

    const [crashed, resumed] = starts(trace);
    expect(resumed!.resumed).toBe(crashed!.sessionId);
    expect(resumed!.alreadyDone.length).toBeGreaterThanOrEqual(1);
    const after = new Database(db, { readonly: true });
    const rows = after.prepare("select attempt, status, session_id, continued_from from commands where command = 'dev-story' order by id").all();
    after.close();
    expect(rows).toEqual([
      { attempt: 1, status: 'interrupted', session_id: crashed!.sessionId, continued_from: null },
      { attempt: 2, status: 'ok', session_id: resumed!.sessionId, continued_from: crashed!.sessionId },
    ]);
  });
});
