// Checks /proc parsing and that killTree ends whole trees, including re-parented and signal-ignoring members,
// over the process table chosen for this run (SPRINT_RUNNER_PROCESS_TABLE=ps runs it all over `ps`).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  isAlive,
  killTree,
  listDescendants,
  ProcessTreeTracker,
  readProcessStartTime,
} from '../../machines/claude/process-tree.js';
import { parseStatLine, psTable } from '../../machines/claude/process-table.js';
import { waitFor } from '../support/wait.js';

const TREE_SCRIPT = fileURLToPath(new URL('./bin/tree.mjs', import.meta.url));

let dir: string;
const started: number[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'process-tree-'));
});

afterEach(() => {
  // whatever a failed test left behind
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});


function readRoles(pidFile: string): Map<string, number> {
  if (!existsSync(pidFile)) return new Map();
  return new Map(
    readFileSync(pidFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        const [role, pid] = l.split(' ');
        return [role!, Number(pid)] as const;
      }),
  );
}

function startTree(role: string, pidFile: string, detached = true): ChildProcess {
  const child = spawn(process.execPath, [TREE_SCRIPT, role, pidFile], { stdio: 'ignore', detached });
  started.push(child.pid!);
  return child;
}

describe('parseStatLine', () => {
  const tail = 'S 100 200 300 0 -1 4194304 99 0 0 0 0 0 0 0 20 0 1 0 37867 3133440 379';
  const rows: Array<[string, string, number]> = [
    ['plain', `42 (bash) ${tail}`, 42],
    ['comm with spaces', `42 (my prog) ${tail}`, 42],
    ['comm with parentheses', `42 (a) b (c)) ${tail}`, 42],
    ['comm that looks like fields', `42 (x) S 1 2 3) ${tail}`, 42],
  ];
  for (const [name, text, pid] of rows) {
    it(name, () => {
      const stat = parseStatLine(text);
      expect(stat).toMatchObject({ pid, state: 'S', ppid: 100, pgid: 200, sid: 300, startTime: 37867 });
    });
  }
  it('keeps the comm whole', () => {
    expect(parseStatLine(`42 (a) b (c)) ${tail}`)?.comm).toBe('a) b (c)');
  });
  it('rejects text without fields', () => {
    expect(parseStatLine('')).toBeNull();
    expect(parseStatLine('42 (x)')).toBeNull();
    expect(parseStatLine('garbage')).toBeNull();
  });
});

describe('reading the process table', () => {
  it('reads the start time of a process whose name has spaces and parentheses', async () => {
    const link = join(dir, 'sl) e (ep');
    symlinkSync('/bin/sleep', link);
    const child = spawn(link, ['30'], { stdio: 'ignore' });
    started.push(child.pid!);
    await waitFor(() => readFileSync(`/proc/${child.pid}/stat`, 'utf8').includes('(sl) e (ep)'));
    const startTime = readProcessStartTime(child.pid!);
    expect(startTime).toBeGreaterThan(0);
    expect(isAlive(child.pid!, startTime!)).toBe(true);
    expect(isAlive(child.pid!, startTime! + 1)).toBe(false);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    expect(isAlive(child.pid!)).toBe(false);
  });

  it('answers null / false for pids that do not exist', () => {
    expect(readProcessStartTime(0)).toBeNull();
    expect(readProcessStartTime(-5)).toBeNull();
    expect(readProcessStartTime(2 ** 30)).toBeNull();
    expect(isAlive(2 ** 30)).toBe(false);
    expect(listDescendants(2 ** 30)).toEqual([]);
  });

  it('lists children and grandchildren, including one in its own session', async () => {
    const pidFile = join(dir, 'pids');
    const root = startTree('root', pidFile);
    const roles = await waitFor(() => {
      const r = readRoles(pidFile);
      return r.size === 3 ? r : null;
    });
    started.push(roles.get('middle')!, roles.get('deaf-to-sigint')!);
    const descendants = listDescendants(root.pid!);
    expect(descendants).toContain(roles.get('middle'));
    expect(descendants).toContain(roles.get('deaf-to-sigint'));
    expect(descendants).not.toContain(root.pid);
    await killTree(root.pid!, { intMs: 200, termMs: 200, killMs: 1000 });
  });
});

describe('killTree', () => {
  it('ends a tree whose grandchild ignores SIGINT and is re-parented when its parent dies', async () => {
    const pidFile = join(dir, 'pids');
    const root = startTree('root', pidFile);
    const roles = await waitFor(() => {
      const r = readRoles(pidFile);
      return r.size === 3 ? r : null;
    });
    const pids = [...roles.values()];
    started.push(...pids);
    const startTimes = pids.map((pid) => readProcessStartTime(pid)!);
    const allGone = await killTree(root.pid!, { intMs: 300, termMs: 1000, killMs: 1000 });
    expect(allGone).toBe(true);
    pids.forEach((pid, i) => expect(isAlive(pid, startTimes[i]), `pid ${pid} still alive`).toBe(false));
  });

  it('escalates to SIGKILL for a process that ignores SIGINT and SIGTERM', async () => {
    const pidFile = join(dir, 'pids');
    const child = startTree('stubborn', pidFile);
    await waitFor(() => readRoles(pidFile).size === 1);
    const startTime = readProcessStartTime(child.pid!)!;
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    expect(await killTree(child.pid!, { intMs: 100, termMs: 100, killMs: 2000 })).toBe(true);
    expect(await exited).toBe('SIGKILL');
    expect(isAlive(child.pid!, startTime)).toBe(false);
  });

  it('ends processes it was told about even after their parent is gone', async () => {
    const sleeper = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    started.push(sleeper.pid!);
    const startTime = readProcessStartTime(sleeper.pid!)!;
    const tracker = new ProcessTreeTracker(null, [[sleeper.pid!, startTime]]);
    expect(tracker.alive()).toEqual([[sleeper.pid!, startTime]]);
    // the root pid here does not exist: only the known set is left to end
    expect(await killTree(2 ** 30, { known: tracker.snapshot(), intMs: 500 })).toBe(true);
    expect(isAlive(sleeper.pid!, startTime)).toBe(false);
  });

  it('resolves at once for a pid that is already gone', async () => {
    expect(await killTree(2 ** 30)).toBe(true);
  });

  it('never signals a stranger that took a known pid: a wrong start time is ignored', async () => {
    const sleeper = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    started.push(sleeper.pid!);
    const realStart = readProcessStartTime(sleeper.pid!)!;
    expect(await killTree(2 ** 30, { known: [[sleeper.pid!, realStart - 1]], intMs: 100, termMs: 100, killMs: 100 })).toBe(true);
    expect(isAlive(sleeper.pid!, realStart)).toBe(true);
    sleeper.kill('SIGKILL');
  });
});

describe('with the ps backend (as on macOS)', () => {
  it('a grandchild that left for its own session and was re-parented is still found and ended', async () => {
    const table = psTable();
    const pidFile = join(dir, 'pids');
    const root = startTree('root', pidFile);
    const roles = await waitFor(() => {
      const r = readRoles(pidFile);
      return r.size === 3 ? r : null;
    });
    const [middle, grandchild] = [roles.get('middle')!, roles.get('deaf-to-sigint')!];
    started.push(middle, grandchild);
    // the tracker sees it under its parent while the tree is whole, as the periodic scans do
    const tracker = new ProcessTreeTracker(root.pid!, [], table);
    expect(await tracker.scan()).toBe(true);
    const grandchildStart = tracker.startTimeOf(grandchild)!;
    expect(grandchildStart).toBe(table.get(grandchild)!.startTime);
    // its parent dies: it is re-parented away from the tree, and it is in a session and group of its own
    process.kill(middle, 'SIGKILL');
    await waitFor(() => table.get(grandchild)!.ppid !== middle, 'the grandchild to be re-parented');
    expect(listDescendants(root.pid!, table.snapshot())).not.toContain(grandchild);
    expect(table.get(grandchild)!.pgid).toBe(grandchild);
    expect(readFileSync(`/proc/${grandchild}/stat`, 'utf8').split(') ')[1]!.split(' ')[3]).toBe(String(grandchild)); // sid

    expect(await killTree(root.pid!, { known: tracker.snapshot(), table, intMs: 300, termMs: 1000, killMs: 1000 })).toBe(true);
    expect(isAlive(grandchild, grandchildStart, table)).toBe(false);
    expect(isAlive(root.pid!, undefined, table)).toBe(false);
  });
});
