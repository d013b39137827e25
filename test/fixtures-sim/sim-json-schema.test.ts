// The simulated CLI's --json-schema, as the real 2.1.197 does it: bad JSON refused, StructuredOutput listed, the answer in the result.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeProject, SIM_CLAUDE } from '../support/scenario.js';

const BASE = ['-p', '--output-format', 'stream-json', '--verbose', '--permission-mode', 'bypassPermissions'];
const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const project = (...args: Parameters<typeof makeProject>) => {
  const dir = makeProject(...args);
  made.push(dir);
  return dir;
};

const PROMPT = 'Command: code-review-1\nStories: 1-1\nReview attempt: 1\n';

function sim(cwd: string, args: string[]) {
  const r = spawnSync(process.execPath, [SIM_CLAUDE, ...BASE, ...args], { cwd, input: PROMPT, encoding: 'utf8', env: { ...process.env, IS_SANDBOX: '1', SPRINT_SIM_PACE_MS: '0' } });
  const lines = (r.stdout ?? '').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code: r.status, stderr: r.stderr ?? '', lines };
}

describe('sim-claude --json-schema', () => {
  it('refuses a value that is not JSON, like the real CLI: exit 1, nothing on stdout', () => {
    const r = sim(project(), ['--json-schema', '/tmp/schema.json']);
    expect(r.code).toBe(1);
    expect(r.lines).toEqual([]);
    expect(r.stderr).toMatch(/^Error: --json-schema is not valid JSON: /);
  });

  it('lists StructuredOutput in init and ends with the answer as structured_output', () => {
    const root = project({ developmentStatus: '  epic-1: in-progress\n  1-1-alpha: review\n', scenario: { stories: { '1-1': { codeReview: [{ high: 1, issues: ['HIGH Missing null check in src/a.ts:42'] }] } } } });
    const r = sim(root, ['--json-schema', '{"type":"object"}']);
    expect(r.code).toBe(0);
    expect(r.lines[0]).toMatchObject({ type: 'system', subtype: 'init' });
    expect(r.lines[0]!['tools']).toContain('StructuredOutput');
    const answer = { highest: 'HIGH', counts: { critical: 0, high: 1, medium: 0, low: 0 }, issues: [{ severity: 'HIGH', title: 'Missing null check', file: 'src/a.ts:42' }] };
    expect(r.lines.at(-1)).toMatchObject({ type: 'result', subtype: 'success', is_error: false, stop_reason: 'tool_use', structured_output: answer, result: JSON.stringify(answer) });
    // without the flag: no such tool, no such field
    const plain = sim(root, []);
    expect(plain.lines[0]!['tools']).not.toContain('StructuredOutput');
    expect(plain.lines.at(-1)).not.toHaveProperty('structured_output');
  });
});
