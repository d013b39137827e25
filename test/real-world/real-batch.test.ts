// Two cycles on the real project with the simulated CLI writing as the real subagents do: the file, the log and the old database hold.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { serve, type Serving } from '../../server/main.js';
import { SIM_CLAUDE } from '../support/scenario.js';
import { LEGACY_CSV_REL, PREVIOUS_DB_REL, SPRINT_STATUS_REL, sha256, useRealProjectCopies } from './support.js';

const projects = useRealProjectCopies();
const servings: Serving[] = [];
afterEach(async () => {
  for (const s of servings.splice(0)) await s.close();
});

async function start(root: string): Promise<Serving> {
  const serving = await serve({
    projectRoot: root,
    port: 0,
    claudeBin: SIM_CLAUDE,
    resultGraceMs: 1000,
    env: { IS_SANDBOX: '1', SPRINT_SIM_PACE_MS: '0' },
  });
  servings.push(serving);
  return serving;
}

describe('a batch of two cycles on the real project', () => {
  it('changes only story values in sprint-status, adds no history twice, and leaves the old database as it was', async () => {
    const root = projects.copy();
    mkdirSync(path.join(root, '.sprint-sim'), { recursive: true });
    writeFileSync(path.join(root, '.sprint-sim', 'scenario.yaml'), 'paceMs: 0\n');
    const statusFile = path.join(root, SPRINT_STATUS_REL);
    const before = readFileSync(statusFile, 'utf8');
    // a tree rebuilt from another commit may lack the previous orchestrator's database (no binaries in the index)
    const previous = path.join(root, PREVIOUS_DB_REL);
    const previousHash = existsSync(previous) ? sha256(previous) : null;
    const csvLinesBefore = readFileSync(path.join(root, LEGACY_CSV_REL), 'utf8').split('\n').filter(Boolean).length;

    const serving = await start(root);
    await serving.runner.start({ cycles: 2 });
    const output = await serving.runner.done();
    expect(output).toMatchObject({ type: 'ok', cyclesCompleted: 2 });
    const legacyDuring = (await (await fetch(`${serving.url}/api/legacy-events`, { headers: { authorization: `Bearer ${serving.token}` } })).json()) as unknown[];
    await serving.close();
    servings.splice(0);

    // byte-identical except the changed values: same lines, and a changed line differs only after `key: `
    const after = readFileSync(statusFile, 'utf8');
    const a = before.split('\n');
    const b = after.split('\n');
    expect(b).toHaveLength(a.length);
    const changed = a.flatMap((line, i) => (line === b[i] ? [] : [[line, b[i]!] as const]));
    expect(changed.length).toBeGreaterThan(0);
    for (const [old, now] of changed) {
      const key = /^ {2}([\w.-]+): /.exec(old)?.[1];
      expect(key, old).toBeDefined();
      expect(now).toMatch(new RegExp(`^ {2}${key}: (backlog|ready-for-dev|in-progress|review|done|blocked)$`));
    }
    // two cycles of at most a pair each: only the file's first four eligible stories can have changed
    const eligible = [...before.matchAll(/^ {2}(\d[\w.-]*): (backlog|ready-for-dev|in-progress|review)$/gm)].map((m) => m[1]!);
    const changedKeys = changed.map(([old]) => /^ {2}([\w.-]+):/.exec(old)![1]!);
    expect(eligible.slice(0, 4)).toEqual(expect.arrayContaining(changedKeys));

    // the subagents appended to the legacy log while the batch ran; a restart imports none of it
    const csvLinesAfter = readFileSync(path.join(root, LEGACY_CSV_REL), 'utf8').split('\n').filter(Boolean).length;
    expect(csvLinesAfter).toBeGreaterThan(csvLinesBefore);
    const restarted = await start(root);
    const legacyAfter = (await (await fetch(`${restarted.url}/api/legacy-events`, { headers: { authorization: `Bearer ${restarted.token}` } })).json()) as unknown[];
    expect(legacyAfter).toEqual(legacyDuring);
    expect(legacyAfter).toHaveLength(csvLinesBefore);
    if (previousHash !== null) expect(sha256(previous)).toBe(previousHash);
  });
});
