#!/usr/bin/env node
// A fake `claude -p --output-format stream-json --verbose` for the bench: it ignores its prompt (read to EOF) and
// prints task lines at a chosen rate, each carrying the epoch time it was written, so the bench can time every hop.
//
// Behaviour comes from the JSON file named by BENCH_CHILD_CONFIG, read at start (so one `serve` can run children
// that behave differently, e.g. a hang and then a quick run after a resume):
//   { "mode": "stream" | "hang",
//     "lines": 10000,        // task lines (each a Bash tool_use of the log script = one command:progress event)
//     "rate": 1000,          // task lines per second; 0 = as fast as the pipe takes them
//     "noise": 0 | 1,        // 1: a tool_result after every task line and a text block after every 5th
//     "delayMs": 0,          // silence after init before the first task line
//     "trace": "/path"       // one JSON line per start / end (appendFileSync)
//   }
// A `batch-commit` prompt is answered at once with a successful result. `hang` prints init and then nothing, ever
// (SIGINT/SIGTERM end it, like the real CLI).
import { appendFileSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';

const now = () => performance.timeOrigin + performance.now();
const config = JSON.parse(readFileSync(process.env.BENCH_CHILD_CONFIG ?? '', 'utf8'));
// like the CLI: the caller may choose the id (--session-id); --resume X continues X, whose command the trace kept
const argValue = (flag) => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const session = argValue('--session-id') ?? randomUUID();
const resumed = argValue('--resume');
const PHASES = ['setup', 'diff', 'review', 'classify', 'report'];
const out = process.stdout;

/** The command an earlier start of this session ran, from the trace (the continuation prompt does not name it). */
function commandOfSession(id) {
  if (!config.trace) return undefined;
  let text = '';
  try {
    text = readFileSync(config.trace, 'utf8');
  } catch {
    return undefined;
  }
  const starts = text.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((r) => r.ev === 'start' && r.session === id);
  return starts[0]?.command;
}

function trace(record) {
  if (config.trace) appendFileSync(config.trace, `${JSON.stringify({ pid: process.pid, ...record })}\n`);
}

const line = (obj) => `${JSON.stringify(obj)}\n`;
const assistant = (content) => line({ type: 'assistant', message: { id: `msg_${randomUUID().slice(0, 12)}`, type: 'message', role: 'assistant', model: 'bench', content }, parent_tool_use_id: null, session_id: session });

let toolCounter = 0;
function taskLine(i, tSend) {
  const phase = PHASES[Math.floor(i / 2) % PHASES.length];
  const status = i % 2 === 0 ? 'start' : 'end';
  const id = `toolu_${++toolCounter}`;
  const command = `_bmad/scripts/orchestrator.sh 1 1-3 code-review-1 ${phase} ${status} "${tSend.toFixed(3)}"`;
  let text = line({
    type: 'assistant',
    message: { id: `msg_${toolCounter}`, type: 'message', role: 'assistant', model: 'bench', content: [{ type: 'tool_use', id, name: 'Bash', input: { command, description: `log ${phase} ${status}` } }] },
    parent_tool_use_id: null,
    session_id: session,
  });
  if (config.noise) {
    text += line({ type: 'user', message: { role: 'user', content: [{ tool_use_id: id, type: 'tool_result', content: `logged 1-3 code-review-1 ${phase} ${status}`, is_error: false }] }, parent_tool_use_id: null, session_id: session });
    if (i % 5 === 4) {
      text += assistant([{ type: 'text', text: `Reviewing the change for phase ${phase}: reading the diff of src/scanner.ts and its tests, checking symlink handling, error paths and resource cleanup against the acceptance criteria.` }]);
    }
  }
  return text;
}

function finish(turns) {
  out.write(assistant([{ type: 'text', text: 'Review done.\n\nZERO ISSUES' }]));
  out.write(
    line({
      type: 'result',
      subtype: 'success',
      is_error: false,
      duration_ms: Math.round(performance.now()),
      duration_api_ms: 0,
      num_turns: turns,
      result: 'ZERO ISSUES',
      session_id: session,
      total_cost_usd: 0,
      usage: { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
      permission_denials: [],
    }),
  );
  trace({ ev: 'end', t: now() });
  // no process.exit: stdout to a pipe may still hold queued data; the process ends once it is flushed
  process.stdin.destroy();
}

function streamAtRate(total, rate) {
  const started = now();
  let sent = 0;
  const tick = () => {
    const due = Math.min(total, Math.floor(((now() - started) * rate) / 1000) + 1);
    // one write per line, like the real CLI, each stamped just before its write
    while (sent < due) out.write(taskLine(sent++, now()));
    // a reader that falls behind makes the queue grow here; the bench reports the rate actually reached
    if (sent >= total) finish(total);
    else setTimeout(tick, 1);
  };
  tick();
}

async function streamFlat(total) {
  // as fast as the reader takes it: a full pipe makes write() return false and we wait for 'drain'
  const BATCH = 64;
  let sent = 0;
  while (sent < total) {
    let chunk = '';
    const t = now();
    for (let k = 0; k < BATCH && sent < total; k++) chunk += taskLine(sent++, t);
    if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
  }
  finish(total);
}

let prompt = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => (prompt += d));
process.stdin.on('end', () => {
  const command = /^Command:\s*(\S+)/m.exec(prompt)?.[1] ?? (resumed !== undefined ? commandOfSession(resumed) : undefined) ?? 'unknown';
  const tStart = now();
  out.write(line({ type: 'system', subtype: 'init', cwd: process.cwd(), session_id: session, tools: ['Bash'], model: 'bench', permissionMode: 'bypassPermissions', claude_code_version: 'bench' }));
  trace({ ev: 'start', command, session, ...(resumed !== undefined ? { resumed } : {}), mode: config.mode, t: tStart, tOrigin: performance.timeOrigin });
  if (command === 'batch-commit') {
    out.write(assistant([{ type: 'text', text: 'Committed the stories.' }]));
    finish(1);
    return;
  }
  if (config.mode === 'hang') {
    setInterval(() => undefined, 1 << 30);
    return;
  }
  setTimeout(() => {
    if (config.rate > 0) streamAtRate(config.lines, config.rate);
    else void streamFlat(config.lines);
  }, config.delayMs ?? 0);
});
