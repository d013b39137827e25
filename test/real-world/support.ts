// The real BMAD project tree from ../shared/real-world, copied to a temporary folder: tests never write in place.
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { REPO_ROOT } from '../support/scenario.js';

/** CI has shared/ beside the clone, as the session has it beside the worktree. */
export const DEFAULT_REAL_PROJECT = path.resolve(REPO_ROOT, '..', 'shared', 'real-world', 'grimoire-fec9fe7');
/**
 * The same tests run on the project at other commits (a tree rebuilt elsewhere) with
 * SPRINT_RUNNER_REAL_PROJECT=/path/to/tree; without it they run on the fec9fe7 tree we ship beside the clone.
 */
export const REAL_PROJECT = process.env['SPRINT_RUNNER_REAL_PROJECT'] ? path.resolve(process.env['SPRINT_RUNNER_REAL_PROJECT']) : DEFAULT_REAL_PROJECT;
/** Counts that a careful reader took from the fec9fe7 files hold only there; elsewhere they are derived from the tree. */
export const IS_DEFAULT_TREE = REAL_PROJECT === DEFAULT_REAL_PROJECT;
export const WORKFLOW_REL = '_bmad/bmm/workflows/4-implementation/sprint-runner';
export const PREVIOUS_DB_REL = `${WORKFLOW_REL}/dashboard/sprint-runner.db`;
export const SPRINT_STATUS_REL = '_bmad-output/implementation-artifacts/sprint-status.yaml';
export const LEGACY_CSV_REL = 'docs/sprint-runner.csv';
/** the older log of the same project (233 lines, 189 of them without a message); only the fec9fe7 tree has it */
export const OLDER_CSV_REL = 'docs/sprint-runner.a0bdc5a.csv';

/** The tree's own path of a file, and whether the tree has it (other commits lack the old database, the older log...). */
export const inTree = (rel: string): string => path.join(REAL_PROJECT, rel);
export const treeHas = (rel: string): boolean => existsSync(inTree(rel));

/**
 * The legacy log's records as a reader counts them: its non-empty lines (no real log has a message running
 * onto a second line; if one ever does, this count is the one to change, not the import).
 */
export function csvLineCount(file: string): number {
  return readFileSync(file, 'utf8').split('\n').filter((line) => line.trim() !== '').length;
}

/**
 * The commands a reader sees in a legacy log: its distinct `story command` pairs (in the real logs each
 * command ran once per story: retries are numbered, `code-review-2`). The first six fields never hold a comma.
 */
export function csvStoryCommands(file: string): Set<string> {
  const pairs = new Set<string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const fields = line.split(',');
    if (fields.length >= 6) pairs.add(`${fields[2]} ${fields[3]}`);
  }
  return pairs;
}

export function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Every file of a tree with its hash: proves the real tree is never written. */
export function treeHashes(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else out[path.relative(root, full)] = sha256(full);
    }
  };
  walk(root);
  return out;
}

/** Registers cleanup in the calling file; `copy()` gives a writable copy of the real tree. */
export function useRealProjectCopies(): { copy(): string } {
  const made: string[] = [];
  afterEach(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return {
    copy() {
      if (!existsSync(REAL_PROJECT)) {
        throw new Error(`${REAL_PROJECT} is missing: these tests run on the real project tree that CI has in ../shared`);
      }
      const dir = mkdtempSync(path.join(tmpdir(), 'real-project-'));
      made.push(dir);
      const root = path.join(dir, path.basename(REAL_PROJECT));
      cpSync(REAL_PROJECT, root, { recursive: true });
      // shared/ is laid out without write bits; the copy is ours to write
      const writable = (p: string) => {
        const isDir = statSync(p).isDirectory();
        chmodSync(p, isDir ? 0o755 : 0o644);
        if (isDir) for (const name of readdirSync(p)) writable(path.join(p, name));
      };
      writable(root);
      return root;
    },
  };
}
