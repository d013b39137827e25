// One orchestrator per project, whatever database it uses: a lock file in the workflow folder with the holder's PID and start time.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { isAlive, readProcessStartTime } from '../claude/process-tree.js';
import type { ProjectLayout } from './layout.js';

export interface ProjectLockHolder {
  pid: number;
  /** the process layer's start time: with the pid it names one process, so a reused pid is not the holder */
  startTime: number;
  hostname: string;
  /** the database the holder serves */
  db: string;
  startedAt: string;
}

export class ProjectLockedError extends Error {
  readonly code = 'project-locked';
  constructor(
    readonly holder: ProjectLockHolder,
    readonly lockFile: string,
  ) {
    super(
      `another sprint-runner already drives this project: pid ${holder.pid} on host ${holder.hostname}, since ` +
        `${holder.startedAt}, with the database ${holder.db}. Only one orchestrator may run a project's stories, ` +
        `whatever --db each uses: stop that one first. (${lockFile} is cleared by itself once that process is gone.)`,
    );
    this.name = 'ProjectLockedError';
  }
}

export function projectLockFile(layout: ProjectLayout): string {
  return path.join(layout.workflowDir, '.sprint-runner.lock');
}

function readHolder(file: string): ProjectLockHolder | null {
  try {
    const holder = JSON.parse(readFileSync(file, 'utf8')) as ProjectLockHolder;
    return Number.isInteger(holder.pid) && typeof holder.hostname === 'string' ? holder : null;
  } catch {
    return null;
  }
}

/**
 * A holder whose process still runs on this host (same pid and start time). A dead holder, an unreadable
 * file, or one from another host (whose processes cannot be checked; a crashed container's old name must not
 * block for ever) is stale and taken over, as the database owner row is.
 */
function liveHolder(holder: ProjectLockHolder | null): holder is ProjectLockHolder {
  return holder !== null && holder.hostname === hostname() && isAlive(holder.pid, holder.startTime);
}

export interface ProjectLock {
  file: string;
  holder: ProjectLockHolder;
  /** removes the lock file if it is still ours */
  release(): void;
}

/** Takes the project's lock or throws ProjectLockedError naming the live holder. */
export function acquireProjectLock(layout: ProjectLayout, db: string): ProjectLock {
  const file = projectLockFile(layout);
  const me: ProjectLockHolder = {
    pid: process.pid,
    startTime: readProcessStartTime(process.pid) ?? 0,
    hostname: hostname(),
    db,
    startedAt: new Date().toISOString(),
  };
  const text = `${JSON.stringify(me, null, 2)}\n`;
  const lock: ProjectLock = {
    file,
    holder: me,
    release() {
      const holder = readHolder(file);
      if (holder && holder.pid === me.pid && holder.startTime === me.startTime && holder.hostname === me.hostname) rmSync(file, { force: true });
    },
  };
  for (let tries = 0; tries < 3; tries++) {
    try {
      // O_EXCL: of two starting at once, exactly one creates it
      writeFileSync(file, text, { flag: 'wx' });
      return lock;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new Error(`cannot create the project lock ${file}: ${(err as Error).message}`, { cause: err });
      }
    }
    const holder = readHolder(file);
    if (liveHolder(holder)) throw new ProjectLockedError(holder, file);
    rmSync(file, { force: true });
  }
  throw new Error(`cannot take the project lock ${file}: it reappears each time the stale one is removed`);
}
