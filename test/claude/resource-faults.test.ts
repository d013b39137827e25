// Which spawn errors are a shortage of ours (retried, never counted against a story) and how long each retry waits.
import { describe, expect, it } from 'vitest';
import { retryDelayMs, transientErrno, transientMessage, RETRY_MAX_MS } from '../../machines/claude/resource-faults.js';

const errno = (code: string) => Object.assign(new Error(`spawn ${code}`), { code });

describe('failure classes', () => {
  it.each(['EMFILE', 'ENFILE', 'EAGAIN', 'ENOMEM'])('%s is a shortage of ours', (code) => {
    expect(transientErrno(errno(code))).toBe(code);
  });

  it.each(['ENOENT', 'EACCES', 'ENOEXEC', 'E2BIG', 'EPERM'])('%s is the command\'s own failure', (code) => {
    expect(transientErrno(errno(code))).toBeNull();
  });

  it('an error without a code, or no error object at all, is not ours', () => {
    expect(transientErrno(new Error('boom'))).toBeNull();
    expect(transientErrno(null)).toBeNull();
    expect(transientErrno('EMFILE')).toBeNull();
  });

  it('waits 0.5 s, doubling, up to 30 s, and stays there', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 100].map(retryDelayMs)).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(retryDelayMs(1e9)).toBe(RETRY_MAX_MS);
  });

  it('the message names the errno, its meaning, the wait and that it does not count', () => {
    expect(transientMessage('starting "claude"', 'ENFILE', 3, 2000)).toBe(
      'starting "claude" failed with ENFILE (the system has too many open files): a shortage of this machine, not a failure ' +
        "of the command; trying again in 2.0 s (retry 3). It does not count toward the story's errors.",
    );
  });
});
