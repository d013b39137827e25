// Names what went wrong when the database can no longer be written (disk full, read-only, vanished), watches the file for it, and rescues a deleted one.
import { accessSync, constants, existsSync, renameSync, rmSync, statfsSync, statSync } from 'node:fs';
import type { SprintDb } from './handle.js';

export type StorageCause = 'disk-full' | 'read-only' | 'vanished' | 'replaced' | 'io-error';

/** The database cannot be written any more: the runner stops every agent and serve exits with this message. */
export class StorageFault extends Error {
  readonly code = 'storage-fault';
  constructor(
    readonly kind: StorageCause,
    readonly file: string,
    /** the SQLite or errno code behind it, when there is one */
    readonly sqliteCode: string | null,
    message: string,
  ) {
    super(message);
    this.name = 'StorageFault';
  }
}

const WHAT: Record<StorageCause, string> = {
  'disk-full': 'the disk is full',
  'read-only': 'the file is read-only (permissions, `chattr +i`, or a read-only mount)',
  vanished: 'the file was deleted while serving',
  replaced: 'the file was replaced by another one while serving',
  'io-error': 'the disk reported an I/O error',
};

const FIX: Record<StorageCause, string> = {
  'disk-full': 'free some space on that disk',
  'read-only': 'make the file and its -wal writable again',
  vanished: 'check who removes files in that folder',
  replaced: 'put the right database back, or keep the replacement and start a new batch',
  'io-error': 'check the disk',
};

function codeOf(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : null;
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch (err) {
    // an immutable file (chattr +i) or a read-only mount refuse W_OK even to root; ENOENT is not our concern here
    return codeOf(err) === 'ENOENT';
  }
}

function diskFull(path: string): boolean {
  try {
    const fs = statfsSync(path);
    return fs.bavail * fs.bsize < 64 * 1024;
  } catch {
    return false;
  }
}

/** What is wrong with the file right now, seen from outside SQLite; null when it looks writable. */
export function fileFault(file: string, identity?: { dev: number; ino: number }): StorageCause | null {
  let stat;
  try {
    stat = statSync(file);
  } catch {
    return 'vanished';
  }
  if (identity && (stat.dev !== identity.dev || stat.ino !== identity.ino)) return 'replaced';
  if (!writable(file) || !writable(`${file}-wal`)) return 'read-only';
  return null;
}

export function faultMessage(cause: StorageCause, file: string, code: string | null): string {
  return (
    `sprint-runner stopped: cannot keep writing the database ${file}: ${WHAT[cause]}${code ? ` (${code})` : ''}. ` +
    `Every agent was ended; everything written before is kept. To go on: ${FIX[cause]}, start serve again and press ` +
    `Resume: the batch continues from its last recorded step.`
  );
}

/** Turns whatever a write threw into a StorageFault naming the file and the cause. */
export function storageFault(file: string, error: unknown, identity?: { dev: number; ino: number }): StorageFault {
  if (error instanceof StorageFault) return error;
  const code = codeOf(error);
  let cause: StorageCause;
  if (code === 'SQLITE_FULL') cause = 'disk-full';
  else if (code?.startsWith('SQLITE_READONLY')) cause = 'read-only';
  else cause = fileFault(file, identity) ?? (diskFull(file) ? 'disk-full' : 'io-error');
  return new StorageFault(cause, file, code, faultMessage(cause, file, code));
}

export interface FileIdentity {
  dev: number;
  ino: number;
}

export function identityOf(file: string): FileIdentity {
  const stat = statSync(file);
  return { dev: stat.dev, ino: stat.ino };
}

/** How often the database file is checked for being deleted, replaced or made read-only. */
export const WATCH_INTERVAL_MS = 1000;

/**
 * Checks the database file every WATCH_INTERVAL_MS: a deleted or replaced file gives no write error at all
 * (SQLite goes on writing the old inode, which is lost at exit), and an immutable main file only fails the
 * checkpoints, silently, until the next start cannot open it. Calls onFault once. Returns the stop function.
 */
export function watchDatabaseFile(db: SprintDb, onFault: (fault: StorageFault) => void, intervalMs = WATCH_INTERVAL_MS): () => void {
  const identity = identityOf(db.file);
  const timer = setInterval(() => {
    const cause = fileFault(db.file, identity);
    if (cause === null) return;
    clearInterval(timer);
    onFault(new StorageFault(cause, db.file, null, faultMessage(cause, db.file, null)));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The open connection still reads a deleted file: copy it out, close the connection (SQLite then checkpoints
 * into the deleted inode and removes the -wal and -shm beside the path), and put the copy back at the path
 * when nothing else took it; otherwise it stays beside it as `<file>.rescued-<time>`. Nothing is lost.
 * Returns where the copy is, or null when it could not be written. Call it only once the runner has halted.
 */
export async function rescueDatabase(db: SprintDb): Promise<string | null> {
  const copy = `${db.file}.rescued-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  try {
    await db.sqlite.backup(copy);
  } catch {
    return null;
  }
  try {
    db.close();
  } catch {
    // the copy is complete either way
  }
  if (existsSync(db.file)) return copy;
  try {
    // SQLite leaves the deleted database's -wal and -shm at the path: the copy holds all they held, and
    // beside a new file an old WAL would be replayed into it
    rmSync(`${db.file}-wal`, { force: true });
    rmSync(`${db.file}-shm`, { force: true });
    renameSync(copy, db.file);
    return db.file;
  } catch {
    return copy;
  }
}
