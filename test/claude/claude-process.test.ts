// Runs a fake claude CLI (test/claude/bin/fake-claude.mjs) through runClaudeProcess and checks outcomes and events.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runClaudeProcess } from '../../machines/claude/claude-process.js';
import { isAlive, listDescendants, readProcessStartTime } from '../../machines/claude/process-tree.js';
import type { ClaudeProcessMessage, ClaudeProcessOptions, CommandOutcome } from '../../machines/claude/types.js';
import { waitFor } from '../support/wait.js';

const FAKE_CLAUDE = fileURLToPath(new URL('./bin/fake-claude.mjs', import.meta.url));

let dir: string;
const leftovers: number[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'claude-process-'));
});

afterEach(() => {
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  outcome: CommandOutcome;
  messages: ClaudeProcessMessage[];
  ms: number;
}

function start(scenario: string, extra: Partial<ClaudeProcessOptions> = {}, extraArgs: string[] = []) {
  const messages: ClaudeProcessMessage[] = [];
  const began = Date.now();
  const handle = runClaudeProcess(
    {
      bin: FAKE_CLAUDE,
      args: ['--scenario', scenario, ...extraArgs],
      prompt: 'Do the thing.',
      cwd: dir,
      resultGraceMs: 200,
      treePollMs: 50,
      ...extra,
    },
    (m) => messages.push(m),
  );
  const done = handle.finished.then((outcome): Run => ({ outcome, messages, ms: Date.now() - began }));
  return { handle, messages, done };
}

const run = (scenario: string, extra: Partial<ClaudeProcessOptions> = {}, extraArgs: string[] = []): Promise<Run> =>
  start(scenario, extra, extraArgs).done;

const ofType = <T extends ClaudeProcessMessage['type']>(messages: ClaudeProcessMessage[], type: T) =>
  messages.filter((m): m is Extract<ClaudeProcessMessage, { type: T }> => m.type === type);


function readPidFile(path: string): number | null {
  if (!existsSync(path)) return null;
  const pid = Number(readFileSync(path, 'utf8').trim());
  return pid > 0 ? pid : null;
}

describe('runClaudeProcess', () => {
  it('a clean run: ok outcome, tasks from main and subagent, main text only, messages in order', async () => {
    const { outcome, messages } = await run('ok', { knownTaskIds: ['implement', 'review'] });
    expect(outcome).toMatchObject({
      ok: true,
      failure: null,
      exitCode: 0,
      signal: null,
      sessionId: '5c5b8ace-7358-4c1b-9ea5-2583a07602b6',
      model: 'claude-sonnet-4-5',
      warnings: 0,
    });
    expect(outcome.result).toMatchObject({ subtype: 'success', isError: false, numTurns: 2, costUsd: 0.001125 });
    expect(outcome.assistantText).toBe('Prompt had 13 chars.\nAll done.');
    expect(outcome.pid).toBeGreaterThan(0);

    expect(ofType(messages, 'task')).toEqual([
      {
        type: 'task',
        known: true,
        task: { epic: '2', story: '2-3', command: 'dev-story', taskId: 'implement', status: 'start', message: 'Implementing story 2-3', form: 'orchestrator' },
      },
      {
        type: 'task',
        known: true,
        task: { epic: '2', story: '2-3', command: 'code-review-1', taskId: 'review', status: 'end', message: `3 issues, it's "fine"`, form: 'json' },
      },
      {
        type: 'task',
        known: false,
        task: { epic: '2', story: '2-3', command: 'dev-story', taskId: 'workflow', status: 'end', message: '', form: 'orchestrator' },
      },
    ]);
    const types = messages.map((m) => m.type);
    expect(types[0]).toBe('spawned');
    expect(types[1]).toBe('init');
    expect(types.filter((t) => t === 'exit')).toHaveLength(1);
    expect(types[types.length - 1]).toBe('exit');
    expect(types.indexOf('result')).toBeLessThan(types.indexOf('exit'));
    const spawned = ofType(messages, 'spawned')[0]!;
    expect(spawned.argv).toEqual([FAKE_CLAUDE, '-p', '--output-format', 'stream-json', '--verbose', '--scenario', 'ok']);
    expect(spawned.startTime).toBeGreaterThan(0);
  });

  it('every task is known when no taxonomy is given', async () => {
    const { messages } = await run('ok');
    expect(ofType(messages, 'task').map((m) => m.known)).toEqual([true, true, true]);
  });

  it('garbage and unknown lines are warnings, each unknown kind once; the run still succeeds', async () => {
    const { outcome, messages } = await run('garbage');
    expect(outcome.ok).toBe(true);
    const warnings = ofType(messages, 'warning').map((m) => m.message);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toContain('this is not json');
    expect(warnings[1]).toContain('no string "type"');
    expect(warnings[2]).toContain('brand_new_thing');
    expect(outcome.warnings).toBe(3);
  });

  it('is_error with subtype success fails as is-error', async () => {
    const { outcome } = await run('is-error');
    expect(outcome).toMatchObject({ ok: false, failure: 'is-error', exitCode: 1 });
    expect(outcome.message).toContain('401');
    expect(outcome.message).toContain('Invalid API key');
  });

  it('a non-success subtype fails as error-subtype', async () => {
    const { outcome } = await run('error-subtype');
    expect(outcome).toMatchObject({ ok: false, failure: 'error-subtype' });
    expect(outcome.message).toContain('error_max_turns');
  });

  it('permission denials are a warning, not a failure', async () => {
    const { outcome, messages } = await run('denials');
    expect(outcome.ok).toBe(true);
    expect(ofType(messages, 'warning').map((m) => m.message).join('\n')).toMatch(/1 tool call\(s\) were denied/);
  });

  it('no result line fails as no-result and quotes stderr', async () => {
    const { outcome } = await run('no-result');
    expect(outcome).toMatchObject({ ok: false, failure: 'no-result', exitCode: 1 });
    expect(outcome.message).toContain('Error: something broke');
    expect(outcome.stderrTail).toContain('Error: something broke');
    expect(outcome.assistantText).toBe('Starting.');
  });

  it('a process that hangs after its result is ended after the grace period, and that is a failure (spec step 5)', async () => {
    const { handle, done } = start('hang-after-result', { resultGraceMs: 200 });
    const pid = handle.pid!;
    const startTime = await waitFor(() => readProcessStartTime(pid));
    const { outcome, messages } = await done;
    expect(outcome).toMatchObject({ ok: false, failure: 'watchdog-exit' });
    expect(outcome.result).toMatchObject({ subtype: 'success' });
    expect(outcome.message).toContain('did not exit within 200 ms after its result');
    expect(outcome.signal).toBe('SIGINT');
    expect(ofType(messages, 'warning').map((m) => m.message).join('\n')).toContain('did not exit within 200 ms');
    expect(isAlive(pid, startTime)).toBe(false);
  });

  it('idle watchdog ends a silent process', async () => {
    const { outcome } = await run('hang', { idleTimeoutMs: 300 });
    expect(outcome).toMatchObject({ ok: false, failure: 'watchdog-idle' });
    expect(outcome.message).toContain('300 ms');
  });

  it('idle watchdog does not fire while output keeps coming', async () => {
    const { outcome } = await run('silent-then-output', { idleTimeoutMs: 1000 });
    expect(outcome.ok).toBe(true);
  });

  it('total watchdog ends a process that runs too long', async () => {
    const { outcome } = await run('hang', { totalTimeoutMs: 300 });
    expect(outcome).toMatchObject({ ok: false, failure: 'watchdog-total' });
  });

  it('stop() ends the whole tree, including a grandchild in its own session', async () => {
    const pidFile = join(dir, 'sleep.pid');
    const { handle, done } = start('grandchild', {}, ['--pid-file', pidFile]);
    const sleepPid = await waitFor(() => readPidFile(pidFile));
    leftovers.push(sleepPid);
    const sleepStart = readProcessStartTime(sleepPid)!;
    const cliPid = handle.pid!;
    const cliStart = readProcessStartTime(cliPid)!;
    expect(isAlive(sleepPid, sleepStart)).toBe(true);

    await handle.stop();
    const { outcome, messages } = await done;
    expect(outcome).toMatchObject({ ok: false, failure: 'interrupted' });
    expect(isAlive(cliPid, cliStart)).toBe(false);
    expect(isAlive(sleepPid, sleepStart)).toBe(false);
    expect(ofType(messages, 'exit')).toHaveLength(1);
  });

  it('stop() also ends a job that was re-parented away from the CLI before the stop', async () => {
    const pidFile = join(dir, 'orphan.pid');
    const { handle, done } = start('orphan-then-hang', {}, ['--pid-file', pidFile]);
    const sleepPid = await waitFor(() => readPidFile(pidFile));
    leftovers.push(sleepPid);
    const sleepStart = readProcessStartTime(sleepPid)!;
    // wait until its parent is gone, so walking the CLI's children can no longer find it
    await waitFor(() => !listDescendants(handle.pid!).includes(sleepPid));
    expect(isAlive(sleepPid, sleepStart)).toBe(true);
    await handle.stop();
    expect((await done).outcome.failure).toBe('interrupted');
    expect(isAlive(sleepPid, sleepStart)).toBe(false);
  });

  it('stop() on a CLI that answers SIGINT with an error result reports interrupted', async () => {
    const { handle, messages, done } = start('sigint-result');
    await waitFor(() => messages.some((m) => m.type === 'init'));
    await handle.stop('interrupted');
    const { outcome } = await done;
    expect(outcome.failure).toBe('interrupted');
    expect(outcome.result?.subtype).toBe('error_during_execution');
  });

  it('stop() after an ok result keeps ok', async () => {
    const { handle, messages, done } = start('hang-after-result', { resultGraceMs: 60_000 });
    await waitFor(() => messages.some((m) => m.type === 'result'));
    await handle.stop();
    const { outcome } = await done;
    expect(outcome).toMatchObject({ ok: true, failure: null });
  });

  it('stop() with another reason reports that reason', async () => {
    const { handle, messages, done } = start('hang');
    await waitFor(() => messages.some((m) => m.type === 'init'));
    await handle.stop('watchdog-exit');
    expect((await done).outcome.failure).toBe('watchdog-exit');
  });

  it('a grandchild left behind when the CLI exits is ended before exit is sent', async () => {
    const pidFile = join(dir, 'sleep.pid');
    let sleepPid: number | null = null;
    let sleepStart: number | null = null;
    const { outcome } = await run('grandchild-exit', {}, ['--pid-file', pidFile, '--delay', '400']).then(async (r) => {
      sleepPid = readPidFile(pidFile);
      return r;
    });
    expect(outcome.ok).toBe(true);
    expect(sleepPid).not.toBeNull();
    leftovers.push(sleepPid!);
    sleepStart = readProcessStartTime(sleepPid!);
    // gone (or a zombie not yet reaped by PID 1, which isAlive counts as gone)
    expect(sleepStart === null || !isAlive(sleepPid!, sleepStart)).toBe(true);
  });

  it('a missing binary fails as spawn-failed with the install hint, and exit is still sent', async () => {
    const messages: ClaudeProcessMessage[] = [];
    const handle = runClaudeProcess({ bin: join(dir, 'no-such-claude'), args: [], prompt: 'x', cwd: dir }, (m) => messages.push(m));
    const outcome = await handle.finished;
    expect(outcome).toMatchObject({ ok: false, failure: 'spawn-failed', pid: null });
    expect(outcome.message).toContain(join(dir, 'no-such-claude'));
    expect(outcome.message).toContain('npm install -g @anthropic-ai/claude-code');
    expect(messages.map((m) => m.type)).toEqual(['exit']);
    expect(handle.pid).toBeNull();
    await handle.stop(); // harmless after the end
  });

  it('a binary that is not executable fails as spawn-failed (EACCES)', async () => {
    const bin = join(dir, 'claude');
    writeFileSync(bin, '#!/bin/sh\necho hi\n');
    chmodSync(bin, 0o644);
    const outcome = await runClaudeProcess({ bin, args: [], prompt: 'x', cwd: dir }, () => undefined).finished;
    expect(outcome.failure).toBe('spawn-failed');
    expect(outcome.message).toContain('EACCES');
    expect(outcome.message).toContain('npm install -g @anthropic-ai/claude-code');
  });

  it('a missing working directory fails as spawn-failed and says so', async () => {
    const outcome = await runClaudeProcess({ bin: FAKE_CLAUDE, args: [], prompt: 'x', cwd: join(dir, 'gone') }, () => undefined).finished;
    expect(outcome.failure).toBe('spawn-failed');
    expect(outcome.message).toContain('does not exist');
  });

  it('a 50 MB single line does not crash the reader', async () => {
    const { outcome, messages } = await run('huge-line');
    expect(ofType(messages, 'warning')).toEqual([]);
    expect(outcome).toMatchObject({ ok: true, warnings: 0 });
    expect(outcome.assistantText).toBe('All done.');
  }, 60_000);

  it('a line past maxLineBytes is dropped with a warning and reading recovers', async () => {
    const { outcome, messages } = await run('long-line', { maxLineBytes: 1000 });
    expect(outcome.ok).toBe(true);
    expect(outcome.warnings).toBe(1);
    expect(ofType(messages, 'warning')[0]!.message).toContain('longer than 1000 bytes');
  });

  it('2 MB on stderr does not deadlock; the tail is kept, capped at 8 KB, and is not a warning', async () => {
    const { outcome } = await run('stderr-flood');
    expect(outcome).toMatchObject({ ok: true, warnings: 0 });
    expect(Buffer.byteLength(outcome.stderrTail)).toBeLessThanOrEqual(8 * 1024);
    expect(outcome.stderrTail.endsWith('last stderr line\n')).toBe(true);
  }, 30_000);

  it('CRLF lines, a multi-byte character split across writes, and a last line without newline', async () => {
    const { outcome } = await run('split-writes');
    expect(outcome.ok).toBe(true);
    expect(outcome.assistantText).toBe('héllo ✓ 🎉');
  });

  it('a child that never reads its prompt (EPIPE on stdin) does not crash the runner', async () => {
    const { outcome } = await run('ignore-stdin', { prompt: 'p'.repeat(4 * 1024 * 1024) });
    expect(outcome.ok).toBe(true);
  });

  it('a throwing listener does not break the run', async () => {
    const outcome = await runClaudeProcess(
      { bin: FAKE_CLAUDE, args: ['--scenario', 'ok'], prompt: 'x', cwd: dir, resultGraceMs: 200 },
      () => {
        throw new Error('listener bug');
      },
    ).finished;
    expect(outcome.ok).toBe(true);
  });

  it('the fake refuses a command line without --verbose, like the real CLI, so the ok runs prove the argv', () => {
    const bare = spawnSync(FAKE_CLAUDE, ['-p', '--output-format', 'stream-json'], { input: 'x', encoding: 'utf8' });
    expect(bare.status).toBe(1);
    expect(bare.stderr).toContain('requires --verbose');
  });
});
