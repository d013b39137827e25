// Contract test: what the REAL Claude CLI 2.1.197 does with `--json-schema`, run through our runClaudeProcess against the
// mock Anthropic API on loopback. Documented in docs/structured-verdict.md. Skipped (a failure in CI) like real-cli.test.ts
// when the pinned CLI is not installed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claudeArgs } from '../../machines/actors/claude-command.js';
import { CLAUDE_BASE_ARGS, runClaudeProcess } from '../../machines/claude/claude-process.js';
import { STRUCTURED_OUTPUT_RETRIES } from '../../machines/claude/outcome.js';
import type { ClaudeProcessHandle, ClaudeProcessMessage, CommandOutcome } from '../../machines/claude/types.js';
import { CODE_REVIEW_SCHEMA, codeReviewVerdict, STORY_REVIEW_SCHEMA, storyReviewVerdict } from '../../machines/rules/review-verdict.js';
import type { CommandSpec } from '../../machines/types.js';
import { CLAUDE_BIN, IN_CI, offlineCliEnv, PINNED_VERSION } from './cli-env.js';
import { startMockAnthropic, type MockAnthropic, type RecordedRequest } from './mock-anthropic.js';

function installedVersion(): string | null {
  if (!existsSync(CLAUDE_BIN)) return null;
  const home = mkdtempSync(join(tmpdir(), 'claude-probe-'));
  try {
    const probe = spawnSync(CLAUDE_BIN, ['--version'], { env: { PATH: process.env['PATH'], HOME: home, DISABLE_AUTOUPDATER: '1' }, encoding: 'utf8', timeout: 30_000 });
    return (probe.stdout ?? '').trim().split(/\s+/)[0] ?? '';
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

const version = installedVersion();
if (version === PINNED_VERSION) describe(`--json-schema with the real Claude CLI ${PINNED_VERSION} (offline, mock API)`, suite);
else if (IN_CI || version !== null) {
  describe('--json-schema contract', () => {
    it(`the Claude CLI ${PINNED_VERSION} is installed (CI runs scripts/install-claude.sh)`, () => {
      throw new Error(`${CLAUDE_BIN}: ${version === null ? 'not installed' : `version ${version}`}; run \`bash scripts/install-claude.sh\``);
    });
  });
} else {
  describe('--json-schema contract', () => {
    it.skip(`SKIPPED: the Claude CLI ${PINNED_VERSION} is not installed at ${CLAUDE_BIN}; with CI set this fails instead`, () => undefined);
  });
}

const STORY = { key: '1-1-setup', shortId: '1-1', epicId: '1' };
const spec = (kind: 'code-review' | 'story-review', command: string): CommandSpec => ({ command, kind, stories: [STORY], model: 'haiku', background: false, reviewAttempt: 1, variables: {} });
const CODE_REVIEW = spec('code-review', 'code-review-2');
const REVIEW_TEXT = '### Issues Found: 0 CRITICAL, 1 HIGH, 0 MEDIUM, 0 LOW\n\n#### HIGH Issues\n1. **Missing null check** - src/a.ts:42\n\nHIGHEST SEVERITY: HIGH\nIssues: 0 CRITICAL, 1 HIGH, 0 MEDIUM, 0 LOW';
const ANSWER = { highest: 'HIGH', counts: { critical: 0, high: 1, medium: 0, low: 0 }, issues: [{ severity: 'HIGH', title: 'Missing null check', file: 'src/a.ts:42' }] };

function suite(): void {
  let mock: MockAnthropic;
  let scratch: string;
  const handles: ClaudeProcessHandle[] = [];

  beforeAll(async () => {
    mock = await startMockAnthropic();
  });
  afterAll(async () => {
    await mock?.close();
  });
  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), 'claude-schema-'));
    for (const dir of ['project', 'home', 'tmp']) mkdirSync(join(scratch, dir));
    mock.reset();
  });
  afterEach(async () => {
    await Promise.all(handles.splice(0).map((handle) => handle.stop()));
    rmSync(scratch, { recursive: true, force: true });
  });

  function run(command: CommandSpec, prompt: string): Promise<{ outcome: CommandOutcome; messages: ClaudeProcessMessage[] }> {
    const messages: ClaudeProcessMessage[] = [];
    const handle = runClaudeProcess(
      {
        bin: CLAUDE_BIN,
        // exactly what the runner's claudeCommand actor passes for this command
        args: claudeArgs(command, 'bypassPermissions'),
        prompt,
        cwd: join(scratch, 'project'),
        env: offlineCliEnv(mock.url, join(scratch, 'home'), join(scratch, 'tmp')),
        resultGraceMs: 10_000,
        idleTimeoutMs: 60_000,
        treePollMs: 100,
      },
      (m) => messages.push(m),
    );
    handles.push(handle);
    return handle.finished.then((outcome) => ({ outcome, messages }));
  }

  const body = (r: RecordedRequest) => r.body as { tools: Array<{ name: string; input_schema: unknown }>; system: unknown; messages: Array<{ role: string; content: unknown }> };
  const lastUserText = (r: RecordedRequest): string => {
    const user = [...body(r).messages].reverse().find((m) => m.role === 'user');
    if (!user) return '';
    return typeof user.content === 'string' ? user.content : (user.content as Array<{ text?: string }>).map((b) => b.text ?? '').join('\n');
  };
  const PROMPT = 'Review the code of story 1-1 adversarially and fix what you find.';

  it('argv accepted; the schema becomes the StructuredOutput tool; the answer comes back as result.structured_output and is the verdict', async () => {
    mock.enqueue({ kind: 'tool_use', name: 'StructuredOutput', input: ANSWER, text: REVIEW_TEXT }, { kind: 'text', text: 'never asked for' });
    const { outcome, messages } = await run(CODE_REVIEW, PROMPT);

    const spawned = messages.find((m): m is Extract<ClaudeProcessMessage, { type: 'spawned' }> => m.type === 'spawned')!;
    expect(spawned.argv).toEqual([CLAUDE_BIN, ...CLAUDE_BASE_ARGS, '--permission-mode', 'bypassPermissions', '--model', 'haiku', '--json-schema', JSON.stringify(CODE_REVIEW_SCHEMA)]);
    const main = mock.requestsOf('main');
    // a valid StructuredOutput call ends the run at once: the second reply is never asked for
    expect(main).toHaveLength(1);
    expect(mock.pending()).toBe(1);
    const tool = body(main[0]!).tools.find((t) => t.name === 'StructuredOutput');
    expect(tool?.input_schema).toEqual(CODE_REVIEW_SCHEMA);
    // a tool, not a system prompt: nothing about it is added to the system text
    expect(JSON.stringify(body(main[0]!).system)).not.toContain('StructuredOutput');

    expect(outcome).toMatchObject({ ok: true, failure: null, assistantText: REVIEW_TEXT });
    expect(outcome.result).toMatchObject({ subtype: 'success', isError: false, structuredOutput: ANSWER, resultText: JSON.stringify(ANSWER) });
    const verdict = codeReviewVerdict(outcome.assistantText, outcome.result!.structuredOutput);
    expect(verdict).toMatchObject({ source: 'structured', disagreement: null, report: { highest: 'HIGH', counts: ANSWER.counts, zeroIssues: false } });
    expect(verdict.issues).toEqual([{ severity: 'HIGH', title: 'Missing null check', file: 'src/a.ts:42' }]);
  }, 90_000);

  it('a model that ignores the tool gets one synthetic nudge, then the run ends success without structured_output: the text decides', async () => {
    mock.enqueue({ kind: 'text', text: REVIEW_TEXT, times: 2 });
    const { outcome } = await run(CODE_REVIEW, PROMPT);

    const main = mock.requestsOf('main');
    expect(main).toHaveLength(2);
    expect(lastUserText(main[1]!)).toContain('[structured-output-enforce] You MUST call the StructuredOutput tool');
    expect(outcome).toMatchObject({ ok: true, failure: null });
    expect(outcome.result).toMatchObject({ subtype: 'success', isError: false });
    expect(outcome.result!.structuredOutput).toBeUndefined();
    // the answer to the nudge is assistant text too: the review is read twice, which the reader tolerates
    expect(outcome.assistantText).toBe(`${REVIEW_TEXT}\n${REVIEW_TEXT}`);
    expect(codeReviewVerdict(outcome.assistantText, outcome.result!.structuredOutput)).toMatchObject({ source: 'text', report: { highest: 'HIGH', counts: ANSWER.counts } });
  }, 90_000);

  it('five answers that fail the schema end error_max_structured_output_retries, which the runner takes as a run whose text decides', async () => {
    mock.enqueue({ kind: 'tool_use', name: 'StructuredOutput', input: { highest: 'SEVERE' }, text: REVIEW_TEXT, times: 5 });
    const { outcome } = await run(CODE_REVIEW, PROMPT);

    expect(mock.requestsOf('main')).toHaveLength(5);
    expect(outcome.result).toMatchObject({ subtype: STRUCTURED_OUTPUT_RETRIES, isError: true });
    expect(outcome).toMatchObject({ ok: true, failure: null });
    expect(outcome.exitCode).toBe(1);
    expect(codeReviewVerdict(outcome.assistantText, outcome.result!.structuredOutput)).toMatchObject({ source: 'text', report: { highest: 'HIGH' } });
  }, 90_000);

  it('story-review: critical issues per story', async () => {
    const answer = { stories: [{ story: '1-1', critical_issues: 2 }] };
    mock.enqueue({ kind: 'tool_use', name: 'StructuredOutput', input: answer, text: 'Story 1-1: CRITICAL ISSUES FOUND: 2' });
    const { outcome } = await run(spec('story-review', 'story-review-1'), 'Review story 1-1 before development.');

    expect(body(mock.requestsOf('main')[0]!).tools.find((t) => t.name === 'StructuredOutput')?.input_schema).toEqual(STORY_REVIEW_SCHEMA);
    expect(outcome.result!.structuredOutput).toEqual(answer);
    expect(storyReviewVerdict(outcome.assistantText, outcome.result!.structuredOutput, ['1-1'])).toEqual({ critical: true, markerFound: true, source: 'structured', perStory: { '1-1': 2 }, disagreement: null });
  }, 90_000);
}
