// Helpers of the bench: a project copy with one story in review, `serve` processes, a WebSocket client, /proc readings.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { packageRoot } from '../cli.js';

export const now = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const ROOT = packageRoot();
export const CLI = path.join(ROOT, 'dist', 'cli.js');
export const STREAM_CHILD = path.join(ROOT, 'bench', 'stream-child.mjs');
export const SERVE_HOST = path.join(ROOT, 'dist', 'bench', 'serve-host.js');
export const STATIC_DIR = path.join(ROOT, 'web', 'dist');

export interface ChildConfig {
  mode: 'stream' | 'hang';
  lines?: number;
  rate?: number;
  noise?: 0 | 1;
  delayMs?: number;
  trace?: string;
}

export interface Project {
  root: string;
  db: string;
  /** the stream child's behaviour file (BENCH_CHILD_CONFIG) */
  configFile: string;
  traceFile: string;
  /** puts story 1-3 back in `review`, so the next batch runs one code-review and one batch-commit again */
  reset(): void;
  configure(config: ChildConfig): void;
}

const SPRINT_STATUS = 'development_status:\n  epic-1: in-progress\n  1-1-project-scaffold: done\n  1-2-config-loader: done\n  1-3-session-scanner: review\n  epic-1-retrospective: optional\n';

/** A copy of fixtures/demo-project whose sprint-status holds exactly one story, in `review`. */
export function makeProject(): Project {
  const root = mkdtempSync(path.join(tmpdir(), 'sprint-runner-bench-'));
  cpSync(path.join(ROOT, 'fixtures', 'demo-project'), root, { recursive: true });
  const statusFile = path.join(root, '_bmad-output', 'implementation-artifacts', 'sprint-status.yaml');
  const header = readFileSync(statusFile, 'utf8').split('development_status:')[0]!;
  const configFile = path.join(root, 'bench-child.json');
  const traceFile = path.join(root, 'bench-trace.jsonl');
  const project: Project = {
    root,
    db: path.join(root, 'bench.db'),
    configFile,
    traceFile,
    reset: () => writeFileSync(statusFile, header + SPRINT_STATUS),
    configure: (config) => writeFileSync(configFile, JSON.stringify({ trace: traceFile, ...config })),
  };
  project.reset();
  project.configure({ mode: 'stream', lines: 10, rate: 0 });
  return project;
}

export interface TraceRecord {
  pid: number;
  ev: 'start' | 'end';
  command?: string;
  mode?: string;
  t: number;
  tOrigin?: number;
}

export function readTrace(project: Project): TraceRecord[] {
  if (!existsSync(project.traceFile)) return [];
  return readFileSync(project.traceFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TraceRecord);
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export function childEnv(project: Project): NodeJS.ProcessEnv {
  // IS_SANDBOX: the runner's root check for bypassPermissions (the bench may run as root in a container)
  return { ...process.env, BENCH_CHILD_CONFIG: project.configFile, IS_SANDBOX: '1' };
}

export interface ServeChild {
  child: ChildProcess;
  pid: number;
  url: string;
  /** epoch ms just before spawn() */
  spawnedAt: number;
  exited: Promise<number | string | null>;
  tail(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** `node dist/cli.js serve` as a child (without the token: the bench is a trusted client); its stdout (the terminal log) is drained, its last 8 KB kept. */
export function spawnCliServe(project: Project, port: number, extraArgs: string[] = [], nodeArgs: string[] = []): ServeChild & { ready: Promise<void> } {
  const spawnedAt = now();
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'serve', '--project', project.root, '--db', project.db, '--port', String(port), '--claude', STREAM_CHILD, '--no-auth', ...extraArgs], {
    env: childEnv(project),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > 16_384) out = out.slice(-8192);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  const url = `http://127.0.0.1:${port}`;
  const handle = {
    child,
    pid: child.pid!,
    url,
    spawnedAt,
    exited,
    tail: () => out,
    kill: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
  let gone = false;
  void exited.then(() => (gone = true));
  const ready = (async () => {
    for (;;) {
      if (gone) throw new Error(`serve exited early:\n${out}`);
      if (/dashboard: http/.test(out)) return;
      await sleep(20);
    }
  })();
  return { ...handle, ready };
}

/** The in-process `serve()` of bench/serve-host.ts, in its own process, measuring store-commit latency itself. */
export interface HostServe extends ServeChild {
  request<T>(message: { type: string }): Promise<T>;
}

export async function spawnHostServe(project: Project, nodeArgs: string[] = []): Promise<HostServe> {
  const spawnedAt = now();
  const child = spawn(process.execPath, [...nodeArgs, SERVE_HOST, JSON.stringify({ projectRoot: project.root, dbFile: project.db, claudeBin: STREAM_CHILD, staticDir: STATIC_DIR })], {
    env: childEnv(project),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let out = '';
  const keep = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > 16_384) out = out.slice(-8192);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  const waiting = new Map<string, (value: unknown) => void>();
  child.on('message', (message: { type: string; [key: string]: unknown }) => {
    const wake = waiting.get(message.type);
    waiting.delete(message.type);
    wake?.(message);
  });
  const next = <T>(type: string) =>
    new Promise<T>((resolve, reject) => {
      waiting.set(type, resolve as (value: unknown) => void);
      void exited.then((code) => reject(new Error(`serve-host exited (${code}) while waiting for ${type}:\n${out}`)));
    });
  const ready = await next<{ url: string }>('ready');
  return {
    child,
    pid: child.pid!,
    url: ready.url,
    spawnedAt,
    exited,
    tail: () => out,
    kill: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    request<T>(message: { type: string }) {
      const reply = next<T>(message.type);
      child.send(message);
      return reply;
    },
  };
}

export async function api<T = unknown>(url: string, route: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${url}${route}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } } : {}),
  });
  return { status: response.status, body: (await response.json()) as T };
}

export interface WireEvent {
  id: number;
  type: string;
  ts: number;
  payload: any;
}

/** A `ws` client of /ws, stamping each message on arrival (before parsing). */
export class WsClient {
  readonly socket: WebSocket;
  readonly opened: Promise<void>;
  private listeners: ((event: WireEvent, at: number) => void)[] = [];

  constructor(url: string, after: number) {
    this.socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws?after=${after}`);
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('message', (data) => {
      const at = now();
      for (const event of JSON.parse(data.toString()) as WireEvent[]) for (const listener of this.listeners) listener(event, at);
    });
  }

  on(listener: (event: WireEvent, at: number) => void): void {
    this.listeners.push(listener);
  }

  /** resolves with the arrival time of the first event that matches; rejects when the socket closes first */
  waitFor(match: (event: WireEvent) => boolean, timeoutMs: number, what: string): Promise<{ event: WireEvent; at: number }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      this.socket.once('close', (code, reason) => {
        clearTimeout(timer);
        reject(new Error(`the WebSocket closed (${code} ${reason.toString()}) while waiting for ${what}`));
      });
      this.on((event, at) => {
        if (match(event)) {
          clearTimeout(timer);
          resolve({ event, at });
        }
      });
    });
  }

  close(): void {
    this.socket.close();
  }
}

/** The carried send time of a task event, or null for any other event. */
export function sentAt(event: { type: string; payload: any }): number | null {
  if (event.type !== 'command:progress' || event.payload?.kind !== 'task') return null;
  const t = Number(event.payload.task?.message);
  return Number.isFinite(t) && t > 1e12 ? t : null;
}

export const isBatchEnd = (event: { type: string }) => event.type === 'batch:end';

// ------------------------------------------------------------------------------------------------ /proc

let ticks: number | null = null;
export function clockTicks(): number {
  if (ticks === null) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** utime + stime of a process (all its threads), or of one of its threads, in ms. */
export function cpuMs(pid: number, tid?: number): number {
  const text = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks();
}

/** VmRSS and VmHWM (peak) of a process, in MB. */
export function memoryMb(pid: number): { rss: number; hwm: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

export function cpuModel(): string {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const model = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? 'unknown';
    const cpus = (info.match(/^processor\s*:/gm) ?? []).length;
    return `${model} × ${cpus}`;
  } catch {
    return 'unknown';
  }
}

export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'unknown';
  }
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
