#!/usr/bin/env node
// Stands in for the claude CLI in tests: prints stream-json shaped like the real captures, per --scenario.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const REQUIRED = ['-p', '--output-format', 'stream-json', '--verbose'];
const argv = process.argv.slice(2);
if (REQUIRED.some((arg, i) => argv[i] !== arg)) {
  // what the real CLI says when --verbose is missing
  process.stderr.write('Error: When using --print, --output-format=stream-json requires --verbose\n');
  process.exit(1);
}
const option = (name, fallback) => {
  const at = argv.indexOf(name);
  return at === -1 ? fallback : argv[at + 1];
};
const scenario = option('--scenario', 'ok');
const pidFile = option('--pid-file', '');

const SESSION = '5c5b8ace-7358-4c1b-9ea5-2583a07602b6';
const MODEL = 'claude-sonnet-4-5';
const USAGE = { input_tokens: 100, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
let uuid = 0;
const nextUuid = () => `00000000-0000-4000-8000-${String(++uuid).padStart(12, '0')}`;

const write = (text) => process.stdout.write(text);
const line = (object) => write(`${JSON.stringify(object)}\n`);
const init = () =>
  line({
    type: 'system', subtype: 'init', cwd: process.cwd(), session_id: SESSION, tools: ['Task', 'Bash'], mcp_servers: [],
    model: MODEL, permissionMode: 'default', apiKeySource: 'ANTHROPIC_API_KEY', claude_code_version: '2.1.197', uuid: nextUuid(),
  });
const assistant = (block, parent = null) =>
  line({
    type: 'assistant',
    message: { id: 'msg_mock_2', type: 'message', role: 'assistant', model: MODEL, content: [block], stop_reason: null, stop_sequence: null, usage: USAGE, context_management: null },
    parent_tool_use_id: parent, session_id: SESSION, uuid: nextUuid(), request_id: 'req_mock_2',
  });
const text = (t, parent = null) => assistant({ type: 'text', text: t }, parent);
const bash = (id, command, parent = null) => assistant({ type: 'tool_use', id, name: 'Bash', input: { command, description: 'log' } }, parent);
const toolResult = (id, content, parent = null) =>
  line({
    type: 'user', message: { role: 'user', content: [{ tool_use_id: id, type: 'tool_result', content, is_error: false }] },
    parent_tool_use_id: parent, session_id: SESSION, uuid: nextUuid(), timestamp: '2026-11-24T07:41:03.192Z',
    tool_use_result: { stdout: content, stderr: '', interrupted: false, isImage: false, noOutputExpected: false },
  });
const result = (overrides = {}) =>
  line({
    type: 'result', subtype: 'success', is_error: false, api_error_status: null, duration_ms: 350, duration_api_ms: 91,
    num_turns: 2, result: 'All done.', stop_reason: 'end_turn', session_id: SESSION, total_cost_usd: 0.001125,
    usage: { input_tokens: 200, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 35 },
    modelUsage: {}, permission_denials: [], terminal_reason: 'completed', fast_mode_state: 'off', uuid: nextUuid(),
    ...overrides,
  });
const hang = () => setInterval(() => undefined, 60_000);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function readPrompt() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function spawnDetachedSleep() {
  // its own session, like the shells the Bash tool starts: a group kill of the CLI does not reach it
  const sleeper = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
  sleeper.unref();
  if (pidFile) writeFileSync(pidFile, `${sleeper.pid}\n`);
  return sleeper.pid;
}

const scenarios = {
  async ok() {
    const prompt = await readPrompt();
    init();
    text(`Prompt had ${prompt.length} chars.`);
    bash('toolu_1', '_bmad/scripts/orchestrator.sh 2 2-3 dev-story implement start "Implementing story 2-3"');
    toolResult('toolu_1', 'logged');
    assistant({ type: 'tool_use', id: 'toolu_task', name: 'Task', input: { prompt: 'review', description: 'review' } });
    text('subagent thinking aloud', 'toolu_task');
    bash('toolu_2', `cd /repo && ./_bmad/scripts/sprint-log.sh '{"epic_id":"2","story_id":"2-3","command":"code-review-1","task_id":"review","status":"end","message":"3 issues, it'\\''s \\"fine\\""}'`, 'toolu_task');
    toolResult('toolu_2', 'logged', 'toolu_task');
    toolResult('toolu_task', 'review done');
    bash('toolu_3', '_bmad/scripts/orchestrator.sh 2 2-3 dev-story workflow end');
    toolResult('toolu_3', 'logged');
    text('All done.');
    result();
  },
  async garbage() {
    await readPrompt();
    write('this is not json\n');
    init();
    line({ no_type: true });
    line({ type: 'brand_new_thing' });
    line({ type: 'brand_new_thing' });
    text('All done.');
    result();
  },
  async 'is-error'() {
    await readPrompt();
    init();
    text('Invalid API key · Fix external API key');
    result({ is_error: true, api_error_status: 401, result: 'Invalid API key · Fix external API key' });
    process.exitCode = 1;
  },
  async 'error-subtype'() {
    await readPrompt();
    init();
    text('Working…');
    result({ subtype: 'error_max_turns', terminal_reason: 'max_turns', result: '' });
  },
  async denials() {
    await readPrompt();
    init();
    text('Could not run it.');
    result({ permission_denials: [{ tool_name: 'Bash', tool_use_id: 'toolu_1', tool_input: { command: 'ls' } }] });
  },
  async 'hang-after-result'() {
    await readPrompt();
    init();
    text('All done.');
    result();
    hang();
  },
  async 'no-result'() {
    await readPrompt();
    init();
    text('Starting.');
    process.stderr.write('Error: something broke\n');
    process.exitCode = 1;
  },
  async hang() {
    await readPrompt();
    init();
    hang();
  },
  async 'silent-then-output'() {
    // prints a line every 100 ms for a while: an idle watchdog of 1 s must not fire
    await readPrompt();
    init();
    for (let i = 0; i < 15; i++) {
      text(`tick ${i}`);
      await sleep(100);
    }
    result();
  },
  async 'sigint-result'() {
    // the real CLI answers SIGINT with an error_during_execution result
    await readPrompt();
    process.on('SIGINT', () => {
      result({ subtype: 'error_during_execution', is_error: true, terminal_reason: 'aborted_tools', result: '' });
      process.exit(0);
    });
    init();
    text('Working…');
    hang();
  },
  async grandchild() {
    await readPrompt();
    spawnDetachedSleep();
    init();
    hang();
  },
  async 'orphan-then-hang'() {
    // like a Bash tool shell that backgrounds a job and exits: the job ends up re-parented away from the CLI
    await readPrompt();
    const code = `
      const { spawn } = require('node:child_process');
      const sleeper = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
      sleeper.unref();
      require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, sleeper.pid + '\\n');
      setTimeout(() => process.exit(0), 300);
    `;
    spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
    init();
    hang();
  },
  async 'grandchild-exit'() {
    await readPrompt();
    spawnDetachedSleep();
    init();
    await sleep(Number(option('--delay', '300')));
    text('All done.');
    result();
  },
  async 'huge-line'() {
    await readPrompt();
    init();
    bash('toolu_big', 'seq 1 100000000');
    // one ~50 MB line (the content is not repeated in tool_use_result, to stay under the 64 MiB cap)
    line({ type: 'user', message: { role: 'user', content: [{ tool_use_id: 'toolu_big', type: 'tool_result', content: 'x'.repeat(50 * 1000 * 1000), is_error: false }] }, parent_tool_use_id: null, session_id: SESSION, uuid: nextUuid() });
    text('All done.');
    result();
  },
  async 'long-line'() {
    await readPrompt();
    init();
    toolResult('toolu_big', 'y'.repeat(5000));
    text('All done.');
    result();
  },
  async 'stderr-flood'() {
    await readPrompt();
    const block = `${'e'.repeat(1023)}\n`;
    for (let i = 0; i < 2048; i++) process.stderr.write(block);
    process.stderr.write('last stderr line\n');
    init();
    text('All done.');
    result();
  },
  async 'split-writes'() {
    // CRLF endings and a multi-byte character split across writes
    await readPrompt();
    init();
    const bytes = Buffer.from(`${JSON.stringify({ type: 'assistant', message: { id: 'm', content: [{ type: 'text', text: 'héllo ✓ 🎉' }] }, parent_tool_use_id: null })}\r\n`);
    for (let i = 0; i < bytes.length; i += 3) {
      process.stdout.write(bytes.subarray(i, i + 3));
      await sleep(1);
    }
    write(`${JSON.stringify({ type: 'result', subtype: 'success', is_error: false, num_turns: 1, session_id: SESSION })}`); // no final newline
  },
  async 'ignore-stdin'() {
    // never reads its prompt and exits at once: writing a big prompt meets EPIPE
    init();
    text('All done.');
    result();
    process.exit(0);
  },
};

const run = scenarios[scenario];
if (!run) {
  process.stderr.write(`unknown scenario ${scenario}\n`);
  process.exit(2);
}
await run();
