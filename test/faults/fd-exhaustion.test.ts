// Failure classes: spawns that fail because serve itself ran out of fds (a real EMFILE under prlimit) are retried, never block a story.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { startServe, type ServeProcess } from '../support/serve-process.js';
import { waitFor } from '../support/wait.js';
import { expectIntactDatabase, expectNoProcessLeft, faultProject, referenceRun, removeAll, traceLines, waitForStatus } from './support.js';

const roots: string[] = [];
const held: Socket[] = [];
const serves: ServeProcess[] = [];
afterEach(async () => {
  for (const socket of held.splice(0)) socket.destroy();
  for (const serve of serves.splice(0)) {
    serve.child.kill('SIGTERM');
    await serve.exited;
  }
  removeAll(roots);
});

const fdsOf = (pid: number) => readdirSync(`/proc/${pid}/fd`).map(Number);

/** One idle TCP connection to serve, which holds one of its fds; false when serve dropped it. */
function hold(url: string): Promise<boolean> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(false));
    socket.on('connect', () => {
      // serve closes a connection it cannot keep at once; one that is still open after a moment is held
      setTimeout(() => {
        if (socket.destroyed || socket.readyState !== 'open') return resolve(false);
        held.push(socket);
        resolve(true);
      }, 60);
    });
  });
}

/**
 * The real fault: serve's own fd limit (prlimit), reached by idle connections another local process holds
 * open, leaving three free fds: enough to read a file or answer a request, too few for a spawn's pipes.
 */
async function exhaustFds(serve: ServeProcess, pid: number): Promise<void> {
  const limit = Math.max(...fdsOf(pid)) + 1 + 60;
  expect(spawnSync('prlimit', ['--pid', String(pid), `--nofile=${limit}:${limit}`]).status).toBe(0);
  // all at once, topped up until three are left: one at a time (60 ms each) could outlast the review it must overlap
  for (let want = limit - fdsOf(pid).length - 3; want > 0; want = limit - fdsOf(pid).length - 3) {
    const accepted = await Promise.all(Array.from({ length: want }, () => hold(serve.url)));
    if (accepted.includes(false)) throw new Error('serve refused a connection before its fds ran out');
  }
}

const emfileLines = (serve: ServeProcess) => serve.output().split('\n').filter((l) => l.includes('EMFILE'));

describe('a spawn that fails for a shortage of ours (EMFILE)', () => {
  const scenario = { commands: { 'code-review': ['slow:3000'] } };

  it('is retried with backoff, names the errno, blocks no story, and the batch completes once fds free up', async () => {
    const expected = await referenceRun(scenario, 2, roots);

    const p = faultProject(scenario, roots);
    const serve = await startServe(p.root, p.db, { SPRINT_SIM_TRACE: p.trace });
    serves.push(serve);
    onTestFailed(() => console.log(`serve output:\n${serve.output().slice(-4000)}\nfds: ${existsSync(`/proc/${pid}`) ? fdsOf(pid).length : 'serve has exited'}`));
    const pid = serve.child.pid!;
    await serve.api('/api/batch/start', { method: 'POST', body: { cycles: 2 } });
    await waitFor(() => traceLines(p.trace).some((l) => l.ev === 'start' && l.logged === 'code-review-1') || null, 'the first code review to start');

    await exhaustFds(serve, pid);

    const emfile = await waitFor(() => {
      const lines = emfileLines(serve);
      return lines.length >= 2 ? lines : null;
    }, 'two retries after EMFILE', 60_000);
    expect(emfile[0]).toMatch(/starting "[^"]*claude.mjs" failed with EMFILE \(this process has too many open files\).*trying again in 0\.5 s \(retry 1\)/);
    expect(emfile[1]).toMatch(/trying again in 1\.0 s \(retry 2\)/);
    expect(serve.output()).not.toContain('install the Claude Code CLI');

    for (const socket of held.splice(0)) socket.destroy();
    expect(await waitForStatus(serve, ['completed', 'error'], 'the batch to end')).toBe('completed');
    expect(p.sprintStatus()).toBe(expected);
    expect(p.sprintStatus()).not.toMatch(/:\s*blocked/);

    const db = new Database(p.db, { readonly: true });
    try {
      const commands = db.prepare('SELECT command, status, failure FROM commands').all() as { status: string }[];
      expect(commands.filter((c) => c.status !== 'ok')).toEqual([]);
      const errors = db.prepare("SELECT count(*) FROM events WHERE type = 'error'").pluck().get();
      expect(errors).toBe(0);
      const retries = db.prepare("SELECT count(*) FROM events WHERE type = 'command:progress' AND payload LIKE '%EMFILE%'").pluck().get() as number;
      expect(retries).toBeGreaterThanOrEqual(2);
    } finally {
      db.close();
    }
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    serves.splice(0);
    expectIntactDatabase(p.db);
    expectNoProcessLeft(p.trace);
  }, 180_000);

  it('a stop while it waits to retry ends the command as interrupted (not failed), and Resume completes the batch', async () => {
    const expected = await referenceRun(scenario, 2, roots);
    const p = faultProject(scenario, roots);
    const serve = await startServe(p.root, p.db, { SPRINT_SIM_TRACE: p.trace });
    serves.push(serve);
    const pid = serve.child.pid!;
    await serve.api('/api/batch/start', { method: 'POST', body: { cycles: 2 } });
    await waitFor(() => traceLines(p.trace).some((l) => l.ev === 'start' && l.logged === 'code-review-1') || null, 'the first code review to start');
    await exhaustFds(serve, pid);
    await waitFor(() => emfileLines(serve).length >= 1 || null, 'a retry after EMFILE', 60_000);

    const stopped = await serve.api<{ state: { status: string } }>('/api/batch/stop', { method: 'POST' });
    expect(stopped.body.state.status).toBe('stopped');
    for (const socket of held.splice(0)) socket.destroy();
    const db = new Database(p.db, { readonly: true });
    try {
      const notOk = db.prepare("SELECT command, status FROM commands WHERE status != 'ok'").all() as { status: string }[];
      expect(notOk.map((c) => c.status)).toEqual(['interrupted']);
    } finally {
      db.close();
    }

    expect((await serve.api('/api/batch/resume', { method: 'POST' })).status).toBe(200);
    expect(await waitForStatus(serve, ['completed', 'error'], 'the resumed batch')).toBe('completed');
    expect(p.sprintStatus()).toBe(expected);
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    serves.splice(0);
    expectIntactDatabase(p.db);
    expectNoProcessLeft(p.trace);
  }, 240_000);
});
