// Runs one `claude -p --output-format stream-json --verbose` child and reports what it does, ending in one outcome.
import { spawn, type ChildProcess } from 'node:child_process';
import { LineSplitter, DEFAULT_MAX_LINE_BYTES } from './lines.js';
import { parseLogScriptCall } from './log-script.js';
import { decideOutcome, type RunEnding } from './outcome.js';
import { killProcesses, killTree, ProcessTreeTracker } from './process-tree.js';
import { retryDelayMs, transientErrno, transientMessage } from './resource-faults.js';
import { RunMessages } from './run-messages.js';
import { parseStreamLine } from './stream-json.js';
import type {
  ClaudeProcessHandle,
  ClaudeProcessMessage,
  ClaudeProcessOptions,
  CommandOutcome,
  FailureReason,
  ResultSummary,
  StreamMessage,
} from './types.js';

export const CLAUDE_BASE_ARGS = ['-p', '--output-format', 'stream-json', '--verbose'] as const;

const STDERR_TAIL_BYTES = 8 * 1024;
const DEFAULT_RESULT_GRACE_MS = 5000;
const DEFAULT_TREE_POLL_MS = 500;
/** tool lines trigger a tree scan at most this often */
const TOOL_SCAN_MS = 50;
/** After the child exited and its leftovers were ended, how long stdout may stay open (held by a stray fd). */
const CLOSE_AFTER_EXIT_MS = 2000;
/** After killTree gave up, how long to wait for `exit` before reporting anyway. */
const EXIT_AFTER_KILL_MS = 5000;

/**
 * Spawns the CLI in its own process group, writes the prompt to stdin and closes it, and reports messages
 * in order; `exit` comes last and exactly once, also when the spawn itself failed. Never throws.
 */
export function runClaudeProcess(
  opts: ClaudeProcessOptions,
  onMessage: (m: ClaudeProcessMessage) => void,
): ClaudeProcessHandle {
  const run = new ClaudeRun(opts, onMessage);
  return {
    get pid() {
      return run.pid;
    },
    stop: (reason?: FailureReason) => run.stop(reason ?? 'interrupted'),
    finished: run.finished,
  };
}

class ClaudeRun {
  pid: number | null = null;
  readonly finished: Promise<CommandOutcome>;
  private resolveFinished!: (outcome: CommandOutcome) => void;

  private readonly argv: string[];
  private child: ChildProcess | null = null;
  private tracker: ProcessTreeTracker | null = null;
  private readonly splitter: LineSplitter;
  private readonly messages: RunMessages;

  private spawnError: NodeJS.ErrnoException | null = null;
  /** spawns tried again after a transient errno of ours, and the timer of the next one */
  private spawnRetries = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private exited = false;
  private closed = false;
  private finalizing = false;
  private exitCode: number | null = null;
  private exitSignal: string | null = null;

  private result: ResultSummary | null = null;
  /** why the tree was ended from outside, and whether that happened before any result line */
  private forced: RunEnding['forced'] = null;
  private readonly mainTexts: string[] = [];
  private sessionId: string | null = null;
  private model: string | null = null;
  private stderrTail: Buffer = Buffer.alloc(0);
  private readonly unknownKindsWarned = new Set<string>();

  private killing: Promise<unknown> | null = null;
  private readonly timers: NodeJS.Timeout[] = [];
  private idleTimer: NodeJS.Timeout | null = null;
  private graceTimer: NodeJS.Timeout | null = null;
  /** set (to the grace period) when the child outlived its result and was ended */
  private graceExpired: number | null = null;
  private treePoll: NodeJS.Timeout | null = null;
  private closeWaiter: (() => void) | null = null;

  constructor(
    private readonly opts: ClaudeProcessOptions,
    onMessage: (m: ClaudeProcessMessage) => void,
  ) {
    this.messages = new RunMessages(onMessage);
    this.finished = new Promise((resolve) => {
      this.resolveFinished = resolve;
    });
    this.argv = [...CLAUDE_BASE_ARGS, ...opts.args];
    this.splitter = new LineSplitter(opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    this.start();
  }

  private start(): void {
    this.retryTimer = null;
    let child: ChildProcess;
    try {
      child = spawn(this.opts.bin, this.argv, {
        cwd: this.opts.cwd,
        env: this.opts.env ?? process.env,
        // own process group, so the whole group can be signalled without touching ours
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    } catch (error) {
      if (this.retryLater(error)) return;
      // invalid arguments throw synchronously; report like any spawn failure, but after the caller has the handle
      this.spawnError = asErrno(error);
      setImmediate(() => void this.finalize());
      return;
    }
    this.child = child;
    this.pid = child.pid ?? null;
    if (this.pid !== null) this.tracker = new ProcessTreeTracker(this.pid);

    child.on('error', (error) => {
      // after a successful spawn, 'error' only means a signal could not be sent: nothing to report
      if (this.child !== child || (this.pid !== null && !this.spawnError)) return;
      child.stdout?.destroy();
      child.stderr?.destroy();
      if (this.retryLater(error)) return;
      this.spawnError = asErrno(error);
      void this.finalize();
    });
    child.on('spawn', () => this.onSpawned());
    child.on('exit', (code, signal) => this.child === child && this.onExit(code, signal));
    child.on('close', (code, signal) => {
      if (this.child !== child) return;
      this.closed = true;
      if (!this.exited) this.onExit(code, signal);
      this.closeWaiter?.();
    });

    child.stdout?.on('data', (chunk: Buffer) => this.onStdout(chunk));
    child.stdout?.on('error', () => undefined);
    child.stderr?.on('data', (chunk: Buffer) => this.onStderr(chunk));
    child.stderr?.on('error', () => undefined);
    // EPIPE when the child exits without reading its prompt: its outcome says what went wrong
    child.stdin?.on('error', () => undefined);
    try {
      child.stdin?.end(this.opts.prompt);
    } catch {
      // stdin already destroyed by a failed spawn
    }
  }

  /**
   * A spawn that failed for a shortage of ours (resource-faults.ts: EMFILE, ENFILE, EAGAIN, ENOMEM) is tried
   * again after a growing wait, with a warning naming the errno, instead of ending the command as failed.
   * True when a retry was scheduled. A stop during the wait ends the run as interrupted.
   */
  private retryLater(error: unknown): boolean {
    const errno = transientErrno(error);
    if (errno === null || this.forced !== null) return false;
    this.child = null;
    this.pid = null;
    this.spawnRetries++;
    const delay = retryDelayMs(this.spawnRetries);
    this.messages.warn(transientMessage(`starting "${this.opts.bin}"`, errno, this.spawnRetries, delay));
    this.retryTimer = setTimeout(() => this.start(), delay);
    return true;
  }

  private onSpawned(): void {
    if (this.pid === null) return;
    // the tracker read the start time right after the spawn; 0 (never matches) when the table could not be read
    const startTime = this.tracker?.startTimeOf(this.pid) ?? 0;
    this.messages.send({ type: 'spawned', pid: this.pid, startTime, argv: [this.opts.bin, ...this.argv] });
    if (this.tracker?.lastError) this.messages.warn(`cannot read the process table: ${this.tracker.lastError.message}`);
    if (this.opts.idleTimeoutMs) {
      const idleMs = this.opts.idleTimeoutMs;
      this.idleTimer = setTimeout(() => this.force('watchdog-idle', `no output for ${idleMs} ms`), idleMs);
    }
    if (this.opts.totalTimeoutMs) {
      const totalMs = this.opts.totalTimeoutMs;
      this.timers.push(setTimeout(() => this.force('watchdog-total', `still running after ${totalMs} ms`), totalMs));
    }
    this.treePoll = setInterval(() => this.tracker?.scan(), this.opts.treePollMs ?? DEFAULT_TREE_POLL_MS);
    this.treePoll.unref();
  }

  private onStdout(chunk: Buffer): void {
    if (!this.finalizing) this.idleTimer?.refresh();
    for (const event of this.splitter.push(chunk)) {
      if (event.kind === 'line') this.onLine(event.line);
      else this.messages.warn(`dropped a stdout line longer than ${event.maxLineBytes} bytes`);
    }
  }

  private onStderr(chunk: Buffer): void {
    // keep reading always: an unread stderr pipe fills up and blocks the child
    const joined = chunk.length >= STDERR_TAIL_BYTES ? chunk : Buffer.concat([this.stderrTail, chunk]);
    this.stderrTail = joined.length > STDERR_TAIL_BYTES ? Buffer.from(joined.subarray(joined.length - STDERR_TAIL_BYTES)) : joined;
  }

  private onLine(line: string): void {
    if (line.trim() === '') return;
    this.opts.onRawLine?.(line);
    for (const message of parseStreamLine(line)) this.onStreamMessage(message);
  }

  private onStreamMessage(message: StreamMessage): void {
    switch (message.kind) {
      case 'init':
        this.sessionId = message.sessionId || this.sessionId;
        this.model = message.model || this.model;
        this.messages.send({ type: 'init', sessionId: message.sessionId, model: message.model });
        break;
      case 'assistant-text':
        if (message.parentToolUseId === null) this.mainTexts.push(message.text);
        break;
      case 'tool-use':
        if (message.name === 'Bash' && typeof message.input['command'] === 'string') {
          for (const task of parseLogScriptCall(message.input['command'])) {
            const known = this.opts.knownTaskIds ? this.opts.knownTaskIds.includes(task.taskId) : true;
            this.messages.send({ type: 'task', task, known });
          }
        }
        this.scanSoon();
        break;
      case 'tool-result':
        this.scanSoon();
        break;
      case 'result':
        this.onResult(message.result);
        break;
      case 'rate-limit':
        this.messages.send({ type: 'rate-limit', info: message.info });
        break;
      case 'api-retry':
        this.messages.send({ type: 'api-retry', attempt: message.attempt, errorStatus: message.errorStatus });
        break;
      case 'ignored':
        break;
      case 'unknown': {
        const kind = message.subtype === null ? message.type : `${message.type}/${message.subtype}`;
        if (!this.unknownKindsWarned.has(kind)) {
          this.unknownKindsWarned.add(kind);
          this.messages.warn(`unknown stream-json line: ${kind}`);
        }
        break;
      }
      case 'garbage':
        this.messages.warn(`unreadable stdout line (${message.reason}): ${message.line}`);
        break;
    }
  }

  private lastScan = 0;
  private scanTimer: NodeJS.Timeout | null = null;
  /** A tool call may start processes: scan at once, but at most every TOOL_SCAN_MS (a flood of tool lines would spend its time in /proc). */
  private scanSoon(): void {
    if (!this.tracker || this.scanTimer) return;
    const wait = this.lastScan + TOOL_SCAN_MS - Date.now();
    const run = () => {
      this.scanTimer = null;
      this.lastScan = Date.now();
      if (!this.finalizing) this.tracker?.scan();
    };
    if (wait <= 0) run();
    else this.scanTimer = setTimeout(run, wait);
  }

  private onResult(result: ResultSummary): void {
    const first = this.result === null;
    this.result = result;
    this.sessionId = result.sessionId ?? this.sessionId;
    this.messages.send({ type: 'result', result });
    if (result.permissionDenials > 0) {
      this.messages.warn(`${result.permissionDenials} tool call(s) were denied permission; choose a permission mode or allow-list`);
    }
    if (first && !this.exited) {
      const graceMs = this.opts.resultGraceMs ?? DEFAULT_RESULT_GRACE_MS;
      this.graceTimer = setTimeout(() => {
        if (this.exited) return;
        // spec step 5: a watchdog that had to end the child makes the command a failure, result or not
        this.graceExpired = graceMs;
        this.messages.warn(`claude did not exit within ${graceMs} ms after its result; ending its process tree`);
        void this.endTree();
      }, graceMs);
    }
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exited) return;
    this.exited = true;
    this.exitCode = code;
    this.exitSignal = signal;
    void this.finalize();
  }

  /** A watchdog fired: end the tree unless a result already arrived (then the grace timer is in charge). */
  private force(reason: FailureReason, why: string): void {
    if (this.exited || this.result !== null || this.forced !== null) return;
    this.forced = { reason, beforeResult: true };
    this.messages.warn(`${why}; ending the claude process tree`);
    void this.endTree();
  }

  async stop(reason: FailureReason): Promise<void> {
    if (!this.messages.exitSent && !this.exited && this.forced === null) {
      this.forced = { reason, beforeResult: this.result === null };
    }
    if (this.retryTimer !== null) {
      // waiting to retry a spawn: there is no process, so the run ends here
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
      void this.finalize(true);
    }
    if (!this.exited) void this.endTree();
    await this.finished;
  }

  private endTree(): Promise<unknown> {
    if (this.killing) return this.killing;
    if (this.pid === null || this.exited) return Promise.resolve();
    const pid = this.pid;
    this.killing = killTree(pid, { known: this.tracker?.snapshot() ?? [] })
      .catch((error: unknown) => {
        // the table could not be read: say so, and still end the CLI's own group (unreaped, so it is ours)
        this.messages.warn(`could not end the claude process tree: ${(error as Error).message}`);
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      })
      .then(() => {
        // a process that survives SIGKILL (uninterruptible sleep) must not keep the outcome from being reported
        if (!this.finalizing) this.timers.push(setTimeout(() => void this.finalize(true), EXIT_AFTER_KILL_MS));
      });
    return this.killing;
  }

  /** Runs once the child exited (or could not be started): drain stdout, end leftovers, then send `exit`. */
  private async finalize(giveUpWaiting = false): Promise<void> {
    if (this.finalizing) return;
    if (!giveUpWaiting && !this.exited && !this.spawnError) return;
    this.finalizing = true;
    this.clearTimers();

    if (this.tracker) {
      // the CLI is gone, but shells its Bash tool started may still run under PID 1
      try {
        const leftovers = await this.tracker.leftovers();
        if (leftovers.length > 0) await killProcesses(leftovers);
      } catch (error) {
        this.messages.warn(`could not check for processes claude left behind: ${(error as Error).message}`);
      }
    }
    if (this.child && !this.closed && !this.spawnError) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, giveUpWaiting ? 0 : CLOSE_AFTER_EXIT_MS);
        this.closeWaiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (!this.closed) {
        this.messages.warn('stdout stayed open after claude exited; stopped reading it');
        this.child.stdout?.destroy();
        this.child.stderr?.destroy();
      }
    }
    const lastLine = this.splitter.flush();
    if (lastLine !== null) this.onLine(lastLine);

    const outcome = this.decide();
    this.messages.send({ type: 'exit', outcome });
    this.messages.exitSent = true;
    this.resolveFinished(outcome);
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const timer of this.timers) clearTimeout(timer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.graceTimer) clearTimeout(this.graceTimer);
    if (this.treePoll) clearInterval(this.treePoll);
    if (this.scanTimer) clearTimeout(this.scanTimer);
  }

  private decide(): CommandOutcome {
    const base = {
      exitCode: this.exitCode,
      signal: this.exitSignal,
      result: this.result,
      assistantText: this.mainTexts.join('\n'),
      sessionId: this.sessionId,
      model: this.model,
      pid: this.pid,
      stderrTail: this.stderrTail.toString('utf8'),
      warnings: this.messages.warnings,
    };
    return decideOutcome(this.opts, base, { spawnError: this.spawnError, graceExpired: this.graceExpired, forced: this.forced });
  }
}

function asErrno(error: unknown): NodeJS.ErrnoException {
  return error instanceof Error ? error : new Error(String(error));
}
