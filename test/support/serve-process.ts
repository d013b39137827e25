// Runs `sprint-runner serve` as a real child process (the built dist/cli.js) and talks to it over HTTP.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach } from 'vitest';
import { makeProject, REPO_ROOT, SIM_CLAUDE } from './scenario.js';
import { waitFor } from './wait.js';

export const BUILT_CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

export interface ServeProcess {
  child: ChildProcess;
  /** the server's base URL, without the token */
  url: string;
  /** the URL serve printed: with `?token=`, to open once in a browser */
  dashboardUrl: string;
  /** the token serve printed (null with --no-auth) */
  token: string | null;
  output(): string;
  api<T = unknown>(route: string, init?: { method?: string; body?: unknown }): Promise<{ status: number; body: T }>;
  /** resolves with the exit code or signal */
  exited: Promise<number | string | null>;
}

export async function startServe(root: string, dbFile: string, env: NodeJS.ProcessEnv = {}, port = 0, args: string[] = []): Promise<ServeProcess> {
  if (!existsSync(BUILT_CLI)) throw new Error(`${BUILT_CLI} is missing: run \`npm run build\` (npm test does)`);
  const child = spawn(process.execPath, [BUILT_CLI, 'serve', '--project', root, '--db', dbFile, '--port', String(port), '--claude', SIM_CLAUDE, ...args], {
    env: { ...process.env, SPRINT_SIM_PACE_MS: '0', IS_SANDBOX: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  let gone = false;
  void exited.then(() => (gone = true));
  const dashboardUrl = await waitFor(
    () => {
      if (gone) throw new Error(`serve exited early:\n${output}`);
      return /dashboard: (http:\/\/\S+)/.exec(output)?.[1];
    },
    'serve to print its URL',
    30_000,
  );
  const printed = new URL(dashboardUrl);
  const token = printed.searchParams.get('token');
  const url = printed.origin;
  return {
    child,
    url,
    dashboardUrl,
    token,
    output: () => output,
    exited,
    async api<T>(route: string, init: { method?: string; body?: unknown } = {}) {
      const method = init.method ?? 'GET';
      const response = await fetch(`${url}${route}`, {
        method,
        headers: { ...(token !== null ? { Authorization: `Bearer ${token}` } : {}), ...(method !== 'GET' ? { 'Content-Type': 'application/json' } : {}) },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      });
      return { status: response.status, body: (await response.json()) as T };
    },
  };
}

/** A TCP port that was free on 127.0.0.1 a moment ago, for a command that must be given one. */
/** What a stuck wait on a serve reports: what it waited for, the last status seen and what serve printed. */
export function stuckServe(serve: ServeProcess, what: string, last: string): Error {
  return new Error(`timed out waiting for ${what} (last status ${last || 'unknown'}); serve printed:\n${serve.output().slice(-4000)}`);
}

/** Polls GET /api/state until its status is one of `statuses`; the state then, or a stuckServe error. */
export async function waitForServeStatus<S extends { status: string }>(serve: ServeProcess, statuses: string[], what: string, timeoutMs: number): Promise<S> {
  let last = '';
  try {
    return await waitFor(
      async () => {
        const { body } = await serve.api<S>('/api/state');
        last = body.status;
        return statuses.includes(body.status) ? body : null;
      },
      what,
      timeoutMs,
    );
  } catch {
    // a batch that never ends is diagnosed from what serve printed, not from the timeout alone
    throw stuckServe(serve, what, last);
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Collects a started `sprint-runner`'s output and resolves once it prints its dashboard URL (rejects if it exits first). */
export async function dashboardOf(child: ChildProcess): Promise<{ url: string; output(): string; exited: Promise<number | string | null> }> {
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  // 'close': the output is complete by then, for the messages of failed expectations
  const exited = new Promise<number | string | null>((resolve) => child.on('close', (code, signal) => resolve(code ?? signal)));
  let gone = false;
  void exited.then(() => (gone = true));
  const url = await waitFor(() => {
    if (gone) throw new Error(`exited before serving:\n${output}`);
    return /dashboard: (http:\/\/\S+)/.exec(output)?.[1];
  }, 'the dashboard URL', 60_000);
  return { url, output: () => output, exited };
}

export interface ServedProject {
  root: string;
  db: string;
  /** where the simulated CLI writes its trace (SPRINT_SIM_TRACE) */
  trace: string;
}

/**
 * Demo projects and the serve processes on them for one test file: `project()` makes one, `serveOn()` serves it;
 * after each test every serve still in `running` is ended (SIGTERM) and every project removed.
 */
export function serveFixtures() {
  const running: ServeProcess[] = [];
  const roots: string[] = [];
  afterEach(async () => {
    for (const serve of running.splice(0)) {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
    for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
  });
  const project = (scenario: Record<string, unknown> = {}): ServedProject => {
    const root = makeProject({ scenario });
    roots.push(root);
    return { root, db: path.join(root, 'runner.db'), trace: path.join(root, '.sprint-sim', 'trace.jsonl') };
  };
  const serveOn = async (p: ServedProject, args: string[] = [], env: NodeJS.ProcessEnv = {}) => {
    const serve = await startServe(p.root, p.db, { SPRINT_SIM_TRACE: p.trace, ...env }, 0, args);
    running.push(serve);
    return serve;
  };
  return { running, project, serveOn };
}

/** `sprint-runner serve` run to its end (a start-up that must fail): its exit code and everything it printed. */
export function serveOnce(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [BUILT_CLI, 'serve', ...args], { env: { ...process.env, IS_SANDBOX: '1', ...env }, encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}
