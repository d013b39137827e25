// Checks the simulated claude CLI (fixtures/sim-claude) and the demo BMAD project it runs on, spawning the simulator as a real child process.
import { describe, it, expect, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { waitFor } from '../support/wait.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SIM = path.join(ROOT, 'fixtures/sim-claude/claude.mjs');
const DEMO = path.join(ROOT, 'fixtures/demo-project');
const WORKFLOW = '_bmad/bmm/workflows/4-implementation/sprint-runner';
const IMPL = '_bmad-output/implementation-artifacts';
const STATUS = `${IMPL}/sprint-status.yaml`;
const CSV = 'docs/sprint-runner.csv';
const BASE_ARGS = ['-p', '--output-format', 'stream-json', '--verbose'];
const BYPASS = ['--permission-mode', 'bypassPermissions'];

// Parsed stream-json is checked field by field; a loose type keeps those checks readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type J = any;

const tempDirs: string[] = [];
const strayPids: number[] = [];
/** every simulated CLI a test started: a test that fails half-way (a timed-out wait) must not leave one running */
const startedPids: number[] = [];
afterAll(() => {
  for (const pid of [...strayPids, ...startedPids]) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh copy of the demo project; `scenario` undefined = no scenario file (all defaults), 'demo' = the demo's own. */
function makeProject(scenario?: object | 'demo'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-claude-'));
  tempDirs.push(dir);
  fs.cpSync(DEMO, dir, { recursive: true, filter: (src) => !/\.sprint-sim[/\\](state|commits\.log)/.test(src) });
  const file = path.join(dir, '.sprint-sim/scenario.yaml');
  if (scenario === undefined) fs.rmSync(file);
  else if (scenario !== 'demo') fs.writeFileSync(file, YAML.stringify(scenario));
  return dir;
}

const read = (dir: string, rel: string) => fs.readFileSync(path.join(dir, rel), 'utf8');

const TEMPLATE_OF: Record<string, string> = {
  'create-story': 'create-story.md',
  'story-discovery': 'create-story-discovery.md',
  'story-review': 'story-review.md',
  'create-tech-spec': 'create-tech-spec.md',
  'tech-spec-review': 'tech-spec-review.md',
  'dev-story': 'dev-story.md',
  'code-review': 'code-review.md',
  'background-review-chain': 'background-review-chain.md',
};

/** The prompt the orchestrator would send: the template with the spec's variables substituted. */
function promptFor(logged: string, stories: string[], extra: Record<string, string> = {}): string {
  const m = /^(story-review|tech-spec-review|code-review)-(\d+)$/.exec(logged);
  const base = m ? (m[1] as string) : logged;
  if (base === 'project-context') {
    return ['Command: project-context', 'Run /bmad:bmm:workflows:generate-project-context without asking questions.', `Output: ${extra.output ?? '_bmad-output/planning-artifacts/project-context.md'}`, ''].join('\n');
  }
  if (base === 'batch-commit') {
    return ['Command: batch-commit', `Stories: ${stories.join(',')}`, `Epic: ${extra.epic_id ?? epicOf(stories)}`, 'Run /bmad:bmm:workflows:batch-commit with story_ids and epic_id above.', ''].join('\n');
  }
  const vars: Record<string, string> = {
    command: logged,
    story_key: stories.join(','),
    story_id: stories.join(','),
    epic_id: epicOf(stories),
    review_attempt: m ? (m[2] as string) : '1',
    implementation_artifacts: IMPL,
    ...extra,
  };
  const template = fs.readFileSync(path.join(DEMO, WORKFLOW, 'prompts', TEMPLATE_OF[base] as string), 'utf8');
  return template.replace(/\{\{(\w+)\}\}/g, (all, k: string) => vars[k] ?? all);
}

const epicOf = (stories: string[]) => [...new Set(stories.map((s) => s.replace(/-\d+$/, '')))].join(',');

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  lines: string[];
  json: J[];
}

interface Handle {
  child: ChildProcess;
  lines: string[];
  done: Promise<Result>;
  waitForLine(pred: (line: string) => boolean, ms?: number): Promise<string>;
}

interface StartOptions {
  args?: string[];
  base?: string[];
  env?: Record<string, string>;
  positional?: string;
  trace?: string;
}

function start(cwd: string, prompt: string | null, o: StartOptions = {}): Handle {
  const argv = [SIM, ...(o.base ?? BASE_ARGS), ...(o.args ?? []), ...(o.positional !== undefined ? [o.positional] : [])];
  // IS_SANDBOX: the tests may run as root, where bypassPermissions is refused without it (like the real CLI).
  const env: Record<string, string | undefined> = { ...process.env, SPRINT_SIM_PACE_MS: '0', IS_SANDBOX: '1', ...o.env };
  delete env.SPRINT_SIM_SCENARIO;
  delete env.SPRINT_SIM_STATE;
  if (o.env?.SPRINT_SIM_SCENARIO) env.SPRINT_SIM_SCENARIO = o.env.SPRINT_SIM_SCENARIO;
  if (o.env?.SPRINT_SIM_STATE) env.SPRINT_SIM_STATE = o.env.SPRINT_SIM_STATE;
  env.SPRINT_SIM_TRACE = o.trace ?? path.join(cwd, '.sprint-sim/trace.jsonl');
  const child = spawn(process.execPath, argv, { cwd, env, stdio: [o.positional !== undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (child.pid !== undefined) startedPids.push(child.pid);
  if (prompt !== null) child.stdin?.end(prompt);
  const lines: string[] = [];
  let buf = '';
  let stderr = '';
  const waiters: { pred: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.pred(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => { stderr += d; });
  const done = new Promise<Result>((resolve) => {
    child.on('close', (code, signal) => {
      if (buf) lines.push(buf);
      const json: J[] = [];
      for (const l of lines) {
        try { json.push(JSON.parse(l)); } catch { /* garbage lines are checked by the tests that expect them */ }
      }
      resolve({ code, signal, stdout: lines.join('\n'), stderr, lines, json });
    });
  });
  const waitForLine = (pred: (line: string) => boolean, ms = 5000) =>
    new Promise<string>((resolve, reject) => {
      const hit = lines.find(pred);
      if (hit !== undefined) return resolve(hit);
      const t = setTimeout(() => reject(new Error('timed out waiting for a line')), ms);
      waiters.push({ pred, resolve: (l) => { clearTimeout(t); resolve(l); } });
    });
  return { child, lines, done, waitForLine };
}

const run = (cwd: string, prompt: string | null, o: StartOptions = {}) => start(cwd, prompt, o).done;

function traceOf(dir: string): J[] {
  const f = path.join(dir, '.sprint-sim/trace.jsonl');
  return fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
}


const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Every assistant text block, in order (what the orchestrator decides on). */
const texts = (json: J[]): string[] =>
  json.filter((o) => o.type === 'assistant').map((o) => o.message.content[0]).filter((b) => b.type === 'text').map((b) => b.text as string);
const bashCommands = (json: J[]): string[] =>
  json.filter((o) => o.type === 'assistant' && o.message.content[0].type === 'tool_use' && o.message.content[0].name === 'Bash').map((o) => o.message.content[0].input.command as string);
const resultOf = (json: J[]) => json.filter((o) => o.type === 'result').at(-1);

const sortedKeys = (o: object) => Object.keys(o).sort();
const INIT_KEYS = ['type', 'subtype', 'cwd', 'session_id', 'tools', 'mcp_servers', 'model', 'permissionMode', 'slash_commands', 'apiKeySource', 'claude_code_version', 'output_style', 'agents', 'skills', 'plugins', 'analytics_disabled', 'product_feedback_disabled', 'uuid', 'memory_paths', 'fast_mode_state'].sort();
const ASSISTANT_KEYS = ['type', 'message', 'parent_tool_use_id', 'session_id', 'uuid', 'request_id'].sort();
const MESSAGE_KEYS = ['id', 'type', 'role', 'model', 'content', 'stop_reason', 'stop_sequence', 'usage', 'context_management'].sort();
const USER_KEYS = ['type', 'message', 'parent_tool_use_id', 'session_id', 'uuid', 'timestamp', 'tool_use_result'].sort();
const RESULT_KEYS = ['type', 'subtype', 'is_error', 'api_error_status', 'duration_ms', 'duration_api_ms', 'ttft_ms', 'ttft_stream_ms', 'time_to_request_ms', 'num_turns', 'result', 'stop_reason', 'session_id', 'total_cost_usd', 'usage', 'modelUsage', 'permission_denials', 'terminal_reason', 'fast_mode_state', 'uuid'].sort();
const API_ERROR_RESULT_KEYS = ['type', 'subtype', 'is_error', 'api_error_status', 'duration_ms', 'duration_api_ms', 'num_turns', 'result', 'stop_reason', 'session_id', 'total_cost_usd', 'usage', 'modelUsage', 'permission_denials', 'terminal_reason', 'fast_mode_state', 'uuid'].sort();
const SYNTHETIC_KEYS = ['type', 'message', 'parent_tool_use_id', 'session_id', 'uuid', 'error', 'request_id'].sort();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The capture's line shapes, for a run that ends with a normal result. */
function checkStream(r: Result) {
  expect(r.lines.length).toBeGreaterThanOrEqual(3);
  for (const l of r.lines) expect(() => JSON.parse(l), l.slice(0, 200)).not.toThrow();
  const [init] = r.json;
  expect(init.type).toBe('system');
  expect(init.subtype).toBe('init');
  expect(sortedKeys(init)).toEqual(INIT_KEYS);
  expect(init.claude_code_version).toBe('2.1.197');
  expect(init.tools).toContain('Bash');
  const session = init.session_id;
  expect(session).toMatch(UUID);
  const open = new Set<string>();
  const seenIds = new Set<string>();
  let lastId: string | null = null;
  for (const o of r.json) {
    expect(typeof o.type).toBe('string');
    expect(o.uuid).toMatch(UUID);
    expect(o.session_id).toBe(session);
    if (o.type === 'assistant') {
      expect(sortedKeys(o)).toEqual(ASSISTANT_KEYS);
      expect(sortedKeys(o.message)).toEqual(MESSAGE_KEYS);
      expect(o.message.content).toHaveLength(1);
      expect(o.parent_tool_use_id).toBeNull();
      // One line per block; the blocks of one message are consecutive and share message.id.
      if (o.message.id !== lastId) {
        expect(seenIds.has(o.message.id)).toBe(false);
        seenIds.add(o.message.id);
      }
      lastId = o.message.id;
      const b = o.message.content[0];
      expect(['text', 'thinking', 'tool_use']).toContain(b.type);
      if (b.type === 'tool_use') {
        expect(b.id).toMatch(/^toolu_01/);
        expect(typeof b.input).toBe('object');
        open.add(b.id);
      }
    } else {
      lastId = null;
    }
    if (o.type === 'user') {
      expect(sortedKeys(o)).toEqual(USER_KEYS);
      const c = o.message.content[0];
      expect(c.type).toBe('tool_result');
      expect(open.has(c.tool_use_id)).toBe(true);
      open.delete(c.tool_use_id);
      expect(typeof c.is_error).toBe('boolean');
    }
  }
  expect(open.size).toBe(0);
  const result = r.json.at(-1);
  expect(result.type).toBe('result');
  expect(sortedKeys(result)).toEqual(RESULT_KEYS);
  expect(result.num_turns).toBe(seenIds.size);
  // result.result is the last text block only.
  expect(result.result).toBe(texts(r.json).at(-1));
  const sum = Object.values(result.modelUsage as Record<string, { costUSD: number }>).reduce((s, u) => s + u.costUSD, 0);
  expect(result.total_cost_usd).toBeCloseTo(sum, 12);
  return result;
}

// ---------------------------------------------------------------------------------------------------------------

describe('demo project', () => {
  it('has a BMAD config resolving {project-root}', () => {
    const cfg = YAML.parse(read(DEMO, '_bmad/bmm/config.yaml'));
    expect(cfg.project_name).toBe('session-lens');
    expect(cfg.implementation_artifacts).toBe('{project-root}/_bmad-output/implementation-artifacts');
    expect(cfg.planning_artifacts).toBe('{project-root}/_bmad-output/planning-artifacts');
    for (const k of ['user_name', 'communication_language', 'output_folder']) expect(cfg[k]).toBeTruthy();
  });

  it('has the sprint status the brief fixes, with comments', () => {
    const text = read(DEMO, STATUS);
    const doc = YAML.parse(text);
    expect(doc.tracking_system).toBe('file-system');
    for (const k of ['generated', 'project', 'project_key', 'story_location']) expect(doc[k]).toBeTruthy();
    expect(doc.development_status).toEqual({
      'epic-1': 'done',
      '1-1-project-scaffold': 'done',
      '1-2-config-loader': 'done',
      '1-3-session-scanner': 'review',
      'epic-1-retrospective': 'optional',
      'epic-2a': 'in-progress',
      '2a-1-log-parser': 'ready-for-dev',
      '2a-2-event-index': 'ready-for-dev',
      '2a-3-search-api': 'backlog',
      'epic-2a-retrospective': 'optional',
      'epic-3': 'backlog',
      '3-1-dashboard-shell': 'backlog',
      '3-2-live-updates': 'backlog',
      '3-3-export-csv': 'backlog',
      'epic-3-retrospective': 'optional',
    });
    expect(text).toMatch(/^\s+# Epic 2a/m);
    expect(text).toMatch(/^\s+1-3-session-scanner: review\s+#/m);
  });

  it('has a BMAD story file for every story past backlog, with the status of sprint-status', () => {
    const status = YAML.parse(read(DEMO, STATUS)).development_status as Record<string, string>;
    for (const [key, value] of Object.entries(status)) {
      if (key.startsWith('epic-')) continue;
      const file = path.join(DEMO, IMPL, `${key}.md`);
      expect(fs.existsSync(file), key).toBe(value !== 'backlog');
      if (value === 'backlog') continue;
      const text = fs.readFileSync(file, 'utf8');
      const short = /^(\w+-\d+)/.exec(key)?.[1] as string;
      expect(text).toMatch(new RegExp(`^# Story ${short.replace('-', '\\.')}: \\S`));
      expect(text).toContain(`\nStatus: ${value}\n`);
      for (const h of ['## Story', '## Acceptance Criteria', '## Tasks / Subtasks', '## Dev Notes']) expect(text).toContain(`\n${h}\n`);
      expect(text).toMatch(/## Story\n\nAs an? [^\n]+,\nI want [^\n]+,\nso that /);
    }
    expect(fs.existsSync(path.join(DEMO, '_bmad-output/planning-artifacts/project-context.md'))).toBe(true);
    expect(read(DEMO, '_bmad-output/planning-artifacts/epics.md')).toContain('### Story 3.3: Export CSV');
  });

  it('has every prompt template with the header convention and only the spec variables', () => {
    const allowed = new Set(['story_key', 'story_id', 'epic_id', 'command', 'review_attempt', 'implementation_artifacts', 'review_type', 'story_keys', 'prompt_file']);
    for (const [base, file] of Object.entries(TEMPLATE_OF)) {
      const text = read(DEMO, `${WORKFLOW}/prompts/${file}`);
      for (const v of text.match(/\{\{\w+\}\}/g) ?? []) expect(allowed.has(v.slice(2, -2)), `${file}: ${v}`).toBe(true);
      const head = text.split('\n').slice(0, 12).join('\n');
      if (base === 'background-review-chain') {
        for (const l of ['Command: background-review-chain', 'Review type: {{review_type}}', 'Story keys: {{story_keys}}', 'Prompt file: {{prompt_file}}']) expect(head).toContain(l);
        continue;
      }
      for (const l of ['Command: {{command}}', 'Stories: {{story_key}}', 'Epic: {{epic_id}}', 'Implementation artifacts: {{implementation_artifacts}}']) expect(head, file).toContain(l);
      expect(head.includes('Review attempt: {{review_attempt}}'), file).toBe(/review/.test(base));
      expect(text, file).toMatch(/\/bmad:bmm:workflows:[a-z-]+/);
      expect(text, file).toMatch(/_bmad\/scripts\/(orchestrator|sprint-log)\.sh/);
    }
    expect(read(DEMO, `${WORKFLOW}/prompts/create-story.md`)).toContain('[TECH-SPEC-DECISION: REQUIRED]');
    expect(read(DEMO, `${WORKFLOW}/prompts/story-review.md`)).toContain('CRITICAL ISSUES FOUND: <n>');
    const cr = read(DEMO, `${WORKFLOW}/prompts/code-review.md`);
    for (const m of ['ZERO ISSUES', 'HIGHEST SEVERITY:', 'Issues: <a> CRITICAL, <b> HIGH, <c> MEDIUM, <d> LOW', '- [SEVERITY] <description> (<file>:<line>)']) expect(cr).toContain(m);
  });

  it('has a task taxonomy with 3 to 6 phases per command', () => {
    const t = YAML.parse(read(DEMO, `${WORKFLOW}/task-taxonomy.yaml`));
    const names = ['create-story', 'story-discovery', 'story-review', 'create-tech-spec', 'tech-spec-review', 'dev-story', 'code-review', 'batch-commit', 'project-context'];
    expect(Object.keys(t.commands).sort()).toEqual([...names].sort());
    for (const n of names) {
      const phases = t.commands[n].phases as { id: string; label: string }[];
      expect(phases.length).toBeGreaterThanOrEqual(3);
      expect(phases.length).toBeLessThanOrEqual(6);
      for (const p of phases) {
        expect(p.id).toMatch(/^[a-z-]+$/);
        expect(p.label.length).toBeGreaterThan(3);
      }
    }
  });

  it('has a legacy CSV with quoted commas and 6-column lines', () => {
    const lines = read(DEMO, CSV).trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(12);
    expect(lines.some((l) => /^\d+,[^,]+,[^,]+,[^,]+,[^,]+,(start|end)$/.test(l))).toBe(true);
    expect(lines.some((l) => /,"[^"]*,[^"]*"$/.test(l))).toBe(true);
    expect(lines.some((l) => l.includes('""'))).toBe(true);
    for (const l of lines) expect(l).toMatch(/^\d{10},[^,]+,[^,]+,[^,]+,[^,]+,(start|end)(,".*")?$/);
  });

  it('has executable log scripts', () => {
    for (const s of ['orchestrator.sh', 'sprint-log.sh']) {
      expect(fs.statSync(path.join(DEMO, '_bmad/scripts', s)).mode & 0o111).not.toBe(0);
    }
  });
});

describe('log scripts and the simulator agree', () => {
  it.each([
    ['create-story', '3-1'],
    ['story-discovery', '3-1'],
    ['dev-story', '2a-1'],
  ])('%s: the real scripts write the CSV lines the simulator wrote', async (command, story) => {
    const a = makeProject();
    const b = makeProject();
    const before = read(a, CSV);
    const r = await run(a, promptFor(command, [story]), { args: BYPASS });
    expect(r.code).toBe(0);
    const simLines = read(a, CSV).slice(before.length).trim().split('\n');
    const logCalls = bashCommands(r.json).filter((c) => c.startsWith('_bmad/scripts/'));
    expect(logCalls.length).toBe(simLines.length);
    const results = r.json.filter((o) => o.type === 'user').map((o) => o.message.content[0]);
    fs.writeFileSync(path.join(b, CSV), '');
    for (const c of logCalls) {
      const out = spawnSync('bash', ['-c', c], { cwd: b, encoding: 'utf8' });
      expect(out.status, out.stderr).toBe(0);
      // The simulated tool_result is the script's own stdout.
      const toolUse = r.json.find((o) => o.type === 'assistant' && o.message.content[0].input?.command === c).message.content[0];
      expect(results.find((x) => x.tool_use_id === toolUse.id).content).toBe(out.stdout.trimEnd());
    }
    const strip = (l: string) => l.replace(/^\d+,/, '');
    expect(read(b, CSV).trim().split('\n').map(strip)).toEqual(simLines.map(strip));
    // The quoting the orchestrator's parser must handle: spaces, a comma and an escaped quote in one argument.
    if (command !== 'story-discovery' && command !== 'dev-story') {
      expect(logCalls[0]).toMatch(/ start "[^"]*, [^"]*\\"[^"]*\\""$/);
      expect(simLines[0]).toMatch(/,"[^"]*, [^"]*""[^"]*"""$/);
    } else {
      expect(logCalls[0]).toMatch(/^_bmad\/scripts\/sprint-log\.sh '\{"epic_id":/);
    }
  });
});

describe('command line', () => {
  it('fails like the real CLI without --verbose', async () => {
    const dir = makeProject();
    const r = await run(dir, 'Command: dev-story\nStories: 2a-1\n', { base: ['-p', '--output-format', 'stream-json'] });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('Error: When using --print, --output-format=stream-json requires --verbose\n');
    const t = traceOf(dir);
    expect(t).toHaveLength(1);
    expect(t[0].ev).toBe('rejected');
  });

  it('rejects an option the CLI does not have', async () => {
    const dir = makeProject();
    const r = await run(dir, 'x', { args: ['--cwd', dir] });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("error: unknown option '--cwd'\n");
  });

  it('rejects a permission mode the CLI does not have', async () => {
    const r = await run(makeProject(), 'x', { args: ['--permission-mode', 'yolo'] });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: option '--permission-mode <mode>' argument 'yolo' is invalid\. Allowed choices are acceptEdits, auto, bypassPermissions, default, dontAsk, plan\.\n$/);
  });

  it('accepts the options a runner uses, and the prompt as an argument', async () => {
    const dir = makeProject();
    const session = '1b0c6a2e-5d4f-4e3a-9b8c-7d6e5f4a3b2c';
    const r = await run(dir, null, {
      args: ['--model', 'haiku', '--permission-mode=acceptEdits', '--max-turns', '200', '--append-system-prompt', 'Be brief.', '--allowedTools', 'Bash(_bmad/scripts/orchestrator.sh:*) Read', '--session-id', session],
      positional: promptFor('story-review-1', ['2a-1']),
    });
    expect(r.code).toBe(0);
    checkStream(r);
    expect(r.json[0].model).toBe('claude-haiku-4-5-20251001');
    expect(r.json[0].permissionMode).toBe('acceptEdits');
    expect(r.json[0].session_id).toBe(session);
    expect(resultOf(r.json).permission_denials).toEqual([]);
  });

  it.skipIf(process.getuid?.() !== 0)('refuses bypassPermissions as root without IS_SANDBOX=1, like the real CLI', async () => {
    const r = await run(makeProject(), promptFor('dev-story', ['2a-1']), { args: BYPASS, env: { IS_SANDBOX: '' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons\n');
    const alias = await run(makeProject(), promptFor('dev-story', ['2a-1']), { args: ['--dangerously-skip-permissions'] });
    expect(alias.code).toBe(0);
    expect(alias.json[0].permissionMode).toBe('bypassPermissions');
  });

  it('uses claude-opus-4-8 without --model', async () => {
    const r = await run(makeProject(), promptFor('story-review-1', ['2a-1']), { args: BYPASS });
    expect(r.json[0].model).toBe('claude-opus-4-8');
    expect(r.json.find((o) => o.type === 'assistant').message.model).toBe('claude-opus-4-8');
  });

  it('fails on an empty prompt', async () => {
    const r = await run(makeProject(), '');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Input must be provided');
  });

  it('answers an unrecognisable prompt with text and a success result', async () => {
    const dir = makeProject();
    const before = read(dir, STATUS);
    const r = await run(dir, 'Please summarise the repository.', { args: BYPASS });
    expect(r.code).toBe(0);
    const result = checkStream(r);
    expect(result.subtype).toBe('success');
    expect(result.result).toMatch(/no `Command:` line/);
    expect(read(dir, STATUS)).toBe(before);
    expect(traceOf(dir)[0]).toMatchObject({ ev: 'start', command: null, mode: 'ok' });
  });
});

describe.concurrent('workflows on the project', () => {
  it('create-story: story files, only the status values changed, decisions in earlier text blocks', async ({ expect }) => {
    const dir = makeProject({ stories: { '3-1': { techSpec: 'REQUIRED' } } });
    const before = read(dir, STATUS);
    const csvBefore = read(dir, CSV);
    const r = await run(dir, promptFor('create-story', ['3-1', '3-2']), { args: BYPASS });
    expect(r.code).toBe(0);
    checkStream(r);
    // Expected text computed independently: the original with those two values replaced.
    const expected = before.replace('\n  3-1-dashboard-shell: backlog\n', '\n  3-1-dashboard-shell: ready-for-dev\n').replace('\n  3-2-live-updates: backlog\n', '\n  3-2-live-updates: ready-for-dev\n');
    expect(expected).not.toBe(before);
    expect(read(dir, STATUS)).toBe(expected);
    for (const [key, title] of [['3-1-dashboard-shell', 'Story 3.1: Dashboard shell'], ['3-2-live-updates', 'Story 3.2: Live updates']]) {
      const story = read(dir, `${IMPL}/${key}.md`);
      expect(story.startsWith(`# ${title}\n\nStatus: ready-for-dev\n\n## Story\n\nAs a `)).toBe(true);
      expect(story).toContain('\n## Acceptance Criteria\n');
    }
    const all = texts(r.json);
    expect(all.filter((t) => /\[TECH-SPEC-DECISION: REQUIRED\]/.test(t))).toEqual([expect.stringMatching(/^Story 3-1: \[TECH-SPEC-DECISION: REQUIRED\]$/m)]);
    expect(all.filter((t) => /\[TECH-SPEC-DECISION: SKIP\]/.test(t))).toEqual([expect.stringMatching(/^Story 3-2: \[TECH-SPEC-DECISION: SKIP\]$/m)]);
    expect(all.at(-1)).not.toMatch(/TECH-SPEC-DECISION/);
    // Two lines per phase per story, in order, with the taxonomy's ids.
    const csv = read(dir, CSV).slice(csvBefore.length).trim().split('\n').map((l) => l.split(',').slice(1, 6).join(','));
    const phases = ['setup', 'analyze', 'generate', 'validate', 'finalize'];
    expect(csv).toEqual(['3-1', '3-2'].flatMap((s) => phases.flatMap((p) => [`3,${s},create-story,${p},start`, `3,${s},create-story,${p},end`])));
  });

  it('create-story keeps an existing story file and a status past backlog', async ({ expect }) => {
    const dir = makeProject();
    const before = read(dir, STATUS);
    const story = read(dir, `${IMPL}/2a-1-log-parser.md`);
    const r = await run(dir, promptFor('create-story', ['2a-1']), { args: BYPASS });
    expect(r.code).toBe(0);
    expect(read(dir, STATUS)).toBe(before);
    expect(read(dir, `${IMPL}/2a-1-log-parser.md`)).toBe(story);
  });

  it('story-discovery: discovery file and JSON-form log calls', async ({ expect }) => {
    const dir = makeProject();
    const before = read(dir, STATUS);
    const r = await run(dir, promptFor('story-discovery', ['3-1', '3-2']), { args: BYPASS });
    expect(r.code).toBe(0);
    checkStream(r);
    expect(read(dir, `${IMPL}/3-1-discovery-story.md`)).toMatch(/^# Story 3\.1 discovery: Dashboard shell\n/);
    expect(fs.existsSync(path.join(dir, IMPL, '3-2-discovery-story.md'))).toBe(true);
    expect(read(dir, STATUS)).toBe(before);
    const calls = bashCommands(r.json).filter((c) => c.startsWith('_bmad/scripts/'));
    expect(calls.length).toBe(2 * 2 * 4);
    for (const c of calls) {
      const m = /^_bmad\/scripts\/sprint-log\.sh '(.*)'$/.exec(c);
      expect(m).not.toBeNull();
      expect(JSON.parse((m as RegExpExecArray)[1] as string)).toMatchObject({ epic_id: '3', command: 'story-discovery', status: expect.stringMatching(/^(start|end)$/) });
    }
  });

  it('dev-story: in-progress then review, a source file, byte-exact edits on a CRLF file with quotes and comments', async ({ expect }) => {
    const dir = makeProject();
    const original = read(dir, STATUS)
      .replace('  2a-2-event-index: ready-for-dev  # depends on 2a-1 types', `  "2a-2-event-index": 'ready-for-dev'   # depends on 2a-1 types`)
      .replace(/\n/g, '\r\n');
    fs.writeFileSync(path.join(dir, STATUS), original);
    const r = await run(dir, promptFor('dev-story', ['2a-2']), { args: BYPASS });
    expect(r.code).toBe(0);
    checkStream(r);
    expect(read(dir, STATUS)).toBe(original.replace(`'ready-for-dev'   # depends`, `'review'   # depends`));
    const edits = r.json.filter((o) => o.type === 'assistant' && o.message.content[0].name === 'Edit').map((o) => o.message.content[0].input.new_string);
    expect(edits).toEqual([`  "2a-2-event-index": 'in-progress'   # depends on 2a-1 types`, 'Status: review', `  "2a-2-event-index": 'review'   # depends on 2a-1 types`]);
    expect(read(dir, 'src/event-index.ts')).toMatch(/^\/\/ Event index \(story 2a-2\)/);
    expect(read(dir, `${IMPL}/2a-2-event-index.md`)).toContain('\nStatus: review\n');
  });

  it('create-tech-spec, project-context and batch-commit write their files', async ({ expect }) => {
    const dir = makeProject();
    const before = read(dir, STATUS);
    expect((await run(dir, promptFor('create-tech-spec', ['3-1']), { args: BYPASS })).code).toBe(0);
    expect(read(dir, `${IMPL}/tech-spec-3-1.md`)).toMatch(/^# Tech Spec: Story 3\.1 Dashboard shell\n/);
    const pc = await run(dir, promptFor('project-context', [], { output: 'docs/context/project-context.md' }), { args: BYPASS });
    expect(pc.code).toBe(0);
    checkStream(pc);
    expect(read(dir, 'docs/context/project-context.md')).toContain('# Project Context for AI Agents');
    expect(bashCommands(pc.json)[0]).toMatch(/^_bmad\/scripts\/orchestrator\.sh - - project-context setup start "/);
    const bc = await run(dir, promptFor('batch-commit', ['2a-1', '2a-2']), { args: BYPASS });
    expect(bc.code).toBe(0);
    checkStream(bc);
    const commits = read(dir, '.sprint-sim/commits.log').trim().split('\n').map((l) => JSON.parse(l));
    expect(commits).toHaveLength(1);
    expect(commits[0]).toMatchObject({ stories: ['2a-1', '2a-2'], epic: '2a', message: 'feat(2a): complete stories 2a-1, 2a-2' });
    // Logged per story, phase by phase.
    const logged = bashCommands(bc.json).filter((c) => c.startsWith('_bmad/scripts/')).map((c) => c.split(' ').slice(2, 6).join(' '));
    expect(logged.slice(0, 4)).toEqual(['2a-1 batch-commit setup start', '2a-2 batch-commit setup start', '2a-1 batch-commit setup end', '2a-2 batch-commit setup end']);
    expect(read(dir, STATUS)).toBe(before);
  });

  it('reviews write nothing and print their markers', async ({ expect }) => {
    const dir = makeProject({ stories: { '2a-1': { storyReview: [1] }, '2a-2': { storyReview: [0] } } });
    const snapshot = () => fs.readdirSync(path.join(dir, IMPL)).map((f) => read(dir, `${IMPL}/${f}`)).join('\0');
    const before = snapshot();
    const r = await run(dir, promptFor('story-review-1', ['2a-1', '2a-2']), { args: BYPASS });
    expect(r.code).toBe(0);
    expect(snapshot()).toBe(before);
    const all = texts(r.json);
    expect(all).toContain('Story 2a-1: CRITICAL ISSUES FOUND: 1');
    expect(all).toContain('Story 2a-2: NO CRITICAL ISSUES FOUND');
    expect(all.at(-1)).not.toMatch(/CRITICAL ISSUES/);
  });

  it('background chain logs task id workflow per story with haiku', async ({ expect }) => {
    const dir = makeProject();
    const r = await run(dir, promptFor('background-review-chain', ['3-1', '3-2'], { review_type: 'story-review', story_keys: '3-1,3-2', prompt_file: 'prompts/story-review.md' }), { args: [...BYPASS, '--model', 'haiku'] });
    expect(r.code).toBe(0);
    checkStream(r);
    expect(bashCommands(r.json).map((c) => c.split(' ').slice(1, 6).join(' '))).toEqual([
      '3 3-1 background-review-chain workflow start',
      '3 3-1 background-review-chain workflow end',
      '3 3-2 background-review-chain workflow start',
      '3 3-2 background-review-chain workflow end',
    ]);
    expect(traceOf(dir)[0]).toMatchObject({ command: 'background-review-chain', stories: ['3-1', '3-2'], model: 'haiku' });
  });

  it('create-story and story-discovery run in parallel with their own counters', async ({ expect }) => {
    // 1.5 s each: long enough that both are running at once even when a loaded machine takes its time to start node
    const dir = makeProject({ stories: { '3-1': { run: { 'create-story': ['slow:1500'] } } }, commands: { 'story-discovery': ['slow:1500'] } });
    const [a, b] = await Promise.all([run(dir, promptFor('create-story', ['3-1']), { args: BYPASS }), run(dir, promptFor('story-discovery', ['3-1']), { args: BYPASS })]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const t = traceOf(dir);
    const starts = t.filter((e) => e.ev === 'start');
    const ends = t.filter((e) => e.ev === 'end');
    expect(starts.map((e) => e.command).sort()).toEqual(['create-story', 'story-discovery']);
    expect(starts.every((e) => e.invocation === 1)).toBe(true);
    // Overlap: each started before the other ended.
    expect(Math.max(...starts.map((e) => e.t))).toBeLessThan(Math.min(...ends.map((e) => e.t)));
    expect(fs.readdirSync(path.join(dir, '.sprint-sim/state')).sort()).toEqual(['create-story@3-1', 'story-discovery@3-1']);
  });
});

describe.concurrent('scenario', () => {
  it('code-review outcomes per invocation, the last one repeating', async ({ expect }) => {
    const dir = makeProject({
      stories: { '2a-1': { codeReview: [{ high: 2, issues: ['HIGH Missing null check in src/a.ts:42', 'HIGH Unbounded retry (src/b.ts:7)'] }, 'zero', 'unparsed', { critical: 1, low: 1 }] } },
    });
    const review = async (n: number) => texts((await run(dir, promptFor(`code-review-${n}`, ['2a-1']), { args: BYPASS })).json);
    const r1 = await review(1);
    expect(r1).toContain('Classification done.\nHIGHEST SEVERITY: HIGH');
    expect(r1).toContain('Issues: 0 CRITICAL, 2 HIGH, 0 MEDIUM, 0 LOW');
    expect(r1).toContain('Findings:\n- [HIGH] Missing null check (src/a.ts:42)\n- [HIGH] Unbounded retry (src/b.ts:7)');
    expect(r1.at(-1)).not.toMatch(/ISSUES|SEVERITY/);
    const r2 = await review(2);
    expect(r2.some((t) => /^ZERO ISSUES$/m.test(t))).toBe(true);
    expect(r2.join('\n')).not.toMatch(/SEVERITY|Issues:/);
    const r3 = await review(3);
    expect(r3.join('\n')).not.toMatch(/ZERO ISSUES|SEVERITY|Issues:/);
    for (const n of [4, 5]) {
      const r = (await review(n)).join('\n');
      expect(r).toContain('HIGHEST SEVERITY: CRITICAL');
      expect(r).toContain('Issues: 1 CRITICAL, 0 HIGH, 0 MEDIUM, 1 LOW');
      expect(r).toMatch(/^- \[CRITICAL\] .+ \(src\/log-parser\.ts:\d+\)$/m);
      expect(r).toMatch(/^- \[LOW\] .+ \(src\/log-parser\.ts:\d+\)$/m);
    }
  });

  it('a failed run does not use up an outcome; run modes follow invocations', async ({ expect }) => {
    const dir = makeProject({ stories: { '2a-1': { run: { 'code-review': ['no-result', 'ok'] }, codeReview: [{ high: 1 }, 'zero'] } } });
    const p = promptFor('code-review-1', ['2a-1']);
    const first = await run(dir, p, { args: BYPASS });
    expect(first.code).toBe(1);
    expect(resultOf(first.json)).toBeUndefined();
    const second = await run(dir, p, { args: BYPASS });
    expect(second.code).toBe(0);
    expect(texts(second.json).join('\n')).toContain('HIGHEST SEVERITY: HIGH');
    const third = await run(dir, promptFor('code-review-2', ['2a-1']), { args: BYPASS });
    expect(texts(third.json).join('\n')).toContain('ZERO ISSUES');
    expect(traceOf(dir).filter((e) => e.ev === 'start').map((e) => [e.logged, e.mode, e.invocation])).toEqual([
      ['code-review-1', 'no-result', 1],
      ['code-review-1', 'ok', 2],
      ['code-review-2', 'ok', 3],
    ]);
  });

  it('tech-spec decision variants', async ({ expect }) => {
    const dir = makeProject({ stories: { '3-1': { techSpec: 'both' }, '3-2': { techSpec: 'none' }, '3-3': { techSpec: 'lone-REQUIRED' } } });
    const pair = texts((await run(dir, promptFor('create-story', ['3-1', '3-2']), { args: BYPASS })).json);
    const marked = pair.filter((t) => /TECH-SPEC-DECISION/.test(t));
    expect(marked).toHaveLength(2);
    expect(marked[0]).toMatch(/Story 3-1: \[TECH-SPEC-DECISION: SKIP\]/);
    expect(marked[1]).toMatch(/^Story 3-1: \[TECH-SPEC-DECISION: REQUIRED\]$/m);
    expect(pair.join('\n')).not.toMatch(/3-2: \[TECH-SPEC/);
    const lone = texts((await run(dir, promptFor('create-story', ['3-3']), { args: BYPASS })).json).join('\n');
    expect(lone).toMatch(/^\[TECH-SPEC-DECISION: REQUIRED\]$/m);
  });

  it("review 'none' prints no marker, {text} prints verbatim", async ({ expect }) => {
    const dir = makeProject({ stories: { '2a-1': { techSpecReview: ['none', { text: 'CRITICAL ISSUES FOUND: 0\nCRITICAL ISSUES FOUND: 2' }] } } });
    const a = texts((await run(dir, promptFor('tech-spec-review-1', ['2a-1']), { args: BYPASS })).json).join('\n');
    expect(a).not.toMatch(/CRITICAL ISSUES FOUND/);
    const b = texts((await run(dir, promptFor('tech-spec-review-2', ['2a-1']), { args: BYPASS })).json);
    expect(b).toContain('CRITICAL ISSUES FOUND: 0\nCRITICAL ISSUES FOUND: 2');
  });

  it('defaults apply to stories without their own entry; the first story with a run mode decides', async ({ expect }) => {
    const dir = makeProject({ defaults: { storyReview: 3 }, stories: { '3-2': { run: { 'story-review': 'error-subtype' } }, '3-1': { storyReview: 0 } } });
    const r = await run(dir, promptFor('story-review-1', ['3-1', '3-2']), { args: BYPASS });
    expect(resultOf(r.json).subtype).toBe('error_during_execution');
    const solo = texts((await run(dir, promptFor('story-review-1', ['3-3']), { args: BYPASS })).json);
    expect(solo).toContain('Story 3-3: CRITICAL ISSUES FOUND: 3');
    expect(texts((await run(dir, promptFor('story-review-1', ['3-1']), { args: BYPASS })).json)).toContain('Story 3-1: NO CRITICAL ISSUES FOUND');
    // commands.<command> is the run-mode default for every story without its own.
    const other = makeProject({ commands: { 'story-review': 'is-error' }, stories: { '3-1': { run: { 'story-review': 'ok' } } } });
    expect(resultOf((await run(other, promptFor('story-review-1', ['3-3']), { args: BYPASS })).json).api_error_status).toBe(401);
    expect(resultOf((await run(other, promptFor('story-review-1', ['3-1', '3-3']), { args: BYPASS })).json).is_error).toBe(false);
  });

  it('refuses a scenario with a typo', async ({ expect }) => {
    const dir = makeProject({ stories: { '3-1': { codeReveiw: ['zero'] } } });
    const r = await run(dir, promptFor('code-review-1', ['3-1']));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/stories\.3-1: unknown key 'codeReveiw'/);
    const bad = makeProject({ commands: { 'dev-story': ['explode'] } });
    expect((await run(bad, promptFor('dev-story', ['2a-1']))).stderr).toMatch(/unknown run mode 'explode'/);
  });

  it('SPRINT_SIM_SCENARIO and SPRINT_SIM_STATE move the files', async ({ expect }) => {
    const dir = makeProject();
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-claude-env-'));
    tempDirs.push(elsewhere);
    fs.writeFileSync(path.join(elsewhere, 's.yaml'), YAML.stringify({ stories: { '2a-1': { codeReview: [{ medium: 1 }] } } }));
    const r = await run(dir, promptFor('code-review-1', ['2a-1']), { args: BYPASS, env: { SPRINT_SIM_SCENARIO: path.join(elsewhere, 's.yaml'), SPRINT_SIM_STATE: path.join(elsewhere, 'state') } });
    expect(texts(r.json).join('\n')).toContain('HIGHEST SEVERITY: MEDIUM');
    expect(fs.readdirSync(path.join(elsewhere, 'state'))).toEqual(['code-review@2a-1']);
    expect(fs.existsSync(path.join(dir, '.sprint-sim/state'))).toBe(false);
  });

  it("the demo's own scenario: 3-1 REQUIRED, 3-2 SKIP, a critical story review, two code-review attempts", async ({ expect }) => {
    const dir = makeProject('demo');
    const cs = texts((await run(dir, promptFor('create-story', ['3-1', '3-2']), { args: BYPASS })).json).join('\n');
    expect(cs).toMatch(/^Story 3-1: \[TECH-SPEC-DECISION: REQUIRED\]$/m);
    expect(cs).toMatch(/^Story 3-2: \[TECH-SPEC-DECISION: SKIP\]$/m);
    expect(texts((await run(dir, promptFor('story-review-1', ['2a-3']), { args: BYPASS })).json)).toContain('Story 2a-3: CRITICAL ISSUES FOUND: 1');
    expect(texts((await run(dir, promptFor('story-review-1', ['3-1', '3-2']), { args: BYPASS })).json).join('\n')).not.toMatch(/CRITICAL ISSUES FOUND: [1-9]/);
    expect(texts((await run(dir, promptFor('code-review-1', ['2a-1']), { args: BYPASS })).json).join('\n')).toContain('Issues: 0 CRITICAL, 1 HIGH, 1 MEDIUM, 0 LOW');
    expect(texts((await run(dir, promptFor('code-review-2', ['2a-1']), { args: [...BYPASS, '--model', 'haiku'] })).json).join('\n')).toContain('ZERO ISSUES');
    expect(texts((await run(dir, promptFor('code-review-1', ['2a-2']), { args: BYPASS })).json).join('\n')).toContain('ZERO ISSUES');
    expect(YAML.parse(read(DEMO, '.sprint-sim/scenario.yaml')).commands['background-review-chain']).toEqual(['slow:3000']);
  });

  it('cost is deterministic for the same command, stories and model', async ({ expect }) => {
    const cost = async (model?: string) =>
      resultOf((await run(makeProject(), promptFor('dev-story', ['2a-1']), { args: [...BYPASS, ...(model ? ['--model', model] : [])] })).json).total_cost_usd as number;
    const [a, b, c] = await Promise.all([cost(), cost(), cost('haiku')]);
    expect(a).toBe(b);
    expect(a).toBeGreaterThan(0.05);
    expect(c).toBeLessThan(a);
  });
});

describe.concurrent('permissions', () => {
  it('default mode denies Bash and edits at once; the run still succeeds and lists them', async ({ expect }) => {
    const dir = makeProject();
    const status = read(dir, STATUS);
    const csv = read(dir, CSV);
    const r = await run(dir, promptFor('create-story', ['3-1']));
    expect(r.code).toBe(0);
    const result = checkStream(r);
    expect(result.subtype).toBe('success');
    expect(result.is_error).toBe(false);
    const names = (result.permission_denials as { tool_name: string }[]).map((d) => d.tool_name);
    expect(names.filter((n) => n === 'Bash')).toHaveLength(10);
    expect(names).toContain('Write');
    expect(names).toContain('Edit');
    for (const d of result.permission_denials) expect(sortedKeys(d)).toEqual(['tool_input', 'tool_name', 'tool_use_id']);
    const denied = r.json.filter((o) => o.type === 'user' && o.message.content[0].is_error).map((o) => o.message.content[0].content);
    expect(denied[0]).toBe("Claude requested permissions to use Bash, but you haven't granted it yet.");
    expect(read(dir, STATUS)).toBe(status);
    expect(read(dir, CSV)).toBe(csv);
    expect(fs.existsSync(path.join(dir, IMPL, '3-1-dashboard-shell.md'))).toBe(false);
  });

  it('acceptEdits plus an allow-list for the log script lets everything through', async ({ expect }) => {
    const dir = makeProject();
    const r = await run(dir, promptFor('create-story', ['3-1']), { args: ['--permission-mode', 'acceptEdits', '--allowedTools', 'Bash(_bmad/scripts/orchestrator.sh:*)'] });
    expect(resultOf(r.json).permission_denials).toEqual([]);
    expect(read(dir, STATUS)).toContain('\n  3-1-dashboard-shell: ready-for-dev\n');
  });
});

describe.concurrent('run modes', () => {
  const modeProject = (mode: string) => makeProject({ commands: { 'dev-story': [mode] } });

  it('no-result: some lines, no result, exit 1', async ({ expect }) => {
    const dir = modeProject('no-result');
    const r = await run(dir, promptFor('dev-story', ['2a-1']), { args: BYPASS });
    expect(r.code).toBe(1);
    expect(r.json.length).toBeGreaterThanOrEqual(3);
    expect(r.json.some((o) => o.type === 'result')).toBe(false);
    expect(r.stderr).not.toBe('');
    expect(traceOf(dir).at(-1)).toMatchObject({ ev: 'end', outcome: 'no-result' });
  });

  it('is-error: like the 401 capture', async ({ expect }) => {
    const r = await run(modeProject('is-error'), promptFor('dev-story', ['2a-1']), { args: BYPASS });
    expect(r.code).toBe(1);
    expect(r.json.map((o) => `${o.type}/${o.subtype ?? ''}`)).toEqual(['system/init', 'system/api_retry', 'assistant/', 'result/success']);
    expect(sortedKeys(r.json[2])).toEqual(SYNTHETIC_KEYS);
    expect(r.json[2].message.model).toBe('<synthetic>');
    const res = r.json[3];
    expect(sortedKeys(res)).toEqual(API_ERROR_RESULT_KEYS);
    expect(res).toMatchObject({ subtype: 'success', is_error: true, api_error_status: 401, result: 'Invalid API key · Fix external API key', total_cost_usd: 0 });
  });

  it('error-subtype: error_during_execution result', async ({ expect }) => {
    const r = await run(modeProject('error-subtype'), promptFor('dev-story', ['2a-1']), { args: BYPASS });
    expect(r.code).toBe(1);
    const res = resultOf(r.json);
    expect(res).toMatchObject({ subtype: 'error_during_execution', is_error: true });
    expect(res.errors.length).toBeGreaterThan(0);
    expect('result' in res).toBe(false);
  });

  it('crash: killed by SIGKILL mid-stream', async ({ expect }) => {
    const dir = modeProject('crash');
    const r = await run(dir, promptFor('dev-story', ['2a-1']), { args: BYPASS });
    expect(r.signal).toBe('SIGKILL');
    expect(r.json.length).toBeGreaterThan(1);
    expect(resultOf(r.json)).toBeUndefined();
    expect(traceOf(dir).at(-1)).toMatchObject({ ev: 'end', outcome: 'crash' });
  });

  it('hang + SIGINT: tool child killed, aborted_tools result, exit 1', async ({ expect }) => {
    const dir = modeProject('hang');
    const h = start(dir, promptFor('dev-story', ['2a-1']), { args: BYPASS });
    const grand = await waitFor(() => traceOf(dir).find((e) => e.ev === 'grandchild'));
    strayPids.push(grand.pid);
    await h.waitForLine((l) => l.includes('"tool_use"'));
    expect(alive(grand.pid)).toBe(true);
    h.child.kill('SIGINT');
    const r = await h.done;
    expect(r.code).toBe(1);
    const last = r.json.at(-1);
    expect(last).toMatchObject({ type: 'result', subtype: 'error_during_execution', is_error: true, terminal_reason: 'aborted_tools' });
    const interrupted = r.json.at(-2);
    expect(interrupted.type).toBe('user');
    expect(interrupted.message.content[0].is_error).toBe(true);
    await waitFor(() => !alive(grand.pid));
    expect(traceOf(dir).filter((e) => e.ev !== 'start').map((e) => e.ev === 'end' ? e.outcome : e.ev)).toEqual(['grandchild', 'signal', 'sigint']);
  });

  it('hang + SIGTERM: exit 143, no result, the tool child survives', async ({ expect }) => {
    const dir = modeProject('hang');
    const h = start(dir, promptFor('dev-story', ['2a-1']), { args: BYPASS });
    const grand = await waitFor(() => traceOf(dir).find((e) => e.ev === 'grandchild'));
    strayPids.push(grand.pid);
    h.child.kill('SIGTERM');
    const r = await h.done;
    expect(r.code).toBe(143);
    expect(resultOf(r.json)).toBeUndefined();
    expect(alive(grand.pid)).toBe(true);
    // Its own session and group (like the real Bash tool): killing the simulator's group would not reach it.
    const stat = fs.readFileSync(`/proc/${grand.pid}/stat`, 'utf8');
    const [, , pgrp, session] = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    expect(pgrp).toBe(grand.pid);
    expect(session).toBe(grand.pid);
    expect(traceOf(dir)[0].pgid).not.toBe(grand.pid);
    process.kill(grand.pid, 'SIGKILL');
  });

  it('hang-stubborn: only SIGKILL ends it', async ({ expect }) => {
    const dir = modeProject('hang-stubborn');
    const h = start(dir, promptFor('dev-story', ['2a-1']), { args: BYPASS });
    const grand = await waitFor(() => traceOf(dir).find((e) => e.ev === 'grandchild'));
    strayPids.push(grand.pid);
    h.child.kill('SIGINT');
    h.child.kill('SIGTERM');
    await waitFor(() => traceOf(dir).filter((e) => e.ev === 'signal').length === 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(h.child.exitCode).toBeNull();
    h.child.kill('SIGKILL');
    expect((await h.done).signal).toBe('SIGKILL');
    process.kill(grand.pid, 'SIGKILL');
  });

  it('hang-after-result: the result comes, the process stays', async ({ expect }) => {
    const dir = modeProject('hang-after-result');
    const h = start(dir, promptFor('dev-story', ['2a-1']), { args: BYPASS });
    await h.waitForLine((l) => l.startsWith('{"type":"result"'));
    await new Promise((r) => setTimeout(r, 300));
    expect(h.child.exitCode).toBeNull();
    expect(traceOf(dir).at(-1)).toMatchObject({ ev: 'end', outcome: 'hang-after-result' });
    h.child.kill('SIGTERM');
    const r = await h.done;
    expect(r.code).toBe(143);
    expect(resultOf(r.json).subtype).toBe('success');
  });

  it('hang-after-result + SIGINT exits 0 without a second result', async ({ expect }) => {
    const dir = modeProject('hang-after-result');
    const h = start(dir, promptFor('dev-story', ['2a-1']), { args: BYPASS });
    await h.waitForLine((l) => l.startsWith('{"type":"result"'));
    h.child.kill('SIGINT');
    const r = await h.done;
    expect(r.code).toBe(0);
    expect(r.json.filter((o) => o.type === 'result')).toHaveLength(1);
  });

  it('SIGINT mid-run of a normal command: aborted_tools result', async ({ expect }) => {
    const dir = makeProject({ paceMs: 30 });
    const h = start(dir, promptFor('dev-story', ['2a-1']), { args: BYPASS, env: { SPRINT_SIM_PACE_MS: '30' } });
    await h.waitForLine((l) => l.includes('"tool_result"'));
    h.child.kill('SIGINT');
    const r = await h.done;
    expect(r.code).toBe(1);
    expect(r.json.at(-1)).toMatchObject({ type: 'result', subtype: 'error_during_execution', terminal_reason: 'aborted_tools' });
    for (const l of r.lines) expect(() => JSON.parse(l)).not.toThrow();
  });

  it('garbage: non-JSON and unknown-type lines mixed into a successful run', async ({ expect }) => {
    const dir = modeProject('garbage');
    const r = await run(dir, promptFor('dev-story', ['2a-1']), { args: BYPASS });
    expect(r.code).toBe(0);
    const bad = r.lines.filter((l) => { try { JSON.parse(l); return false; } catch { return true; } });
    expect(bad.length).toBeGreaterThanOrEqual(3);
    expect(r.json.some((o) => !['system', 'assistant', 'user', 'result'].includes(o.type))).toBe(true);
    expect(resultOf(r.json)).toMatchObject({ subtype: 'success', is_error: false });
    expect(read(dir, STATUS)).toContain('\n  2a-1-log-parser: review\n');
  });

  it('garbage-only: nothing parses, exit 0', async ({ expect }) => {
    const r = await run(modeProject('garbage-only'), promptFor('dev-story', ['2a-1']), { args: BYPASS });
    expect(r.code).toBe(0);
    expect(r.lines.length).toBeGreaterThan(2);
    expect(r.json.filter((o) => typeof o === 'object' && o !== null && 'type' in o)).toEqual([]);
  });

  it('rate-limit: rejected rate_limit_event with resetsAt, then an is_error result', async ({ expect }) => {
    const r = await run(modeProject('rate-limit:120'), promptFor('dev-story', ['2a-1']), { args: BYPASS });
    expect(r.code).toBe(1);
    const ev = r.json.find((o) => o.type === 'rate_limit_event');
    expect(ev.rate_limit_info.status).toBe('rejected');
    expect(Math.abs(ev.rate_limit_info.resetsAt - (Math.floor(Date.now() / 1000) + 120))).toBeLessThan(10);
    expect(resultOf(r.json)).toMatchObject({ subtype: 'success', is_error: true, api_error_status: 429 });
    expect(resultOf(r.json).result).toContain('usage limit reached');
  });

  it('slow:<ms> delays the result', async ({ expect }) => {
    const dir = modeProject('slow:400');
    const r = await run(dir, promptFor('dev-story', ['2a-1']), { args: BYPASS });
    expect(r.code).toBe(0);
    const [s, e] = traceOf(dir);
    expect(e.t - s.t).toBeGreaterThanOrEqual(400);
    expect(resultOf(r.json).duration_ms).toBeGreaterThanOrEqual(400);
  });

  it('big-line: one valid ~5 MB line', async ({ expect }) => {
    const r = await run(modeProject('big-line'), promptFor('dev-story', ['2a-1']), { args: BYPASS });
    expect(r.code).toBe(0);
    checkStream(r);
    const big = r.lines.filter((l) => l.length > 4_000_000);
    expect(big).toHaveLength(1);
    expect(JSON.parse(big[0] as string).type).toBe('user');
  });

  it('--max-turns ends with error_max_turns', async ({ expect }) => {
    const r = await run(makeProject(), promptFor('dev-story', ['2a-1']), { args: [...BYPASS, '--max-turns', '3'] });
    expect(r.code).toBe(1);
    expect(resultOf(r.json)).toMatchObject({ subtype: 'error_max_turns', is_error: true, num_turns: 3 });
  });
});

describe('trace', () => {
  it('records start and end with the exact fields', async () => {
    const dir = makeProject();
    const r = await run(dir, promptFor('code-review-2', ['2a-1']), { args: [...BYPASS, '--model', 'haiku'] });
    const t = traceOf(dir);
    expect(t).toHaveLength(2);
    const [s, e] = t;
    expect(s).toMatchObject({
      ev: 'start',
      ppid: process.pid,
      command: 'code-review',
      logged: 'code-review-2',
      attempt: 2,
      stories: ['2a-1'],
      epic: '2a',
      model: 'haiku',
      permissionMode: 'bypassPermissions',
      cwd: fs.realpathSync(dir),
      mode: 'ok',
      invocation: 1,
    });
    expect(r.code).toBe(0);
    expect(typeof s.pgid).toBe('number');
    expect(e).toMatchObject({ ev: 'end', pid: s.pid, command: 'code-review', stories: ['2a-1'], mode: 'ok', outcome: 'ok' });
    expect(e.t).toBeGreaterThanOrEqual(s.t);
  });
});
