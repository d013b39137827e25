// A real `sprint-runner serve` driven through its API and WebSocket, and its clear errors on bad setups.
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { isAlive } from '../../machines/claude/process-tree.js';
import { SIM_CLAUDE, SPRINT_STATUS_REL } from '../support/scenario.js';
import { serveFixtures, serveOnce, startServe, type ServeProcess } from '../support/serve-process.js';
import { waitFor } from '../support/wait.js';

const { running, project, serveOn } = serveFixtures();

const statusOf = async (serve: ServeProcess) => (await serve.api<{ status: string }>('/api/state')).body.status;

const traceStarts = (file: string) =>
  (existsSync(file) ? readFileSync(file, 'utf8') : '')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { ev: string; pid: number; logged: string })
    .filter((l) => l.ev === 'start');

describe('serve through its API', () => {
  it('runs 3 cycles, stops mid-story, resumes, and completes like an uninterrupted run', async () => {
    const scenario = { commands: { 'dev-story': ['slow:600'] } };
    const reference = project(scenario);
    const plain = await serveOn(reference);
    await plain.api('/api/batch/start', { method: 'POST', body: { cycles: 3 } });
    await waitFor(async () => (await statusOf(plain)) === 'completed' || null, 'the reference run', 60_000);
    const expected = readFileSync(path.join(reference.root, SPRINT_STATUS_REL), 'utf8');

    const p = project(scenario);
    const serve = await serveOn(p);
    expect((await serve.api('/api/batch/start', { method: 'POST', body: { cycles: 3 } })).status).toBe(200);
    expect((await serve.api('/api/batch/start', { method: 'POST', body: { cycles: 3 } })).status).toBe(409);
    await waitFor(() => traceStarts(p.trace).some((s) => s.logged === 'dev-story') || null, 'a dev-story', 30_000);
    const stopped = await serve.api<{ ok: boolean; state: { status: string } }>('/api/batch/stop', { method: 'POST' });
    expect(stopped.body).toMatchObject({ ok: true, state: { status: 'stopped' } });
    for (const start of traceStarts(p.trace)) expect(isAlive(start.pid), `pid ${start.pid}`).toBe(false);
    const interrupted = (await serve.api<{ command: string; status: string }[]>('/api/commands')).body.filter((c) => c.status === 'interrupted');
    expect(interrupted.map((c) => c.command)).toEqual(['dev-story']);

    expect((await serve.api('/api/batch/resume', { method: 'POST' })).status).toBe(200);
    await waitFor(async () => (await statusOf(serve)) === 'completed' || null, 'the resumed run', 60_000);
    expect(readFileSync(path.join(p.root, SPRINT_STATUS_REL), 'utf8')).toBe(expected);
    const state = (await serve.api<{ batch: { cyclesCompleted: number; costUsd: number } }>('/api/state')).body;
    expect(state.batch).toMatchObject({ cyclesCompleted: 3 });
    expect(state.batch.costUsd).toBeGreaterThan(0);
  });

  it('a stopped server restarts as stopped, and resume goes on from the exact step', async () => {
    const p = project({ stories: { '1-3': { run: { 'code-review': ['hang', 'ok'] } } } });
    const first = await serveOn(p);
    await first.api('/api/batch/start', { method: 'POST', body: { cycles: 1 } });
    await waitFor(() => traceStarts(p.trace).length > 0 || null, 'code-review to start');
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    running.splice(running.indexOf(first), 1);

    const second = await serveOn(p);
    expect(await statusOf(second)).toBe('stopped');
    await second.api('/api/batch/resume', { method: 'POST' });
    await waitFor(async () => (await statusOf(second)) === 'completed' || null, 'completion', 60_000);
    expect(traceStarts(p.trace).map((s) => s.logged)).toEqual(['code-review-1', 'code-review-1', 'batch-commit']);
  });

  it('streams every event on the WebSocket, and a reconnect with the last id misses none and repeats none', async () => {
    const p = project({ commands: { 'dev-story': ['slow:300'] } });
    const serve = await serveOn(p);
    const received: number[] = [];
    const connect = (after?: number) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(`${serve.url.replace('http', 'ws')}/ws${after !== undefined ? `?after=${after}` : ''}`, { headers: { Authorization: `Bearer ${serve.token}` } });
        ws.on('message', (data: Buffer) => {
          for (const event of JSON.parse(data.toString()) as { id: number; type: string }[]) if (event.type !== 'hello') received.push(event.id);
        });
        ws.on('open', () => resolve(ws));
        ws.on('error', reject);
      });
    let ws = await connect(0);
    await serve.api('/api/batch/start', { method: 'POST', body: { cycles: 2 } });
    for (let i = 0; i < 4; i++) {
      await waitFor(() => received.length > (i + 1) * 15 || null, 'events', 30_000);
      ws.terminate();
      await new Promise((resolve) => setTimeout(resolve, 50));
      ws = await connect(received[received.length - 1]);
    }
    await waitFor(async () => (await statusOf(serve)) === 'completed' || null, 'completion', 60_000);
    const last = (await serve.api<{ lastEventId: number }>('/api/state')).body.lastEventId;
    await waitFor(() => received[received.length - 1] === last || null, 'the last event');
    ws.close();
    expect(received).toEqual(Array.from({ length: last }, (_, i) => i + 1));
  });

  it('answers GET /api/state with 200 at every moment of a batch, polled by four readers at once', async () => {
    const p = project();
    const serve = await serveOn(p);
    await serve.api('/api/batch/start', { method: 'POST', body: { cycles: 3 } });
    const failures: string[] = [];
    let reads = 0;
    let status = '';
    // four readers at once, as a dashboard and a script polling would: every read overlaps some command's end
    const reader = async () => {
      while (!['completed', 'error'].includes(status)) {
        const response = await serve.api<{ status: string; error?: string }>('/api/state');
        reads++;
        if (response.status !== 200) failures.push(`${response.status} ${JSON.stringify(response.body)}`);
        else status = response.body.status;
      }
    };
    await Promise.all([reader(), reader(), reader(), reader()]);
    expect(failures).toEqual([]);
    expect(status).toBe('completed');
    expect(reads).toBeGreaterThan(20);
  });

  it('reading sprint-status never writes it: missing is 404 and unparseable 422, each with its code and what to do', async () => {
    const p = project();
    const serve = await serveOn(p);
    const file = path.join(p.root, SPRINT_STATUS_REL);
    const text = readFileSync(file, 'utf8');
    rmSync(file);
    const missing = await serve.api<{ error: string; code: string }>('/api/sprint-status');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('sprint-status-missing');
    expect(missing.body.error).toContain(`${file} is missing. Run sprint planning first`);
    expect((await serve.api('/api/story-descriptions')).body).toEqual({});
    expect(existsSync(file)).toBe(false);

    writeFileSync(file, 'development_status:\n  1-1-a: [unclosed\n');
    const broken = await serve.api<{ error: string; code: string }>('/api/sprint-status');
    expect(broken.status).toBe(422);
    expect(broken.body.code).toBe('sprint-status-unparseable');
    expect(broken.body.error).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: `));
    expect(readFileSync(file, 'utf8')).toBe('development_status:\n  1-1-a: [unclosed\n');

    writeFileSync(file, text);
    expect((await serve.api('/api/sprint-status')).status).toBe(200);
  });

  it('refuses a foreign Origin and a foreign Host, on the API and the WebSocket', async () => {
    const serve = await serveOn(project());
    const start = await fetch(`${serve.url}/api/batch/start`, { method: 'POST', headers: { Origin: 'http://evil.example', 'Content-Type': 'application/json' }, body: '{"cycles":1}' });
    expect(start.status).toBe(403);
    const upgrade = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${serve.url.replace('http', 'ws')}/ws`, { headers: { Origin: 'http://evil.example' } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
    });
    expect(upgrade).toBe(403);
    const port = new URL(serve.url).port;
    const rebinding = spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', `Host: attacker.example:${port}`, `${serve.url}/api/state`]);
    expect(rebinding.stdout.toString()).toBe('403');
    expect(await statusOf(serve)).toBe('idle');
  });
});

describe('serve refuses bad setups with a clear error', () => {
  it('a database another orchestrator is using (for another project: the same project is refused by its lock first)', async () => {
    const p = project();
    await serveOn(p);
    const second = serveOnce(['--project', project().root, '--db', p.db, '--port', '0', '--claude', SIM_CLAUDE]);
    expect(second.code).toBe(1);
    expect(second.output).toMatch(/is in use by .*pid \d+.*Only one orchestrator may use a database at a time/s);
  });

  it('a corrupt database file, left as it was', () => {
    const p = project();
    writeFileSync(p.db, Buffer.alloc(8192, 0x5a));
    const result = serveOnce(['--project', p.root, '--db', p.db, '--port', '0', '--claude', SIM_CLAUDE]);
    expect(result.code).toBe(1);
    expect(result.output).toContain(p.db);
    expect(result.output).toMatch(/corrupt|not a (SQLite )?database/i);
    expect(readFileSync(p.db)).toEqual(Buffer.alloc(8192, 0x5a));
  });

  it('a port already in use', async () => {
    const p = project();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = serveOnce(['--project', p.root, '--db', p.db, '--port', String(port), '--claude', SIM_CLAUDE]);
      expect(result.code).toBe(1);
      expect(result.output).toContain(`Port ${port} is already in use on 127.0.0.1; pass --port to choose another`);
      // issue 12.8: refused before a new database file (or its token) is created and migrated
      expect(existsSync(p.db)).toBe(false);
      expect(existsSync(`${p.db}.token`)).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it('a project folder that does not exist', () => {
    const result = serveOnce(['--project', '/nonexistent/project', '--port', '0', '--claude', SIM_CLAUDE]);
    expect(result.code).toBe(1);
    expect(result.output).toContain('Project folder not found: /nonexistent/project');
  });

  it('a claude binary that cannot be found, naming how to install it', () => {
    const p = project();
    const result = serveOnce(['--project', p.root, '--db', p.db, '--port', '0'], { PATH: '/usr/bin:/bin' });
    expect(result.code).toBe(1);
    expect(result.output).toContain('Claude CLI not found');
    expect(result.output).toContain('npm install -g @anthropic-ai/claude-code');
  });

  it('the default database lives in the workflow dashboard folder, and the legacy CSV is imported once', async () => {
    const p = project();
    const first = await startServe(p.root, path.join(p.root, '_bmad/bmm/workflows/4-implementation/sprint-runner/dashboard/sprint-runner.db'));
    running.push(first);
    first.child.kill('SIGTERM');
    await first.exited;
    running.splice(0);
    const second = await startServe(p.root, path.join(p.root, '_bmad/bmm/workflows/4-implementation/sprint-runner/dashboard/sprint-runner.db'));
    running.push(second);
    const db = new Database(path.join(p.root, '_bmad/bmm/workflows/4-implementation/sprint-runner/dashboard/sprint-runner.db'), { readonly: true });
    try {
      const legacyLines = readFileSync(path.join(p.root, 'docs/sprint-runner.csv'), 'utf8').split('\n').filter((l) => l.trim()).length;
      expect((db.prepare('select count(*) as n from legacy_events').get() as { n: number }).n).toBe(legacyLines);
    } finally {
      db.close();
    }
  });
});
