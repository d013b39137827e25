// Which failures are the orchestrator's own shortage (fds, processes, memory) rather than the command's, and how long to wait before trying again.

/**
 * errnos that say this machine ran short, not that the command or its story is wrong: the per-process or
 * system-wide file table is full (EMFILE, ENFILE), the process table or a resource is momentarily exhausted
 * (EAGAIN from fork/clone), or memory is (ENOMEM). They pass when fds close or memory frees, so the command is
 * tried again instead of failing; see docs/failure-classes.md. A missing (ENOENT) or non-executable (EACCES)
 * binary is none of them: that fails at once and counts, as spec Step 5 says.
 */
export const TRANSIENT_ERRNOS = ['EMFILE', 'ENFILE', 'EAGAIN', 'ENOMEM'] as const;
export type TransientErrno = (typeof TRANSIENT_ERRNOS)[number];

const MEANING: Record<TransientErrno, string> = {
  EMFILE: 'this process has too many open files',
  ENFILE: 'the system has too many open files',
  EAGAIN: 'the system is out of processes or threads for now',
  ENOMEM: 'the system is out of memory',
};

/** The transient errno of an error, or null when it is not one of ours. */
export function transientErrno(error: unknown): TransientErrno | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (TRANSIENT_ERRNOS as readonly string[]).includes(code) ? (code as TransientErrno) : null;
}

/** First wait, and the longest: 0.5 s, 1 s, 2 s, ... 30 s, then every 30 s until it works or the batch is stopped. */
export const RETRY_FIRST_MS = 500;
export const RETRY_MAX_MS = 30_000;

/** The wait before try number `retry` (1 = the first retry). */
export function retryDelayMs(retry: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.max(0, Math.min(retry - 1, 16)));
}

/** One line for the log: what failed, the errno and what it means, and when we try again. */
export function transientMessage(what: string, errno: TransientErrno, retry: number, delayMs: number): string {
  return (
    `${what} failed with ${errno} (${MEANING[errno]}): a shortage of this machine, not a failure of the command; ` +
    `trying again in ${(delayMs / 1000).toFixed(1)} s (retry ${retry}). It does not count toward the story's errors.`
  );
}
