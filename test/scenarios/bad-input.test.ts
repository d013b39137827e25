// Bad project input gets a clear error before any child is spawned, and nothing in the project is lost or changed.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSprintRunner } from '../../machines/runner.js';
import { WORKFLOW_DIR } from '../../machines/project/layout.js';
import { makeProject, startRunner, SPRINT_STATUS_REL, type ScenarioRun } from '../support/scenario.js';

let run: ScenarioRun | null = null;
afterEach(async () => {
  await run?.cleanup();
  run = null;
});

async function batchOn(root: string, cycles: number | 'all' = 1) {
  run = startRunner(root);
  await run.runner.start({ cycles });
  return run.runner.done();
}

describe('bad project input', () => {
  it('a missing prompt template ends the batch before any spawn, naming the file', async () => {
    const root = makeProject();
    rmSync(path.join(root, WORKFLOW_DIR, 'prompts', 'code-review.md'));
    const output = await batchOn(root);
    expect(output).toMatchObject({ type: 'error', error: expect.stringContaining('prompts/code-review.md') });
    expect(run!.trace()).toEqual([]);
    expect(run!.events.map((e) => e.type).filter((t) => t !== 'machine')).toEqual(['batch:start', 'state', 'batch:end', 'state']);
  });

  it('a workflow folder of another version (v3: commands/, no prompts/) is named as such before any spawn', async () => {
    const root = makeProject();
    rmSync(path.join(root, WORKFLOW_DIR, 'prompts'), { recursive: true });
    mkdirSync(path.join(root, WORKFLOW_DIR, 'commands', 'sprint-dev-story'), { recursive: true });
    const output = await batchOn(root);
    expect(output).toMatchObject({ type: 'error', error: expect.stringContaining(`no ${WORKFLOW_DIR}/prompts folder`) });
    expect(output).toMatchObject({ error: expect.stringContaining('commands/ instead of prompts/') });
    expect(run!.trace()).toEqual([]);
  });

  it('a project root without the workflow folder says so', async () => {
    const root = makeProject();
    rmSync(path.join(root, WORKFLOW_DIR), { recursive: true });
    const output = await batchOn(root);
    expect(output).toMatchObject({ type: 'error', error: expect.stringMatching(/^Workflow folder not found: .*sprint-runner \(is .* the project root\?\)$/) });
  });

  it('a missing taxonomy ends the batch before any spawn', async () => {
    const root = makeProject();
    rmSync(path.join(root, WORKFLOW_DIR, 'task-taxonomy.yaml'));
    const output = await batchOn(root);
    expect(output).toMatchObject({ type: 'error', error: expect.stringContaining('task-taxonomy.yaml') });
    expect(run!.trace()).toEqual([]);
  });

  it('a broken taxonomy names what is wrong', async () => {
    const root = makeProject();
    writeFileSync(path.join(root, WORKFLOW_DIR, 'task-taxonomy.yaml'), 'commands:\n  dev-story:\n    phases: nope\n');
    const output = await batchOn(root);
    expect(output).toMatchObject({ type: 'error', error: expect.stringContaining('commands.dev-story.phases is not a list') });
  });

  it('a missing sprint-status gets a template and the batch ends in error: sprint planning comes first', async () => {
    const root = makeProject();
    const file = path.join(root, SPRINT_STATUS_REL);
    rmSync(file);
    const output = await batchOn(root);
    expect(output).toMatchObject({ type: 'error', error: expect.stringContaining('Run sprint planning first') });
    const template = readFileSync(file, 'utf8');
    expect(template).toContain('tracking_system: file-system');
    expect(template).toContain('development_status:');
    expect(run!.trace()).toEqual([]);
  });

  it('an unparseable sprint-status ends the batch with file, line and reason, and the file is not touched', async () => {
    const root = makeProject();
    const file = path.join(root, SPRINT_STATUS_REL);
    const broken = readFileSync(file, 'utf8').replace('  2a-1-log-parser: ready-for-dev', '  2a-1-log-parser: [ready-for-dev');
    writeFileSync(file, broken);
    const output = await batchOn(root);
    expect(output.type).toBe('error');
    expect(output.type === 'error' && output.error).toMatch(new RegExp(`${file.replaceAll('/', '\\/')}:\\d+:\\d+: `));
    expect(readFileSync(file, 'utf8')).toBe(broken);
  });

  it('a project folder that does not exist is refused at start with a clear error', async () => {
    const runner = createSprintRunner({ projectRoot: '/nonexistent/project' });
    await expect(runner.start({ cycles: 1 })).rejects.toThrow('Project folder not found: /nonexistent/project');
    await runner.close();
  });

  it('runs as root with bypassPermissions only when IS_SANDBOX=1 says this is a sandbox', async () => {
    if (process.getuid?.() !== 0) return expect(true).toBe(true);
    run = startRunner(makeProject(), { env: { IS_SANDBOX: '' } });
    await run.runner.start({ cycles: 1 });
    const output = await run.runner.done();
    expect(output).toMatchObject({ type: 'error', error: expect.stringContaining('IS_SANDBOX=1') });
  });
});

describe('sprint-status edits', () => {
  it('after a whole sprint, every byte of the file is as it was except the changed status values', async () => {
    const root = makeProject();
    const file = path.join(root, SPRINT_STATUS_REL);
    const before = readFileSync(file, 'utf8');
    const output = await batchOn(root, 'all');
    expect(output).toMatchObject({ type: 'ok', message: 'Sprint complete: 9 done, 0 blocked' });
    // expected independently: each unfinished story line of the original, with its value replaced by done
    const expected = before.replace(/^(  (?:1-3|2a-\d|3-\d)-[a-z-]+: )(review|ready-for-dev|backlog)/gm, '$1done');
    expect(expected.match(/: done/g)).toHaveLength(before.match(/: done/g)!.length + 7);
    expect(readFileSync(file, 'utf8')).toBe(expected);
    expect(existsSync(file)).toBe(true);
  });
});

describe('a project folder that is not writable', () => {
  it('ends the batch before any spawn with a clear error, and changes nothing', async () => {
    const { spawnSync } = await import('node:child_process');
    const root = makeProject();
    const impl = path.join(root, '_bmad-output', 'implementation-artifacts');
    const before = readFileSync(path.join(root, SPRINT_STATUS_REL), 'utf8');
    // chattr +i stops even root, which this test runs as; without chattr, fall back to a plain chmod
    const immutable = spawnSync('chattr', ['+i', impl]).status === 0;
    if (!immutable) spawnSync('chmod', ['a-w', impl]);
    try {
      const output = await batchOn(root);
      expect(output).toMatchObject({ type: 'error', error: expect.stringContaining(`Folder is not writable: ${impl}`) });
      expect(run!.trace()).toEqual([]);
      expect(readFileSync(path.join(root, SPRINT_STATUS_REL), 'utf8')).toBe(before);
    } finally {
      if (immutable) spawnSync('chattr', ['-i', impl]);
      else spawnSync('chmod', ['u+w', impl]);
    }
  });
});
