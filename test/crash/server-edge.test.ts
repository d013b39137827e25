// Issue 12 at the server's edge, on a real `sprint-runner serve`: the token against other local users, Start on a stopped batch, ended task phases, the port and a read-only database.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { SIM_CLAUDE } from '../support/scenario.js';
import { serveFixtures, serveOnce, type ServedProject, type ServeProcess } from '../support/serve-process.js';
import { waitFor } from '../support/wait.js';

const fixtures = serveFixtures();
const { running, serveOn } = fixtures;
const immutable: string[] = [];
afterEach(() => {
  for (const file of immutable.splice(0)) spawnSync('chattr', ['-i', file]);
});

function project(scenario: Record<string, unknown> = {}) {
  const p = fixtures.project(scenario);
  // another local user must be able to reach the folder for the test to mean anything: only the token stops them
  chmodSync(p.root, 0o755);
  return p;
}

async function restart(serve: ServeProcess, p: ServedProject, signal: NodeJS.Signals = 'SIGTERM', env: NodeJS.ProcessEnv = {}) {
  serve.child.kill(signal);
  await serve.exited;
  running.splice(running.indexOf(serve), 1);
  return serveOn(p, [], env);
}

/** the simulated CLI writes a line every 60 ms, so a command stays inside a task phase long enough to be stopped there */
const PACED = { SPRINT_SIM_PACE_MS: '60' };

/** Waits until a command (the demo's first: code-review-1) is inside a task phase. */
const insidePhase = (serve: ServeProcess) =>
  waitFor(
    async () => (await serve.api<CommandRow[]>('/api/commands')).body.some((c) => c.status === 'running' && c.tasks.some((t) => t.status === 'running')) || null,
    'a command inside a task phase',
    60_000,
  );

const statusOf = async (serve: ServeProcess) => (await serve.api<{ status: string }>('/api/state')).body.status;

/** curl as another user: [status code, body] */
function curlAs(user: string, args: string[]): [number, string] {
  const result = spawnSync('runuser', ['-u', user, '--', 'curl', '-s', '-o', '-', '-w', '\n%{http_code}', ...args], { encoding: 'utf8' });
  const lines = result.stdout.split('\n');
  return [Number(lines.pop()), lines.join('\n')];
}

const asRoot = process.getuid?.() === 0;

describe('authentication (issue 12.5: any local user could start agents)', () => {
  it.runIf(asRoot)('another local user without the token gets 401 on the API, the WebSocket and the page, and starts nothing', async () => {
    expect(spawnSync('runuser', ['--help']).status).toBe(0);
    const p = project();
    const serve = await serveOn(p);
    const [start, startBody] = curlAs('nobody', ['-X', 'POST', '-H', 'Content-Type: application/json', '-d', '{"cycles":1}', `${serve.url}/api/batch/start`]);
    expect(start).toBe(401);
    expect(JSON.parse(startBody)).toMatchObject({ code: 'unauthorized', error: expect.stringContaining('open the dashboard URL') });
    expect(curlAs('nobody', [`${serve.url}/api/state`])[0]).toBe(401);
    const upgrade = curlAs('nobody', ['-H', 'Connection: Upgrade', '-H', 'Upgrade: websocket', '-H', 'Sec-WebSocket-Version: 13', '-H', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', `${serve.url}/ws`]);
    expect(upgrade[0]).toBe(401);
    const [page, html] = curlAs('nobody', [`${serve.url}/`]);
    expect(page).toBe(401);
    expect(html).toContain('Open the URL printed by');
    // a wrong token is no token, and the token file is out of their reach
    expect(curlAs('nobody', ['-H', `Authorization: Bearer ${'x'.repeat(43)}`, `${serve.url}/api/state`])[0]).toBe(401);
    const steal = spawnSync('runuser', ['-u', 'nobody', '--', 'cat', `${p.db}.token`], { encoding: 'utf8' });
    expect(steal.status).not.toBe(0);
    expect(steal.stderr).toMatch(/Permission denied/);
    // the same request with the token works, and nothing was started by the refused ones
    expect(curlAs('nobody', ['-H', `Authorization: Bearer ${serve.token}`, `${serve.url}/api/state`])[0]).toBe(200);
    expect(await statusOf(serve)).toBe('idle');
  });

  it('prints the token once in the dashboard URL; opening it sets an HttpOnly SameSite=Strict cookie and redirects to the clean URL', async () => {
    const serve = await serveOn(project());
    expect(serve.dashboardUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    expect(serve.output().split(serve.token!).length - 1).toBe(1);
    const opened = await fetch(serve.dashboardUrl, { redirect: 'manual' });
    expect(opened.status).toBe(303);
    expect(opened.headers.get('location')).toBe('/');
    const cookie = opened.headers.get('set-cookie')!;
    const port = new URL(serve.url).port;
    expect(cookie).toMatch(new RegExp(`^sprint-runner-token-${port}=${serve.token};`));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const pair = cookie.split(';')[0]!;
    expect((await fetch(`${serve.url}/api/state`, { headers: { Cookie: pair } })).status).toBe(200);
    expect((await fetch(`${serve.url}/api/state`)).status).toBe(401);
    // the token in a query string is only exchanged on a page, never taken by the API
    expect((await fetch(`${serve.url}/api/state?token=${serve.token}`)).status).toBe(401);
    const ws = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`${serve.url.replace('http', 'ws')}/ws`, { headers: { Cookie: pair } });
      socket.on('open', () => {
        socket.close();
        resolve(101);
      });
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    });
    expect(ws).toBe(101);
  });

  it('keeps the token owner-only beside the database, so a restarted serve accepts the cookie an open tab holds', async () => {
    const p = project();
    const first = await serveOn(p);
    const file = `${p.db}.token`;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.token);
    const second = await restart(first, p);
    expect(second.token).toBe(first.token);
    // a token file others can read is no secret: it is replaced
    chmodSync(file, 0o644);
    const third = await restart(second, p);
    expect(third.token).not.toBe(first.token);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('--no-auth serves without a token, for those behind their own proxy', async () => {
    const p = project();
    const serve = await serveOn(p, ['--no-auth']);
    expect(serve.token).toBeNull();
    expect(serve.dashboardUrl).toBe(serve.url);
    expect((await fetch(`${serve.url}/api/state`)).status).toBe(200);
    expect(existsSync(`${p.db}.token`)).toBe(false);
    // the browser-facing checks stay on
    const rebinding = spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Host: evil.example', `${serve.url}/api/state`], { encoding: 'utf8' });
    expect(rebinding.stdout).toBe('403');
  });
});

interface CommandRow {
  id: number;
  command: string;
  status: string;
  tasks: { taskId: string; status: string; endedAt: string | null }[];
}

describe('Start on a stopped batch (issue 12.7), and the task phases of ended commands', () => {
  it('after a restart, Start answers 409 resumable-batch naming the batch; Resume still goes on; interrupted phases are ended', async () => {
    const p = project();
    const first = await serveOn(p, [], PACED);
    await first.api('/api/batch/start', { method: 'POST', body: { cycles: 1 } });
    await insidePhase(first);
    // the same in this process and after a restart
    await first.api('/api/batch/stop', { method: 'POST' });
    const sameProcess = await first.api<{ code: string; batchId: number }>('/api/batch/start', { method: 'POST', body: { cycles: 1 } });
    expect(sameProcess).toEqual({ status: 409, body: { code: 'resumable-batch', batchId: 1, error: 'batch 1 is stopped: resume it, or discard it and start a new batch' } });
    const second = await restart(first, p, 'SIGTERM');
    expect(await statusOf(second)).toBe('stopped');
    const refused = await second.api<{ code: string; batchId: number; error: string }>('/api/batch/start', { method: 'POST', body: { cycles: 1 } });
    expect(refused).toEqual({ status: 409, body: { code: 'resumable-batch', batchId: 1, error: 'batch 1 is stopped: resume it, or discard it and start a new batch' } });
    expect((await second.api<{ id: number }[]>('/api/batches')).body).toHaveLength(1);

    // no phase of the interrupted command is left running; each was ended at the command's end
    const commands = (await second.api<CommandRow[]>('/api/commands')).body;
    const interrupted = commands.find((c) => c.status === 'interrupted')!;
    expect(interrupted.tasks.length).toBeGreaterThan(0);
    expect(interrupted.tasks.filter((t) => t.status === 'running')).toEqual([]);
    expect(interrupted.tasks.some((t) => t.status === 'interrupted' && t.endedAt !== null)).toBe(true);

    expect((await second.api('/api/batch/resume', { method: 'POST' })).status).toBe(200);
    await waitFor(async () => (await statusOf(second)) === 'completed' || null, 'the resumed batch', 60_000);
  });

  it('discard: true records the old batch abandoned and starts a new one; a crash ends the open phases as interrupted', async () => {
    const p = project();
    const first = await serveOn(p, [], PACED);
    await first.api('/api/batch/start', { method: 'POST', body: { cycles: 1 } });
    await insidePhase(first);
    const second = await restart(first, p, 'SIGKILL');
    expect(await statusOf(second)).toBe('interrupted');
    const commands = (await second.api<CommandRow[]>('/api/commands')).body;
    expect(commands.flatMap((c) => c.tasks).filter((t) => t.status === 'running')).toEqual([]);
    expect(commands.find((c) => c.status === 'interrupted')!.tasks.some((t) => t.status === 'interrupted')).toBe(true);

    expect((await second.api<{ code: string }>('/api/batch/start', { method: 'POST', body: { cycles: 1 } })).body.code).toBe('resumable-batch');
    const started = await second.api<{ state: { batch: { id: number } } }>('/api/batch/start', { method: 'POST', body: { cycles: 1, discard: true } });
    expect(started.status).toBe(200);
    expect(started.body.state.batch.id).toBe(2);
    const batches = (await second.api<{ id: number; status: string; endedAt: string | null; message: string | null }[]>('/api/batches')).body;
    expect(batches.find((b) => b.id === 1)).toMatchObject({ status: 'abandoned', endedAt: expect.any(String), message: expect.stringContaining('discarded') });
    await waitFor(async () => (await statusOf(second)) === 'completed' || null, 'the new batch', 60_000);
    expect((await second.api<{ code: string }>('/api/batch/resume', { method: 'POST' })).body.code).toBe('nothing-to-resume');
    const db = new Database(p.db, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  });
});

describe('a failed command (issue 12.7: its open phase stayed running for ever)', () => {
  it('ends the phase it was in as failed, at the end time of the command', async () => {
    const p = project({ commands: { 'code-review': ['crash', 'ok'] } });
    const serve = await serveOn(p);
    await serve.api('/api/batch/start', { method: 'POST', body: { cycles: 1 } });
    await waitFor(async () => (await statusOf(serve)) === 'completed' || null, 'the batch', 60_000);
    const commands = (await serve.api<(CommandRow & { endedAt: string })[]>('/api/commands')).body;
    const failed = commands.find((c) => c.command === 'code-review-1' && c.status === 'failed')!;
    expect(failed.tasks.length).toBeGreaterThan(0);
    expect(failed.tasks.filter((t) => t.status === 'running')).toEqual([]);
    expect(failed.tasks.filter((t) => t.status === 'failed').map((t) => t.endedAt)).toEqual([failed.endedAt]);
    expect(commands.flatMap((c) => c.tasks).filter((t) => t.status === 'running')).toEqual([]);
  });
});

describe('start-up faults (issue 12.8; the port in use: serve-api.test.ts)', () => {
  it.runIf(asRoot)('a read-only database names the file and says read-only, and leaves it as it was', async () => {
    const p = project();
    const first = await serveOn(p);
    first.child.kill('SIGTERM');
    await first.exited;
    running.splice(0);
    const before = readFileSync(p.db);
    expect(spawnSync('chattr', ['+i', p.db]).status).toBe(0);
    immutable.push(p.db);
    const result = serveOnce(['--project', p.root, '--db', p.db, '--port', '0', '--claude', SIM_CLAUDE]);
    expect(result.code).toBe(1);
    expect(result.output).toContain(p.db);
    expect(result.output).toMatch(/read-only/);
    expect(result.output).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(readFileSync(p.db)).toEqual(before);
  });
});
