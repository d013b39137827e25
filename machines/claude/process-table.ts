// The system's process table behind one interface: Linux /proc where it can be read, `ps` (macOS, BSD, Linux) elsewhere.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** Forces a backend: `proc` or `ps`. Unset: /proc where it can be read, else ps. */
export const PROCESS_TABLE_ENV = 'SPRINT_RUNNER_PROCESS_TABLE';

export type ProcessTableKind = 'proc' | 'ps';

export interface ProcessEntry {
  pid: number;
  ppid: number;
  pgid: number;
  /** session id; null under ps, since macOS `ps` has no keyword for it (its `sess` is a kernel pointer) */
  sid: number | null;
  /** a zombie can do nothing and may never be reaped (PID 1 of a container): it counts as gone */
  zombie: boolean;
  /**
   * With the pid, names one process for good. The unit is the backend's, and values are compared only with
   * values read by the same backend:
   * - proc: clock ticks after boot (field 22 of /proc/<pid>/stat), as every earlier version stored;
   * - ps: milliseconds since the Unix epoch, at the whole seconds `lstart` shows (read in UTC, C locale).
   * The ranges cannot meet (ticks reach 1e12 only after 300 years of uptime), see startTimeKind.
   */
  startTime: number;
}

/** A read of the table failed: the caller must not take "not found" for an answer. */
export class ProcessTableError extends Error {
  override readonly name = 'ProcessTableError';
}

/** A view for one walk over the tree: one `ps` run, or /proc files read as they are asked for. */
export interface ProcessSnapshot {
  get(pid: number): ProcessEntry | null;
  children(pid: number): number[];
  all(): ProcessEntry[];
}

export interface ProcessTable {
  readonly kind: ProcessTableKind;
  /** every process now; throws ProcessTableError when the table cannot be read */
  list(): ProcessEntry[];
  /** one process, or null when no process has this pid; throws ProcessTableError when the table cannot be read */
  get(pid: number): ProcessEntry | null;
  snapshot(): ProcessSnapshot;
  /** snapshot() without blocking the event loop while `ps` runs; what polling and killTree use */
  snapshotAsync(): Promise<ProcessSnapshot>;
}

/** Which backend wrote a stored start time (see ProcessEntry.startTime). */
export function startTimeKind(startTime: number): ProcessTableKind {
  return startTime >= 1e12 ? 'ps' : 'proc';
}

const validPid = (pid: number): boolean => Number.isInteger(pid) && pid > 0;

function snapshotOf(entries: ProcessEntry[]): ProcessSnapshot {
  const byPid = new Map(entries.map((e) => [e.pid, e] as const));
  const children = new Map<number, number[]>();
  for (const entry of entries) {
    const list = children.get(entry.ppid);
    if (list) list.push(entry.pid);
    else children.set(entry.ppid, [entry.pid]);
  }
  return { get: (pid) => byPid.get(pid) ?? null, children: (pid) => children.get(pid) ?? [], all: () => entries };
}

// ---------------------------------------------------------------------------------------------- /proc

export interface ProcStat {
  pid: number;
  /** kernel command name; may contain spaces and parentheses */
  comm: string;
  state: string;
  ppid: number;
  pgid: number;
  sid: number;
  /** field 22: clock ticks after boot */
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

const GONE_CODES = new Set(['ENOENT', 'ESRCH']);

/** The /proc backend; `root` is a parameter so tests can point it at a missing /proc. */
export function procTable(root = '/proc'): ProcessTable {
  const get = (pid: number): ProcessEntry | null => {
    if (!validPid(pid)) return null;
    let text: string;
    try {
      text = readFileSync(`${root}/${pid}/stat`, 'utf8');
    } catch (error) {
      // "no such file" means "no such process" only while /proc still shows this one
      if (GONE_CODES.has((error as NodeJS.ErrnoException).code ?? '') && existsSync(`${root}/${process.pid}/stat`)) return null;
      throw new ProcessTableError(`cannot read ${root}/${pid}/stat: ${(error as Error).message}`, { cause: error });
    }
    const stat = parseStatLine(text);
    if (stat === null) throw new ProcessTableError(`cannot parse ${root}/${pid}/stat: ${JSON.stringify(text.slice(0, 200))}`);
    const { pid: statPid, ppid, pgid, sid, startTime, state } = stat;
    return { pid: statPid, ppid, pgid, sid, startTime, zombie: state === 'Z' || state === 'X' || state === 'x' };
  };
  const list = (): ProcessEntry[] => {
    let names: string[];
    try {
      names = readdirSync(root);
    } catch (error) {
      throw new ProcessTableError(`cannot list ${root}: ${(error as Error).message}`, { cause: error });
    }
    return names.filter((name) => /^[0-9]+$/.test(name)).flatMap((name) => get(Number(name)) ?? []);
  };
  // /proc/<pid>/task/<tid>/children needs CONFIG_PROC_CHILDREN; without it a walk reads every stat once
  const childrenFiles = existsSync(`${root}/${process.pid}/task/${process.pid}/children`);
  const childrenOf = (pid: number): number[] => {
    const children: number[] = [];
    let tids: string[];
    try {
      tids = readdirSync(`${root}/${pid}/task`);
    } catch {
      return children; // the process ended
    }
    for (const tid of tids) {
      try {
        for (const field of readFileSync(`${root}/${pid}/task/${tid}/children`, 'utf8').split(/\s+/)) {
          if (field !== '') children.push(Number(field));
        }
      } catch {
        // the thread ended while we looked
      }
    }
    return children;
  };
  const snapshot = (): ProcessSnapshot => (childrenFiles ? { get, children: childrenOf, all: list } : snapshotOf(list()));
  // /proc reads are a few microseconds each: nothing to gain from going async
  return { kind: 'proc', list, get, snapshot, snapshotAsync: async () => snapshot() };
}

// ---------------------------------------------------------------------------------------------- ps

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** one `-o` each: POSIX makes everything after `=` the header, commas included */
const PS_COLUMNS = ['-o', 'pid=', '-o', 'ppid=', '-o', 'pgid=', '-o', 'stat=', '-o', 'lstart='];
/** C locale and UTC: `lstart` is then `Mon Dec  7 05:05:04 2026` on procps and BSD alike, with no DST to misread */
const PS_ENV = { LC_ALL: 'C', LANG: 'C', TZ: 'UTC0' };
/** a listing takes ~50 ms; ten seconds means it is stuck */
const PS_TIMEOUT_MS = 10_000;

/** `Mon Dec  7 05:05:04 2026` (UTC) → ms since the epoch; null when it is not that shape. */
export function parseLstart(words: readonly string[]): number | null {
  if (words.length !== 5) return null;
  const [, monthName, day, clock, year] = words;
  const month = MONTHS.indexOf(monthName!);
  const hms = /^(\d\d):(\d\d):(\d\d)$/.exec(clock!);
  if (month === -1 || hms === null || !/^\d{1,2}$/.test(day!) || !/^\d{4}$/.test(year!)) return null;
  return Date.UTC(Number(year), month, Number(day), Number(hms[1]), Number(hms[2]), Number(hms[3]));
}

/** One line of `ps -o pid= -o ppid= -o pgid= -o stat= -o lstart=`. */
export function parsePsLine(line: string): ProcessEntry | null {
  const words = line.trim().split(/\s+/);
  if (words.length !== 9) return null;
  const [pid, ppid, pgid] = words.slice(0, 3).map(Number) as [number, number, number];
  const stat = words[3]!;
  const startTime = parseLstart(words.slice(4));
  if (startTime === null || ![pid, ppid, pgid].every(Number.isInteger)) return null;
  return { pid, ppid, pgid, sid: null, zombie: stat.startsWith('Z'), startTime };
}

interface PsRun {
  /** killed at its time limit */
  timedOut: boolean;
  error: Error | undefined;
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export function psTable(bin = 'ps', timeoutMs = PS_TIMEOUT_MS): ProcessTable {
  // a `ps` that never returns (a /proc read stuck on a process in uninterruptible sleep) must not stall stop,
  // the watchdogs or recovery for ever: it is killed and reported as a table that cannot be read
  const options = { encoding: 'utf8' as const, env: { ...process.env, ...PS_ENV }, maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs, killSignal: 'SIGKILL' as const };
  const lines = (run: PsRun): string[] => {
    if (run.timedOut) throw new ProcessTableError(`\`${bin}\` did not answer within ${timeoutMs} ms and was killed`);
    if (run.error) throw new ProcessTableError(`cannot run \`${bin}\`: ${run.error.message}`, { cause: run.error });
    const out = run.stdout.split('\n').filter((l) => l.trim() !== '');
    // `ps -p <pid>` exits 1 with no output at all when there is no such process (procps and BSD)
    if (run.status !== 0 && !(out.length === 0 && run.stderr.trim() === '' && run.status === 1)) {
      throw new ProcessTableError(`\`${bin}\` failed (${run.signal ?? `exit ${run.status}`}): ${run.stderr.trim()}`);
    }
    return out;
  };
  const runSync = (select: string[]): string[] => {
    const result = spawnSync(bin, [...select, ...PS_COLUMNS], options);
    const timedOut = (result.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
    return lines({ timedOut, error: timedOut ? undefined : result.error, status: result.status, signal: result.signal, stdout: result.stdout ?? '', stderr: result.stderr ?? '' });
  };
  const runAsync = (select: string[]): Promise<string[]> =>
    new Promise((resolve, reject) => {
      execFile(bin, [...select, ...PS_COLUMNS], options, (error, stdout, stderr) => {
        // a non-zero exit is an ExecFileException with a numeric code; anything else could not run ps at all
        const exit = error && typeof error.code === 'number' ? error.code : null;
        const run: PsRun = {
          timedOut: error?.killed === true && error.signal === 'SIGKILL',
          error: error && exit === null && !error.signal ? error : undefined,
          status: error ? exit : 0,
          signal: error?.signal ?? null,
          stdout,
          stderr,
        };
        try {
          resolve(lines(run));
        } catch (failure) {
          reject(failure as Error);
        }
      });
    });
  const parse = (line: string): ProcessEntry => {
    const entry = parsePsLine(line);
    if (entry === null) throw new ProcessTableError(`cannot parse this line of \`${bin}\`: ${JSON.stringify(line)}`);
    return entry;
  };
  const table = (out: string[]): ProcessEntry[] => {
    const entries: ProcessEntry[] = [];
    for (const line of out) {
      const entry = parsePsLine(line);
      // a line we cannot read is an error unless it is a zombie (gone anyway, and some ps print no start for one)
      if (entry) entries.push(entry);
      else if (!/^\s*\d+\s+\d+\s+\d+\s+Z/.test(line)) parse(line);
    }
    if (!entries.some((e) => e.pid === process.pid)) {
      throw new ProcessTableError(`\`${bin} -A\` did not list this process (${process.pid}): its table cannot be trusted`);
    }
    return entries;
  };
  const list = (): ProcessEntry[] => table(runSync(['-A']));
  const get = (pid: number): ProcessEntry | null => {
    if (!validPid(pid)) return null;
    return runSync(['-p', String(pid)]).map(parse).find((e) => e.pid === pid) ?? null;
  };
  return {
    kind: 'ps',
    list,
    get,
    snapshot: () => snapshotOf(list()),
    snapshotAsync: async () => snapshotOf(table(await runAsync(['-A']))),
  };
}

// ---------------------------------------------------------------------------------------------- choice

function procReadable(root: string): boolean {
  try {
    return parseStatLine(readFileSync(`${root}/${process.pid}/stat`, 'utf8'))?.pid === process.pid;
  } catch {
    return false;
  }
}

/**
 * Picks the backend from `SPRINT_RUNNER_PROCESS_TABLE` (proc|ps) or, unset, /proc when this process can read
 * its own entry there. Checks that the table shows this very process, so a backend that cannot work fails
 * here, with a clear error, instead of answering "no such process" for every child.
 */
export function chooseProcessTable(env: NodeJS.ProcessEnv = process.env, procRoot = '/proc', psBin = 'ps'): ProcessTable {
  const forced = env[PROCESS_TABLE_ENV]?.trim() ?? '';
  if (forced !== '' && forced !== 'proc' && forced !== 'ps') {
    throw new ProcessTableError(`${PROCESS_TABLE_ENV} must be "proc" or "ps", not ${JSON.stringify(forced)}`);
  }
  if (forced === 'proc' && !procReadable(procRoot)) {
    throw new ProcessTableError(`${PROCESS_TABLE_ENV}=proc, but ${procRoot}/${process.pid}/stat cannot be read`);
  }
  const table = forced === 'ps' || (forced === '' && !procReadable(procRoot)) ? psTable(psBin) : procTable(procRoot);
  let self: ProcessEntry | null;
  try {
    self = table.get(process.pid);
  } catch (error) {
    throw new ProcessTableError(`cannot read the process table (${table.kind}): ${(error as Error).message}`, { cause: error });
  }
  if (self === null) throw new ProcessTableError(`the process table (${table.kind}) does not show this process (${process.pid})`);
  return table;
}

let chosen: ProcessTable | null = null;

/** The table of this process, chosen once (the first call throws ProcessTableError when none can be read). */
export function processTable(): ProcessTable {
  chosen ??= chooseProcessTable();
  return chosen;
}
