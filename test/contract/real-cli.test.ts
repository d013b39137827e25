// Contract test: the REAL Claude Code CLI (pinned 2.1.197, installed by scripts/install-claude.sh) run through our
// runClaudeProcess against a scripted mock of the Anthropic API on loopback. Nothing leaves the machine.
//
// The binary is SPRINT_RUNNER_CLAUDE_BIN, else <SPRINT_RUNNER_CLAUDE_CACHE or ~/.cache/sprint-runner/claude-code-2.1.197>
// /node_modules/.bin/claude. Missing: skipped locally, a failure when CI is set (CI installs it).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claudeArgs } from '../../machines/actors/claude-command.js';
import { CLAUDE_BASE_ARGS, runClaudeProcess } from '../../machines/claude/claude-process.js';
import { isAlive, listDescendants, readProcStat, readProcessStartTime } from '../../machines/claude/process-tree.js';
import type { ClaudeProcessHandle, ClaudeProcessMessage, CommandOutcome } from '../../machines/claude/types.js';
import type { CommandSpec } from '../../machines/types.js';
import { waitFor } from '../support/wait.js';
import { CLAUDE_BIN, contractEnv, PINNED_VERSION } from './cli-env.js';
import { SIDE_USAGE, startMockAnthropic, type MockAnthropic, type MockUsage, type RecordedRequest } from './mock-anthropic.js';

const IN_CI = !!process.env['CI'] && process.env['CI'] !== 'false' && process.env['CI'] !== '0';
const INSTALL_HINT = 'install it with `bash scripts/install-claude.sh` (or point SPRINT_RUNNER_CLAUDE_BIN at a claude 2.1.197)';

/** Why the pinned CLI cannot be used, or null when it can. */
function probeCli(): { missing: boolean; why: string } | null {
  if (!existsSync(CLAUDE_BIN)) return { missing: true, why: `the Claude CLI ${PINNED_VERSION} is not installed at ${CLAUDE_BIN}` };
  const home = mkdtempSync(join(tmpdir(), 'claude-probe-'));
  try {
    const probe = spawnSync(CLAUDE_BIN, ['--version'], { env: { PATH: process.env['PATH'], HOME: home, DISABLE_AUTOUPDATER: '1' }, encoding: 'utf8', timeout: 30_000 });
    const version = (probe.stdout ?? '').trim().split(/\s+/)[0] ?? '';
    if (version !== PINNED_VERSION) {
      const got = version || probe.error?.message || (probe.stderr ?? '').trim() || 'nothing';
      return { missing: false, why: `${CLAUDE_BIN} --version gave "${got}", the contract is pinned to ${PINNED_VERSION}` };
    }
    return null;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

const unavailable = probeCli();

if (unavailable === null) {
  describe(`real Claude CLI ${PINNED_VERSION} contract (offline, mock API)`, contractSuite);
} else if (IN_CI || !unavailable.missing) {
  // CI installs the CLI, so missing there is a failure; a wrong version is one everywhere
  describe('real Claude CLI contract', () => {
    it(`the Claude CLI ${PINNED_VERSION} is installed (CI runs scripts/install-claude.sh)`, () => {
      throw new Error(`${unavailable.why}; ${INSTALL_HINT}`);
    });
  });
} else {
  describe('real Claude CLI contract', () => {
    it.skip(`SKIPPED: ${unavailable.why}; ${INSTALL_HINT}. With CI set this fails instead.`, () => undefined);
  });
}

// Haiku 4.5 prices in USD per token, as the CLI computes total_cost_usd.
const HAIKU_PRICE = { input: 1e-6, output: 5e-6, cacheWrite5m: 1.25e-6, cacheRead: 0.1e-6 };
const LOG_SCRIPT_COMMAND = '_bmad/scripts/orchestrator.sh 1 1-1 dev-story setup start "Set up: \\"x\\", y"';

function contractSuite(): void {
  let mock: MockAnthropic;
  let scratch: string;
  let project: string;
  let home: string;
  let tmp: string;
  const handles: ClaudeProcessHandle[] = [];
  const leftovers: Array<[number, number]> = [];

  beforeAll(async () => {
    mock = await startMockAnthropic();
  });

  afterAll(async () => {
    await mock?.close();
  });

  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), 'claude-contract-'));
    // the CLI keeps state in HOME and task output under $TMPDIR/claude-<uid>/: both throwaway
    [project, home, tmp] = ['project', 'home', 'tmp'].map((name) => join(scratch, name)) as [string, string, string];
    for (const dir of [project, home, tmp]) mkdirSync(dir);
    mock.reset();
  });

  afterEach(async () => {
    // a test that failed half-way must not leave a CLI or its shells running: end them the way the runner would
    await Promise.all(handles.splice(0).map((handle) => handle.stop()));
    for (const [pid, startTime] of leftovers.splice(0)) {
      if (isAlive(pid, startTime)) process.kill(pid, 'SIGKILL');
    }
    rmSync(scratch, { recursive: true, force: true });
  });

  /** The environment a CI machine needs for the real CLI: throwaway HOME, the mock as API, nothing else reachable. */
  function cliEnv(): NodeJS.ProcessEnv {
    return contractEnv(mock.url, home, tmp);
  }

  /** a haiku command, as the machines hand it to the claudeCommand actor */
  const SPEC: CommandSpec = { command: 'dev-story', kind: 'dev-story', stories: [{ key: '1-1-setup', shortId: '1-1', epicId: '1' }], model: 'haiku', background: false, reviewAttempt: null, variables: {} };

  interface Started {
    handle: ClaudeProcessHandle;
    messages: ClaudeProcessMessage[];
    done: Promise<{ outcome: CommandOutcome; messages: ClaudeProcessMessage[]; ms: number }>;
  }

  function start(prompt: string, knownTaskIds?: string[]): Started {
    const messages: ClaudeProcessMessage[] = [];
    const began = Date.now();
    const handle = runClaudeProcess(
      {
        bin: CLAUDE_BIN,
        // exactly what the runner's claudeCommand actor passes
        args: claudeArgs(SPEC, 'bypassPermissions'),
        prompt,
        cwd: project,
        env: cliEnv(),
        ...(knownTaskIds ? { knownTaskIds } : {}),
        resultGraceMs: 10_000,
        idleTimeoutMs: 60_000,
        treePollMs: 100,
      },
      (m) => {
        messages.push(m);
        if (m.type === 'spawned') leftovers.push([m.pid, m.startTime]);
      },
    );
    handles.push(handle);
    const done = handle.finished.then((outcome) => ({ outcome, messages, ms: Date.now() - began }));
    return { handle, messages, done };
  }

  const ofType = <T extends ClaudeProcessMessage['type']>(messages: ClaudeProcessMessage[], type: T) =>
    messages.filter((m): m is Extract<ClaudeProcessMessage, { type: T }> => m.type === type);

  const bodyOf = (request: RecordedRequest): Record<string, unknown> => request.body as Record<string, unknown>;

  function lastUserText(request: RecordedRequest): string {
    const messages = bodyOf(request)['messages'] as Array<{ role: string; content: unknown }>;
    const user = [...messages].reverse().find((m) => m.role === 'user');
    if (!user) return '';
    if (typeof user.content === 'string') return user.content;
    return (user.content as Array<{ type: string; text?: string }>).map((b) => b.text ?? '').join('\n');
  }

  function toolResults(request: RecordedRequest): Array<{ tool_use_id: string; is_error?: boolean; content: unknown }> {
    const messages = bodyOf(request)['messages'] as Array<{ role: string; content: unknown }>;
    const out: Array<{ tool_use_id: string; is_error?: boolean; content: unknown }> = [];
    for (const m of messages) {
      if (m.role !== 'user' || !Array.isArray(m.content)) continue;
      for (const block of m.content as Array<Record<string, unknown>>) {
        if (block['type'] === 'tool_result') out.push(block as unknown as { tool_use_id: string; is_error?: boolean; content: unknown });
      }
    }
    return out;
  }

  const haikuCost = (u: MockUsage): number =>
    u.input_tokens * HAIKU_PRICE.input +
    u.output_tokens * HAIKU_PRICE.output +
    u.cache_creation_input_tokens * HAIKU_PRICE.cacheWrite5m +
    u.cache_read_input_tokens * HAIKU_PRICE.cacheRead;

  it('accepts our argv and stdin prompt: init arrives, --model haiku reaches the API as the full haiku name', async () => {
    const usage: MockUsage = { input_tokens: 120, output_tokens: 30, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    mock.enqueue({ kind: 'text', text: 'The project has one epic.', usage });
    const prompt = 'Summarise the layout of this project in one sentence.';
    const { outcome, messages, ms } = await start(prompt).done;

    const spawned = ofType(messages, 'spawned')[0]!;
    expect(spawned.argv).toEqual([CLAUDE_BIN, ...CLAUDE_BASE_ARGS, '--permission-mode', 'bypassPermissions', '--model', 'haiku']);
    const init = ofType(messages, 'init');
    expect(init).toHaveLength(1);
    expect(init[0]!.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(init[0]!.model).toMatch(/^claude-haiku-/);
    expect(ofType(messages, 'warning')).toEqual([]);

    const main = mock.requestsOf('main');
    expect(main).toHaveLength(1);
    const request = main[0]!;
    expect(request.url).toMatch(/^\/v1\/messages(\?|$)/);
    expect(bodyOf(request)['model']).toMatch(/^claude-haiku-4-5/);
    expect(bodyOf(request)['model']).toBe(init[0]!.model);
    expect(bodyOf(request)['stream']).toBe(true);
    expect(request.headers['x-api-key']).toBe('sk-test-fake');
    expect(request.headers['anthropic-version']).toBe('2023-06-01');
    expect(request.headers['x-claude-code-session-id']).toBe(init[0]!.sessionId);
    expect(request.headers['user-agent']).toContain(`claude-cli/${PINNED_VERSION}`);
    expect((bodyOf(request)['tools'] as Array<{ name: string }>).map((t) => t.name)).toContain('Bash');
    // the prompt went in through stdin and stdin was closed, or no request would have been sent at all
    expect(lastUserText(request)).toContain(prompt);

    // The CLI's own title request: told apart from the conversation, so it took no scripted reply.
    const titles = mock.requestsOf('title');
    expect(titles).toHaveLength(1);
    expect(bodyOf(titles[0]!)['tools']).toEqual([]);
    expect(bodyOf(titles[0]!)['model']).toBe(bodyOf(request)['model']);
    expect(lastUserText(titles[0]!)).toContain(prompt);
    expect(mock.requestsOf('other-messages')).toEqual([]);
    expect(mock.pending()).toBe(0);

    expect(outcome).toMatchObject({ ok: true, failure: null, exitCode: 0, signal: null, sessionId: init[0]!.sessionId, assistantText: 'The project has one epic.' });
    expect(outcome.result).toMatchObject({ subtype: 'success', isError: false, numTurns: 1, apiErrorStatus: null, permissionDenials: 0, resultText: 'The project has one epic.' });
    console.info(`[contract] plain run: ${ms} ms; requests: ${mock.requests.map((r) => `${r.method} ${r.role}`).join(', ')}`);
  }, 90_000);

  it('a real Bash tool_use of the log script becomes a task message, and the script really ran', async () => {
    mkdirSync(join(project, '_bmad', 'scripts'), { recursive: true });
    const script = join(project, '_bmad', 'scripts', 'orchestrator.sh');
    writeFileSync(script, '#!/usr/bin/env bash\n# records its arguments, one call per line\nprintf \'%s|\' "$@" >> "$(dirname "$0")/../../task-log.txt"\nprintf \'\\n\' >> "$(dirname "$0")/../../task-log.txt"\n');
    chmodSync(script, 0o755);
    const usage: MockUsage = { input_tokens: 100, output_tokens: 25, cache_creation_input_tokens: 40, cache_read_input_tokens: 200 };
    mock.enqueue(
      { kind: 'tool_use', name: 'Bash', input: { command: LOG_SCRIPT_COMMAND, description: 'Log the start of setup' }, text: 'Logging the task start.', usage },
      { kind: 'text', text: 'Setup has started.', usage },
    );

    const { outcome, messages } = await start('Run the dev-story workflow for story 1-1 and log each phase.', ['setup', 'implement']).done;

    expect(ofType(messages, 'task')).toEqual([
      {
        type: 'task',
        task: { epic: '1', story: '1-1', command: 'dev-story', taskId: 'setup', status: 'start', message: 'Set up: "x", y', form: 'orchestrator' },
        known: true,
      },
    ]);
    // the task arrives before the result, while the command still runs
    const order = messages.map((m) => m.type);
    expect(order.indexOf('task')).toBeLessThan(order.indexOf('result'));
    expect(readFileSync(join(project, 'task-log.txt'), 'utf8')).toBe('1|1-1|dev-story|setup|start|Set up: "x", y|\n');

    const main = mock.requestsOf('main');
    expect(main).toHaveLength(2);
    const results = toolResults(main[1]!);
    expect(results).toHaveLength(1);
    expect(results[0]!.tool_use_id).toMatch(/^toolu_mock_/);
    expect(results[0]!.is_error ?? false).toBe(false);
    expect(mock.pending()).toBe(0);

    expect(outcome.ok).toBe(true);
    expect(outcome.assistantText).toBe('Logging the task start.\nSetup has started.');
    // usage covers the two conversation turns only; total_cost_usd also includes the title request (SIDE_USAGE)
    const result = outcome.result!;
    expect(result).toMatchObject({
      subtype: 'success',
      isError: false,
      numTurns: 2,
      terminalReason: 'completed',
      usage: { inputTokens: 200, outputTokens: 50, cacheCreationInputTokens: 80, cacheReadInputTokens: 400 },
    });
    expect(result.costUsd).toBeCloseTo(2 * haikuCost(usage) + mock.requestsOf('title').length * haikuCost(SIDE_USAGE), 10);
    expect(result.durationMs).toBeGreaterThan(0);
    expect(result.sessionId).toBe(outcome.sessionId);
  }, 90_000);

  it.each([
    // the CLI rewrites some API messages: the mock's "invalid x-api-key" and "prompt is too long" are the real ones
    { status: 401, attempts: 2, text: /^Invalid API key/ },
    { status: 400, attempts: 1, text: /^Prompt is too long/ },
    { status: 429, attempts: 2, text: /429/ },
    { status: 500, attempts: 2, text: /^API Error: 500/ },
  ])('an API $status is a result with subtype success and is_error true: failure is-error ($attempts request(s))', async ({ status, attempts, text }) => {
    mock.enqueue({ kind: 'error', status, times: attempts });
    const { outcome, messages } = await start('Create the story file for story 1-1 from the epic.').done;

    const main = mock.requestsOf('main');
    expect(main).toHaveLength(attempts);
    // a retry sends the same conversation again (x-stainless-retry-count stays "0")
    if (attempts === 2) expect(bodyOf(main[1]!)['messages']).toEqual(bodyOf(main[0]!)['messages']);
    expect(mock.pending()).toBe(0);
    expect(ofType(messages, 'api-retry')).toEqual(attempts === 2 ? [{ type: 'api-retry', attempt: 1, errorStatus: status }] : []);

    expect(outcome.result).toMatchObject({ subtype: 'success', isError: true, apiErrorStatus: status, numTurns: 1 });
    expect(outcome.result!.usage).toEqual({ inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 });
    // the only cost is the title request's, which succeeded
    expect(outcome.result!.costUsd).toBeCloseTo(mock.requestsOf('title').length * haikuCost(SIDE_USAGE), 10);
    expect(outcome.result!.resultText).toMatch(text);
    expect(outcome).toMatchObject({ ok: false, failure: 'is-error' });
    expect(outcome.message).toContain(`API status ${status}`);
    expect(outcome.exitCode).toBe(1);
  }, 90_000);

  it('stop ends the whole real tree, including a `sleep 300` the Bash tool is running', async () => {
    mock.enqueue({ kind: 'tool_use', name: 'Bash', input: { command: 'sleep 300', description: 'Wait for the build' } });
    const { handle, messages, done } = start('Wait for the build to finish, then report.');

    const pid = await waitFor(() => handle.pid, 'the CLI pid');
    const cliStart = readProcessStartTime(pid)!;
    const sleepPid = await waitFor(
      () => listDescendants(pid).find((p) => readCmdline(p) === 'sleep 300'),
      'sleep 300 under the CLI',
      60_000,
    );
    const sleepStart = readProcessStartTime(sleepPid)!;
    const shellPid = readProcStat(sleepPid)!.ppid;
    const shellStart = readProcessStartTime(shellPid)!;
    leftovers.push([sleepPid, sleepStart], [shellPid, shellStart]);
    const sleepStat = readProcStat(sleepPid)!;
    console.info(`[contract] cli ${pid} (sid ${readProcStat(pid)?.sid}), shell ${shellPid}, sleep ${sleepPid} (pgid ${sleepStat.pgid}, sid ${sleepStat.sid})`);

    const stopBegan = Date.now();
    await handle.stop();
    const stopMs = Date.now() - stopBegan;
    const { outcome } = await done;

    expect(isAlive(pid, cliStart)).toBe(false);
    expect(isAlive(shellPid, shellStart)).toBe(false);
    expect(isAlive(sleepPid, sleepStart)).toBe(false);
    expect(outcome).toMatchObject({ ok: false, failure: 'interrupted' });
    expect(ofType(messages, 'exit')).toHaveLength(1);
    console.info(`[contract] stop took ${stopMs} ms; exit ${outcome.exitCode} signal ${outcome.signal}; result ${outcome.result?.subtype ?? 'none'} (${outcome.result?.terminalReason ?? '-'})`);
  }, 90_000);

  it('a CLI killed outright (SIGKILL, no chance to clean up) still leaves no `sleep 300` behind', async () => {
    mock.enqueue({ kind: 'tool_use', name: 'Bash', input: { command: 'sleep 300', description: 'Wait for the build' } });
    const { handle, done } = start('Wait for the build to finish, then report.');

    const pid = await waitFor(() => handle.pid, 'the CLI pid');
    const sleepPid = await waitFor(
      () => listDescendants(pid).find((p) => readCmdline(p) === 'sleep 300'),
      'sleep 300 under the CLI',
      60_000,
    );
    const sleepStart = readProcessStartTime(sleepPid)!;
    leftovers.push([sleepPid, sleepStart]);
    // the shell runs in a session of its own: only the tracker's scans (every treePollMs) know it belongs to us
    expect(readProcStat(sleepPid)!.sid).not.toBe(pid);
    await new Promise((resolve) => setTimeout(resolve, 500));

    process.kill(pid, 'SIGKILL');
    const { outcome } = await done;

    expect(isAlive(sleepPid, sleepStart)).toBe(false);
    expect(outcome).toMatchObject({ ok: false, failure: 'no-result', signal: 'SIGKILL', result: null });
  }, 90_000);
}

function readCmdline(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '').split('\0').join(' ');
  } catch {
    return null;
  }
}
