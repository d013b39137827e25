// What every fault test checks afterwards: the database intact with contiguous events, no process left, and an uninterrupted reference run to compare with.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { isAlive } from '../../machines/claude/process-tree.js';
import { makeProject, SPRINT_STATUS_REL, type TraceLine } from '../support/scenario.js';
import { startServe, waitForServeStatus, type ServeProcess } from '../support/serve-process.js';

export interface FaultProject {
  root: string;
  db: string;
  trace: string;
  sprintStatus(): string;
}

export function faultProject(scenario: Record<string, unknown>, roots: string[], db?: string): FaultProject {
  const root = makeProject({ scenario });
  roots.push(root);
  return {
    root,
    db: db ?? path.join(root, 'runner.db'),
    trace: path.join(root, '.sprint-sim', 'trace.jsonl'),
    sprintStatus: () => readFileSync(path.join(root, SPRINT_STATUS_REL), 'utf8'),
  };
}

export function traceLines(file: string): TraceLine[] {
  return (existsSync(file) ? readFileSync(file, 'utf8') : '')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TraceLine);
}

export async function waitForStatus(serve: ServeProcess, wanted: string[], what: string, timeoutMs = 90_000): Promise<string> {
  return (await waitForServeStatus(serve, wanted, what, timeoutMs)).status;
}

/** The sprint-status an uninterrupted batch of the same scenario ends with. */
export async function referenceRun(scenario: Record<string, unknown>, cycles: number, roots: string[]): Promise<string> {
  const p = faultProject(scenario, roots);
  const serve = await startServe(p.root, p.db, { SPRINT_SIM_TRACE: p.trace });
  try {
    await serve.api('/api/batch/start', { method: 'POST', body: { cycles } });
    expect(await waitForStatus(serve, ['completed', 'error'], 'the reference run')).toBe('completed');
    return p.sprintStatus();
  } finally {
    serve.child.kill('SIGTERM');
    await serve.exited;
  }
}

/** integrity_check, foreign keys, and event ids 1..n with no gap. */
export function expectIntactDatabase(file: string): { events: number } {
  const check = new Database(file, { readonly: true });
  try {
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(check.pragma('foreign_key_check')).toEqual([]);
    const ids = check.prepare('SELECT id FROM events ORDER BY id').pluck().all() as number[];
    expect(ids).toEqual(ids.map((_, i) => i + 1));
    return { events: ids.length };
  } finally {
    check.close();
  }
}

/** Every claude child the simulated CLI traced, and the processes they started, are gone. */
export function expectNoProcessLeft(trace: string): void {
  for (const line of traceLines(trace).filter((l) => l.ev === 'start' || l.ev === 'grandchild')) {
    expect(isAlive(line.pid), `pid ${line.pid} (${line.ev} ${line.logged ?? ''})`).toBe(false);
  }
}

export function removeAll(roots: string[]): void {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
}
