// The terminal log never affects the run: `sprint-runner serve … | head -3` (EPIPE on every later write) still completes a batch.
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { SIM_CLAUDE } from '../support/scenario.js';
import { BUILT_CLI } from '../support/serve-process.js';
import { waitFor } from '../support/wait.js';
import { expectIntactDatabase, expectNoProcessLeft, faultProject, referenceRun, removeAll } from './support.js';

const roots: string[] = [];
const pids: number[] = [];
afterEach(() => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  removeAll(roots);
});

describe('the terminal log', () => {
  it('a closed stdout pipe (| head -3) neither ends serve nor the batch', async () => {
    const scenario = {};
    const expected = await referenceRun(scenario, 2, roots);
    const p = faultProject(scenario, roots);
    const serve = spawn(process.execPath, [BUILT_CLI, 'serve', '--project', p.root, '--db', p.db, '--port', '0', '--claude', SIM_CLAUDE], {
      env: { ...process.env, SPRINT_SIM_PACE_MS: '0', IS_SANDBOX: '1', SPRINT_SIM_TRACE: p.trace },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    pids.push(serve.pid!);
    let stderr = '';
    serve.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | string | null>((resolve) => serve.on('exit', (code, signal) => resolve(code ?? signal)));
    // a real `head -3` reads serve's stdout; this process keeps no end of that pipe
    const head = spawn('head', ['-3'], { stdio: [serve.stdout!, 'pipe', 'ignore'] });
    serve.stdout!.destroy();
    let shown = '';
    head.stdout!.on('data', (chunk: Buffer) => (shown += chunk.toString()));
    const headDone = new Promise((resolve) => head.on('exit', resolve));
    const url = await waitFor(() => /dashboard: (http:\/\/\S+)/.exec(shown)?.[1], 'the dashboard URL through head');
    await headDone;

    // the printed URL carries the dashboard token; a script sends it as a bearer token
    const dashboard = new URL(url);
    const authorization = `Bearer ${dashboard.searchParams.get('token')}`;
    const api = async <T>(route: string, method = 'GET', body?: unknown) => {
      const response = await fetch(`${dashboard.origin}${route}`, {
        method,
        headers: { authorization, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return (await response.json()) as T;
    };
    await api('/api/batch/start', 'POST', { cycles: 2 });
    // every event line now meets a closed pipe
    const state = await waitFor(async () => {
      const s = await api<{ status: string }>('/api/state');
      return s.status === 'completed' || s.status === 'error' ? s : null;
    }, 'the batch to end', 90_000);
    expect(state.status).toBe('completed');
    expect(p.sprintStatus()).toBe(expected);
    expect(stderr).not.toContain('EPIPE');

    serve.kill('SIGTERM');
    expect(await exited).toBe(0);
    expectIntactDatabase(p.db);
    expectNoProcessLeft(p.trace);
  }, 180_000);
});
