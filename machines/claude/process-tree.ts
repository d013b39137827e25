// Finds and ends a child's whole process tree through Linux /proc, including shells that left its group.
import { existsSync, readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  /** kernel command name; may contain spaces and parentheses */
  comm: string;
  state: string;
  ppid: number;
  pgid: number;
  sid: number;
  /** field 22: clock ticks after boot; with the pid it names one process for good */
  startTime: number;
}

/** Parses the text of /proc/<pid>/stat. The comm field is cut at the LAST ')' since it may hold ')' itself. */
export function parseStatLine(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open === -1 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  // after ") " come fields 3 (state), 4 (ppid), 5 (pgrp), 6 (session), ... 22 (starttime)
  const rest = text.slice(close + 2).trim().split(/\s+/);
  const state = rest[0];
  const ppid = Number(rest[1]);
  const pgid = Number(rest[2]);
  const sid = Number(rest[3]);
  const startTime = Number(rest[22 - 3]);
  if (state === undefined || ![pid, ppid, pgid, sid, startTime].every(Number.isInteger)) return null;
  return { pid, comm: text.slice(open + 1, close), state, ppid, pgid, sid, startTime };
}

export function readProcStat(pid: number): ProcStat | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    return parseStatLine(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

export function readProcessStartTime(pid: number): number | null {
  return readProcStat(pid)?.startTime ?? null;
}

/**
 * True while the process runs; a zombie counts as gone (it can do nothing, and in a container PID 1 may
 * never reap it). With `startTime`, a different process that reuses the pid is not mistaken for it.
 */
export function isAlive(pid: number, startTime?: number): boolean {
  const stat = readProcStat(pid);
  if (stat === null || stat.state === 'Z' || stat.state === 'X' || stat.state === 'x') return false;
  return startTime === undefined || stat.startTime === startTime;
}

let childrenFilesAvailable: boolean | undefined;

function canReadChildrenFiles(): boolean {
  // /proc/<pid>/task/<tid>/children needs CONFIG_PROC_CHILDREN; probe once.
  childrenFilesAvailable ??= existsSync(`/proc/${process.pid}/task/${process.pid}/children`);
  return childrenFilesAvailable;
}

function childrenFromTaskFiles(pid: number): number[] {
  const children: number[] = [];
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return children;
  }
  for (const tid of tids) {
    try {
      for (const field of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(/\s+/)) {
        if (field !== '') children.push(Number(field));
      }
    } catch {
      // the thread ended while we looked
    }
  }
  return children;
}

/** ppid → children for every process, from one pass over /proc/*\/stat. */
function childrenMapFromStatScan(): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (const stat of scanAllProcesses()) {
    const list = map.get(stat.ppid);
    if (list) list.push(stat.pid);
    else map.set(stat.ppid, [stat.pid]);
  }
  return map;
}

export function scanAllProcesses(): ProcStat[] {
  const stats: ProcStat[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return stats;
  }
  for (const entry of entries) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat) stats.push(stat);
  }
  return stats;
}

/** Every live descendant of `pid` (not `pid` itself), parents before children. */
export function listDescendants(pid: number): number[] {
  const found: number[] = [];
  const seen = new Set<number>([pid]);
  const statScan = canReadChildrenFiles() ? null : childrenMapFromStatScan();
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    const children = statScan ? statScan.get(parent) ?? [] : childrenFromTaskFiles(parent);
    for (const child of children) {
      if (seen.has(child)) continue;
      seen.add(child);
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/**
 * Remembers every process seen under a root, keyed by pid with its start time, so a shell that was
 * re-parented to PID 1 or moved to its own session is still known after its parent died.
 */
export class ProcessTreeTracker {
  private readonly known = new Map<number, number>();

  /**
   * `rootPid` is walked only if it is alive now (it is then remembered with its start time); pass null
   * to track just `initial`, e.g. after the root was reaped and its pid may belong to a stranger.
   */
  constructor(
    readonly rootPid: number | null,
    initial: Iterable<readonly [number, number]> = [],
  ) {
    if (rootPid !== null) {
      const rootStart = readProcessStartTime(rootPid);
      if (rootStart !== null) this.remember(rootPid, rootStart);
    }
    for (const [pid, startTime] of initial) this.remember(pid, startTime);
  }

  /**
   * Adds the current descendants of every known process still alive and forgets the dead. Walking from
   * each survivor is what finds children of shells that were re-parented away from the root.
   */
  scan(): void {
    const walked = new Set<number>();
    for (const [pid, startTime] of [...this.known]) {
      if (walked.has(pid)) continue;
      if (!isAlive(pid, startTime)) {
        this.known.delete(pid);
        continue;
      }
      for (const child of listDescendants(pid)) {
        walked.add(child);
        if (this.known.has(child)) continue;
        const childStart = readProcessStartTime(child);
        if (childStart !== null) this.remember(child, childStart);
      }
    }
  }

  /**
   * Adds processes still in the root's session or process group. Valid even after the root was reaped:
   * the kernel does not hand out a pid while a session or group of that id exists.
   */
  scanSessionAndGroup(): void {
    if (this.rootPid === null) return;
    for (const stat of scanAllProcesses()) {
      if (stat.state === 'Z') continue;
      if (stat.sid === this.rootPid || stat.pgid === this.rootPid) this.remember(stat.pid, stat.startTime);
    }
  }

  /** pid → start time of every known process that was alive at the last scan. */
  snapshot(): Map<number, number> {
    return new Map(this.known);
  }

  alive(): Array<[number, number]> {
    return [...this.known].filter(([pid, startTime]) => isAlive(pid, startTime));
  }

  private remember(pid: number, startTime: number): void {
    if (pid === process.pid || pid <= 1) return;
    if (!this.known.has(pid)) this.known.set(pid, startTime);
  }
}

export interface KillTreeOptions {
  /** ms to wait after SIGINT before SIGTERM (default 2000) */
  intMs?: number;
  /** ms to wait after SIGTERM before SIGKILL (default 2000) */
  termMs?: number;
  /** ms to wait after SIGKILL before giving up (default 2000) */
  killMs?: number;
  /** ms between liveness checks (default 50) */
  pollMs?: number;
  /** processes already known to belong to the tree (pid, start time), e.g. from a ProcessTreeTracker */
  known?: Iterable<readonly [number, number]>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function ownProcessGroup(): number | null {
  return readProcStat(process.pid)?.pgid ?? null;
}

function sendSignal(target: number, signal: NodeJS.Signals): void {
  try {
    process.kill(target, signal);
  } catch {
    // ESRCH: already gone; EPERM: not ours to end. Neither may stop the escalation.
  }
}

/**
 * Ends `rootPid` and every descendant: SIGINT, then SIGTERM, then SIGKILL, each sent to the process groups
 * of the known processes and to every known pid. The tree is snapshotted before the first signal and
 * re-scanned between signals, so processes re-parented meanwhile are still ended. Resolves true once all
 * known processes are gone, false when some survived SIGKILL (e.g. stuck in uninterruptible sleep).
 */
export function killTree(rootPid: number, opts: KillTreeOptions = {}): Promise<boolean> {
  return escalate(new ProcessTreeTracker(rootPid, opts.known ?? []), opts);
}

/** Like killTree, for processes whose root is already gone (e.g. what a CLI left behind after exiting). */
export function killProcesses(known: Iterable<readonly [number, number]>, opts: Omit<KillTreeOptions, 'known'> = {}): Promise<boolean> {
  return escalate(new ProcessTreeTracker(null, known), opts);
}

async function escalate(tracker: ProcessTreeTracker, opts: KillTreeOptions): Promise<boolean> {
  const pollMs = opts.pollMs ?? 50;
  const ownGroup = ownProcessGroup();
  const steps: Array<[NodeJS.Signals, number]> = [
    ['SIGINT', opts.intMs ?? 2000],
    ['SIGTERM', opts.termMs ?? 2000],
    ['SIGKILL', opts.killMs ?? 2000],
  ];
  for (const [signal, waitMs] of steps) {
    tracker.scan();
    const alive = tracker.alive();
    if (alive.length === 0) return true;
    // A group is signalled only while one of our own (start-time checked) processes is in it, so a pgid
    // that was freed and reused by a stranger is never hit.
    const groups = new Set<number>();
    for (const [pid] of alive) {
      const pgid = readProcStat(pid)?.pgid;
      if (pgid !== undefined && pgid > 1 && pgid !== ownGroup) groups.add(pgid);
    }
    for (const pgid of groups) sendSignal(-pgid, signal);
    for (const [pid, startTime] of alive) {
      if (isAlive(pid, startTime)) sendSignal(pid, signal);
    }
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
      tracker.scan();
      if (tracker.alive().length === 0) return true;
    }
  }
  return tracker.alive().length === 0;
}
