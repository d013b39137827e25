// Finds and ends a child's whole process tree, including shells that left its group, over the process table.
import { processTable, ProcessTableError, type ProcessEntry, type ProcessSnapshot, type ProcessTable } from './process-table.js';

/** A process's entry in the table, or null when there is none (throws ProcessTableError when unreadable). */
export function readProcess(pid: number, table: ProcessTable = processTable()): ProcessEntry | null {
  return table.get(pid);
}

/** The start time in the table's unit (see ProcessEntry.startTime), or null when there is no such process. */
export function readProcessStartTime(pid: number, table: ProcessTable = processTable()): number | null {
  return table.get(pid)?.startTime ?? null;
}

const running = (entry: ProcessEntry | null, startTime?: number): boolean =>
  entry !== null && !entry.zombie && (startTime === undefined || entry.startTime === startTime);

/**
 * True while the process runs; a zombie counts as gone (it can do nothing, and in a container PID 1 may
 * never reap it). With `startTime`, a different process that reuses the pid is not mistaken for it.
 */
export function isAlive(pid: number, startTime?: number, table: ProcessTable = processTable()): boolean {
  return running(table.get(pid), startTime);
}

/** Every live descendant of `pid` (not `pid` itself), parents before children. */
export function listDescendants(pid: number, view: ProcessSnapshot = processTable().snapshot()): number[] {
  const found: number[] = [];
  const seen = new Set<number>([pid]);
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const child of view.children(parent)) {
      if (seen.has(child)) continue;
      seen.add(child);
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

const MAX_OVERLAPPING_SCANS = 2;

/**
 * Remembers every process seen under a root, keyed by pid with its start time, so a shell that was
 * re-parented to PID 1 or moved to its own session is still known after its parent died.
 */
export class ProcessTreeTracker {
  private readonly known = new Map<number, number>();
  /** why the last scan() could not read the table (null after one that could); killTree throws instead */
  lastError: ProcessTableError | null = null;

  /**
   * `rootPid` is walked only if it is alive now (it is then remembered with its start time); pass null
   * to track just `initial`, e.g. after the root was reaped and its pid may belong to a stranger.
   * `table` defaults to the one chosen for this process.
   */
  constructor(
    readonly rootPid: number | null,
    initial: Iterable<readonly [number, number]> = [],
    private readonly explicitTable?: ProcessTable,
  ) {
    for (const [pid, startTime] of initial) this.remember(pid, startTime);
    if (rootPid !== null) {
      // never throws: a tracker is made right after a spawn, and killTree reads the root again anyway
      try {
        const rootStart = readProcessStartTime(rootPid, this.table);
        if (rootStart !== null) this.remember(rootPid, rootStart);
      } catch (error) {
        if (!(error instanceof ProcessTableError)) throw error;
        this.lastError = error;
      }
    }
  }

  get table(): ProcessTable {
    return this.explicitTable ?? processTable();
  }

  /**
   * Adds the current descendants of every known process still alive and forgets the dead. Walking from
   * each survivor is what finds children of shells that were re-parented away from the root. Made to be
   * polled without blocking (ps runs asynchronously) and never rejects: a read of the table that fails is
   * kept in lastError and retried at the next call. Resolves whether the table could be read.
   */
  scan(): Promise<boolean> {
    // A slow `ps` (a loaded machine) must not thin out the samples: a job that lives a few hundred ms under
    // a shell is only ever seen by a sample taken in that time. Two reads may overlap; more share the last.
    if (this.scanning.length >= MAX_OVERLAPPING_SCANS) return this.scanning[this.scanning.length - 1]!;
    const read = this.scanOnce().finally(() => {
      this.scanning = this.scanning.filter((p) => p !== read);
    });
    this.scanning.push(read);
    return read;
  }

  private scanning: Array<Promise<boolean>> = [];

  private async scanOnce(): Promise<boolean> {
    // only what was known before the table was read may be forgotten by it: a process added meanwhile
    // (e.g. by killTree's own scans) is missing from this older view without being gone
    const before = new Set(this.known.keys());
    try {
      this.scanIn(await this.table.snapshotAsync(), before);
      this.lastError = null;
      return true;
    } catch (error) {
      // polls are not awaited: whatever went wrong is kept, never thrown into the void
      this.lastError = error instanceof ProcessTableError ? error : new ProcessTableError(String(error), { cause: error });
      return false;
    }
  }

  /** scan() over one view of the table; `forgettable` limits which dead pids are dropped. */
  scanIn(view: ProcessSnapshot, forgettable?: ReadonlySet<number>): void {
    const walked = new Set<number>();
    for (const [pid, startTime] of [...this.known]) {
      if (walked.has(pid)) continue;
      if (!running(view.get(pid), startTime)) {
        if (forgettable === undefined || forgettable.has(pid)) this.known.delete(pid);
        continue;
      }
      for (const child of listDescendants(pid, view)) {
        walked.add(child);
        if (this.known.has(child)) continue;
        const entry = view.get(child);
        if (entry !== null && !entry.zombie) this.remember(child, entry.startTime);
      }
    }
  }

  /**
   * After the root exited: adds the processes still in its session (where the table shows sessions) or
   * process group, and returns every known process still alive, from one read of the table. Valid even
   * after the root was reaped: the kernel does not hand out a pid while a group or session of that id
   * exists. Rejects with ProcessTableError.
   */
  async leftovers(): Promise<Array<[number, number]>> {
    const view = await this.table.snapshotAsync();
    if (this.rootPid !== null) {
      for (const entry of view.all()) {
        if (entry.zombie) continue;
        if (entry.sid === this.rootPid || entry.pgid === this.rootPid) this.remember(entry.pid, entry.startTime);
      }
    }
    return this.alive(view);
  }

  /** The start time a known process was remembered with. */
  startTimeOf(pid: number): number | null {
    return this.known.get(pid) ?? null;
  }

  /** pid → start time of every known process that was alive at the last scan. */
  snapshot(): Map<number, number> {
    return new Map(this.known);
  }

  /** The known processes alive now (same pid and start time). Throws ProcessTableError. */
  alive(view: ProcessSnapshot = this.table.snapshot()): Array<[number, number]> {
    return [...this.known].filter(([pid, startTime]) => running(view.get(pid), startTime));
  }

  /** Tracks one more process (never this one, nor PID 1 or 0). */
  add(pid: number, startTime: number): void {
    this.remember(pid, startTime);
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
  /** ms between liveness checks (default 50 with /proc, 100 with ps, which runs a process per check) */
  pollMs?: number;
  /** processes already known to belong to the tree (pid, start time), e.g. from a ProcessTreeTracker */
  known?: Iterable<readonly [number, number]>;
  /** default: the table chosen for this process */
  table?: ProcessTable;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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
 * Rejects with ProcessTableError when the table cannot be read: "could not look" is never "all gone".
 */
export async function killTree(rootPid: number, opts: KillTreeOptions = {}): Promise<boolean> {
  return escalate(new ProcessTreeTracker(null, opts.known ?? [], opts.table), rootPid, opts);
}

/** Like killTree, for processes whose root is already gone (e.g. what a CLI left behind after exiting). */
export async function killProcesses(known: Iterable<readonly [number, number]>, opts: Omit<KillTreeOptions, 'known'> = {}): Promise<boolean> {
  return escalate(new ProcessTreeTracker(null, known, opts.table), null, opts);
}

/** The pids and start times a run recorded, e.g. what a crashed orchestrator left in its database. */
export interface RecordedProcess {
  pid: number;
  startTime: number;
}

/**
 * Ends the recorded processes that still run with the recorded start time, and their trees; a pid now held
 * by another process is left alone. Returns the pids that were found alive. Rejects with ProcessTableError.
 */
export async function endRecordedProcesses(recorded: readonly RecordedProcess[], opts: Omit<KillTreeOptions, 'known'> = {}): Promise<number[]> {
  const table = opts.table ?? processTable();
  const view = await table.snapshotAsync();
  const alive = recorded.filter((proc) => running(view.get(proc.pid), proc.startTime));
  if (alive.length > 0) await killProcesses(alive.map((proc) => [proc.pid, proc.startTime] as const), { ...opts, table });
  return alive.map((proc) => proc.pid);
}

async function escalate(tracker: ProcessTreeTracker, rootPid: number | null, opts: KillTreeOptions): Promise<boolean> {
  const table = tracker.table;
  const pollMs = opts.pollMs ?? (table.kind === 'ps' ? 100 : 50);
  let view = await table.snapshotAsync();
  const ownGroup = view.get(process.pid)?.pgid ?? null;
  if (rootPid !== null) {
    // the root is read here, not in the tracker's constructor, so an unreadable table rejects
    const root = view.get(rootPid);
    if (root !== null && !root.zombie) tracker.add(rootPid, root.startTime);
  }
  const steps: Array<[NodeJS.Signals, number]> = [
    ['SIGINT', opts.intMs ?? 2000],
    ['SIGTERM', opts.termMs ?? 2000],
    ['SIGKILL', opts.killMs ?? 2000],
  ];
  for (const [signal, waitMs] of steps) {
    tracker.scanIn(view);
    const alive = tracker.alive(view);
    if (alive.length === 0) return true;
    // A group is signalled only while one of our own (start-time checked) processes is in it, so a pgid
    // that was freed and reused by a stranger is never hit.
    const groups = new Set<number>();
    for (const [pid] of alive) {
      const pgid = view.get(pid)?.pgid;
      if (pgid !== undefined && pgid > 1 && pgid !== ownGroup) groups.add(pgid);
    }
    for (const pgid of groups) sendSignal(-pgid, signal);
    for (const [pid] of alive) sendSignal(pid, signal);
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
      view = await table.snapshotAsync();
      tracker.scanIn(view);
      if (tracker.alive(view).length === 0) return true;
    }
  }
  return tracker.alive(await table.snapshotAsync()).length === 0;
}
