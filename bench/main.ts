// `npm run bench`: measures sprint-runner end to end (child stdout -> runner -> SQLite -> WebSocket -> DOM) and prints
// the figures with the conditions they were measured under. It asserts nothing. See bench/README.md.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { measureInterruption } from './interruption.js';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import {
  api,
  clockTicks,
  cpuModel,
  cpuMs,
  freePort,
  isBatchEnd,
  loadAverage,
  makeProject,
  memoryMb,
  now,
  percentile,
  readTrace,
  sentAt,
  sleep,
  spawnCliServe,
  spawnHostServe,
  WsClient,
  type Project,
  type ServeChild,
} from './lib.js';

const { values: flags } = parseArgs({
  options: {
    /** comma-separated: latency, throughput (also RSS and first paint), resume (also idle CPU), interruption (tokens, continued vs restarted) */
    only: { type: 'string' },
    /** write --cpu-prof profiles of every serve process to this folder */
    prof: { type: 'string' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    lines: { type: 'string', default: '100000' },
    /** write a CPU profile of the dashboard page during the latency run to this file (.cpuprofile) */
    'page-prof': { type: 'string' },
    /** write a Chromium trace (devtools.timeline: style, layout, paint) of the dashboard during the latency run */
    'page-trace': { type: 'string' },
    /** write the latency run's raw samples (send time and latency of each hop) to this JSON file */
    samples: { type: 'string' },
    /** keep the project copies (and their databases) instead of deleting them */
    keep: { type: 'boolean', default: false },
  },
});
const only = new Set((flags.only ?? 'latency,throughput,resume,interruption').split(','));
const nodeArgs = flags.prof ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(flags.prof)}`] : [];
const RATE = Number(flags.rate);
const SECONDS = Number(flags.seconds);
const BIG = Number(flags.lines);

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

interface Row {
  figure: string;
  value: string;
  target: string;
  met: string;
  conditions: string;
}
const rows: Row[] = [];
const notes: string[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
let browserVersion = 'not started';
const loadBefore = loadAverage();
const benchStarted = now();

const ms = (v: number) => (Number.isFinite(v) ? `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ms` : 'n/a');
const n = (v: number) => Math.round(v).toLocaleString('en-US');
const mark = (ok: boolean | null) => (ok === null ? '-' : ok ? 'yes' : 'NO');
const log = (text: string) => process.stderr.write(`[bench ${((now() - benchStarted) / 1000).toFixed(1).padStart(6)} s] ${text}\n`);

// ------------------------------------------------------------------------------------------------ the browser

/** The MutationObserver: the first moment each `data-id` shows on a log row, and the paint entries. */
const PAGE_PROBE = `(() => {
  const seen = new Map();
  const paints = {};
  window.__bench = { seen, paints, firstRow: null };
  const stamp = () => performance.timeOrigin + performance.now();
  const note = (el, t) => {
    if (el.nodeType !== 1 || el.getAttribute('data-testid') !== 'log-row') return;
    const id = el.getAttribute('data-id');
    if (!id || seen.has(id)) return;
    seen.set(id, t);
    if (window.__bench.firstRow === null) window.__bench.firstRow = performance.now();
  };
  new MutationObserver((records) => {
    const t = stamp();
    for (const r of records) {
      if (r.type === 'attributes') note(r.target, t);
      else for (const node of r.addedNodes) note(node, t);
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-id'] });
  new PerformanceObserver((list) => { for (const e of list.getEntries()) paints[e.name] = e.startTime; }).observe({ type: 'paint', buffered: true });
})();`;

async function openDashboard(url: string): Promise<{ context: BrowserContext; page: Page; dir: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sprint-runner-bench-chromium-'));
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 900 } });
  browserVersion = context.browser()?.version() ?? browserVersion;
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => notes.push(`page error: ${error.message}`));
  await page.addInitScript(PAGE_PROBE);
  await page.goto(url);
  return { context, page, dir };
}

async function closeDashboard(d: { context: BrowserContext; dir: string }): Promise<void> {
  await d.context.close();
  rmSync(d.dir, { recursive: true, force: true });
}

/** The Sprint Run tab selected, its log on screen, and command:progress rows let through the log filter. */
async function showRunLog(page: Page): Promise<void> {
  await page.locator('[data-tab="run"]').click();
  const progress = page.getByTestId('log-type-command:progress');
  if (!(await progress.isChecked())) await progress.check();
  await page.getByTestId('event-log').scrollIntoViewIfNeeded();
  await page.waitForFunction(`document.querySelector('[data-testid="connection-state"]')?.getAttribute('data-state') === 'open'`, undefined, { timeout: 20_000 });
}

// ------------------------------------------------------------------------------------------------ figures

async function figureLatency(): Promise<void> {
  const total = RATE * SECONDS;
  log(`latency: ${n(total)} task lines at ${RATE}/s through serve(), a ws client and Chromium`);
  const project = makeProject();
  const serve = await spawnHostServe(project, nodeArgs);
  cleanups.push(() => serve.kill());
  const dash = await openDashboard(serve.url);
  cleanups.push(() => closeDashboard(dash));
  await showRunLog(dash.page);

  const state = await api<{ lastEventId: number }>(serve.url, '/api/state');
  const ws = new WsClient(serve.url, state.body.lastEventId);
  await ws.opened;
  const wsLatency: number[] = [];
  const sentById = new Map<number, number>();
  let firstArrival = Infinity;
  let lastArrival = 0;
  ws.on((event, at) => {
    const t = sentAt(event);
    if (t === null) return;
    sentById.set(event.id, t);
    wsLatency.push(at - t);
    firstArrival = Math.min(firstArrival, at);
    lastArrival = at;
  });
  const ended = ws.waitFor(isBatchEnd, 300_000, 'the latency batch to end');
  project.configure({ mode: 'stream', lines: total, rate: RATE, noise: 1 });
  const cdp = flags['page-prof'] ? await dash.context.newCDPSession(dash.page) : null;
  if (cdp) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.start');
  }
  const tracer = flags['page-trace'] ? await dash.context.newCDPSession(dash.page) : null;
  const traceEvents: unknown[] = [];
  if (tracer) {
    tracer.on('Tracing.dataCollected', (data) => traceEvents.push(...(data.value as unknown[])));
    await tracer.send('Tracing.start', { categories: process.env['BENCH_TRACE_CATEGORIES'] ?? 'devtools.timeline', transferMode: 'ReportEvents' });
  }
  await api(serve.url, '/api/batch/start', { cycles: 1 });
  await ended;
  await sleep(500);
  if (tracer) {
    const complete = new Promise((resolve) => tracer.once('Tracing.tracingComplete', resolve));
    await tracer.send('Tracing.end');
    await complete;
    writeFileSync(flags['page-trace']!, JSON.stringify({ traceEvents }));
  }
  if (cdp) writeFileSync(flags['page-prof']!, JSON.stringify((await cdp.send('Profiler.stop')).profile));

  const { samples: commitSamples, gc } = await serve.request<{ samples: [number, number][]; gc: [number, number, string][] }>({ type: 'samples' });
  const commit = commitSamples.map(([, v]) => v);
  const seen = (await dash.page.evaluate('[...window.__bench.seen.entries()]')) as [string, number][];
  /** [send time, latency to the DOM] of every event that got a row */
  const domSamples: [number, number][] = [];
  for (const [id, t] of seen) {
    const sent = sentById.get(Number(id));
    if (sent !== undefined) domSamples.push([sent, t - sent]);
  }
  const domLatency = domSamples.map(([, v]) => v);
  if (flags.samples) {
    const wsSamples = [...sentById.values()].map((sent, i) => [sent, wsLatency[i]]);
    writeFileSync(flags.samples, JSON.stringify({ commit: commitSamples, ws: wsSamples, dom: domSamples, gc }));
  }
  const sends = [...sentById.values()];
  const sendSpan = (Math.max(...sends) - Math.min(...sends)) / 1000;
  const deliverSpan = (lastArrival - firstArrival) / 1000;
  const cond = `${n(total)} task events at ${RATE}/s for ${SECONDS} s (child actually wrote ${n(total / sendSpan)}/s; ws got them at ${n(sentById.size / deliverSpan)}/s), +1 tool_result per event, +1 text block per 5`;
  rows.push(
    { figure: '1a latency to SQLite commit, p50', value: ms(percentile(commit, 50)), target: '', met: '-', conditions: cond },
    { figure: '1a latency to SQLite commit, p99', value: ms(percentile(commit, 99)), target: '', met: '-', conditions: `n=${n(commit.length)}` },
    { figure: '1b latency to WebSocket client, p50', value: ms(percentile(wsLatency, 50)), target: '', met: '-', conditions: `n=${n(wsLatency.length)}` },
    { figure: '1b latency to WebSocket client, p99', value: ms(percentile(wsLatency, 99)), target: '', met: '-', conditions: '' },
    { figure: '1c latency to DOM (Chromium), p50', value: ms(percentile(domLatency, 50)), target: '', met: '-', conditions: `rows seen for ${n(domLatency.length)} of ${n(sentById.size)} events (virtualised log, 420 px)` },
    { figure: '1c latency to DOM (Chromium), p99', value: ms(percentile(domLatency, 99)), target: '<= 50 ms', met: mark(percentile(domLatency, 99) <= 50), conditions: 'Sprint Run tab, log on screen, default filter' },
  );
  if (commit.length && percentile(commit, 99) > 50) {
    notes.push(`latency: the commit p99 alone is ${ms(percentile(commit, 99))}: the server does not keep up with ${RATE}/s (see throughput), so a queue builds in the pipe and latency grows during the run`);
  }
  ws.close();
  await closeDashboard(dash);
  await serve.request({ type: 'close' }).catch(() => undefined);
  await serve.kill();
  if (flags.keep) notes.push(`kept ${project.root}`);
  else rmSync(project.root, { recursive: true, force: true });
}

async function figureThroughputRssPaint(project: Project): Promise<void> {
  log(`throughput: ${n(BIG)} task lines as fast as possible through \`serve\` (child process) and a ws client`);
  const serve = spawnCliServe(project, await freePort(), [], nodeArgs);
  cleanups.push(() => serve.kill());
  await serve.ready;
  const rssIdle = memoryMb(serve.pid);
  const ws = new WsClient(serve.url, 0);
  await ws.opened;
  let first = Infinity;
  let last = 0;
  let count = 0;
  ws.on((event, at) => {
    const t = sentAt(event);
    if (t === null) return;
    count++;
    first = Math.min(first, t);
    last = at;
  });
  const ended = ws.waitFor(isBatchEnd, 900_000, 'the throughput batch to end');
  project.configure({ mode: 'stream', lines: BIG, rate: 0, noise: 0 });
  const cpuBefore = cpuMs(serve.pid);
  await api(serve.url, '/api/batch/start', { cycles: 1 });
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, memoryMb(serve.pid).rss)), 250);
  await ended;
  clearInterval(sampler);
  const seconds = (last - first) / 1000;
  const cpu = cpuMs(serve.pid) - cpuBefore;
  rows.push({
    figure: '2  ingest throughput',
    value: `${n(count / seconds)} lines/s`,
    target: '>= 20,000 lines/s',
    met: mark(count / seconds >= 20_000),
    conditions: `${n(count)} task lines (each one Bash tool_use = one event) in ${seconds.toFixed(1)} s, child's first write to the last event at a ws client; no browser open; \`serve\`'s terminal log drained from a pipe; serve used ${(cpu / 1000).toFixed(1)} s CPU (${((cpu / 10) / seconds).toFixed(0)} % of one core)`,
  });
  ws.close();
  await sleep(1000);
  const mem = memoryMb(serve.pid);
  rows.push({
    figure: '4  orchestrator RSS after 100k events',
    value: `${mem.rss.toFixed(0)} MB`,
    target: '<= 150 MB',
    met: mark(mem.rss <= 150),
    conditions: `VmRSS of \`serve\` 1 s after the batch ended (${n(count)} events); ${rssIdle.rss.toFixed(0)} MB before it; peak VmHWM ${mem.hwm.toFixed(0)} MB, sampled peak during the run ${peak.toFixed(0)} MB`,
  });

  // what the dashboard fetches before its first rows (web/src/store.ts loadInitial), timed from here
  const fetches: string[] = [];
  const lastId = (await api<{ lastEventId: number }>(serve.url, '/api/state')).body.lastEventId;
  for (const route of ['/api/state', '/api/taxonomy', '/api/machines', '/api/commands', `/api/events?after=${Math.max(0, lastId - 2000)}&limit=2000`, '/api/sprint-status', '/api/story-descriptions']) {
    const t0 = now();
    const response = await fetch(`${serve.url}${route}`);
    const bytes = (await response.arrayBuffer()).byteLength;
    fetches.push(`${route.replace(/\?.*/, '')} ${ms(now() - t0)} ${(bytes / 1024).toFixed(0)} KB`);
  }
  notes.push(`first paint: the dashboard's initial fetches, one at a time from node: ${fetches.join('; ')}`);

  log(`first paint: the dashboard on a database holding ${n(count)} events, 3 cold loads`);
  const fcp: number[] = [];
  const firstRows: number[] = [];
  for (let i = 0; i < 3; i++) {
    log(`first paint: cold load ${i + 1} of 3`);
    const dash = await openDashboard(serve.url);
    await dash.page.waitForFunction('window.__bench.firstRow !== null && window.__bench.paints["first-contentful-paint"] !== undefined', undefined, { timeout: 60_000 });
    const r = (await dash.page.evaluate('({ fcp: window.__bench.paints["first-contentful-paint"], rows: window.__bench.firstRow })')) as { fcp: number; rows: number };
    fcp.push(r.fcp);
    firstRows.push(r.rows);
    await closeDashboard(dash);
  }
  const med = (v: number[]) => percentile(v, 50);
  rows.push(
    { figure: '5  dashboard first contentful paint', value: ms(med(fcp)), target: '<= 1 s', met: mark(med(fcp) <= 1000), conditions: `median of 3 cold loads (fresh user-data-dir each): ${fcp.map(ms).join(', ')}; ${n(count)} events in the database` },
    { figure: '5  dashboard first log rows', value: ms(med(firstRows)), target: '<= 1 s', met: mark(med(firstRows) <= 1000), conditions: `from navigation start: ${firstRows.map(ms).join(', ')}` },
  );
  await serve.kill('SIGTERM');
}

async function figureIdleAndResume(project: Project): Promise<void> {
  log('idle CPU: a batch whose child prints init and then nothing');
  project.reset();
  project.configure({ mode: 'hang' });
  const port = await freePort();
  const first = spawnCliServe(project, port, [], []);
  cleanups.push(() => first.kill('SIGKILL'));
  await first.ready;
  const ws = new WsClient(first.url, (await api<{ lastEventId: number }>(first.url, '/api/state')).body.lastEventId);
  await ws.opened;
  const init = ws.waitFor((e) => e.type === 'command:progress' && e.payload.kind === 'init', 30_000, 'the hanging child to start');
  await api(first.url, '/api/batch/start', { cycles: 1 });
  await init;
  // three windows of 10 s: V8's background threads (the memory reducer's GCs, compilation) stay busy for 10-20 s
  // after boot, so the last window is the steady state and the value
  await sleep(2000);
  const windows: { all: number; main: number; span: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const all0 = cpuMs(first.pid);
    const main0 = cpuMs(first.pid, first.pid);
    const t0 = now();
    await sleep(10_000);
    windows.push({ all: cpuMs(first.pid) - all0, main: cpuMs(first.pid, first.pid) - main0, span: (now() - t0) / 1000 });
  }
  const last = windows[windows.length - 1]!;
  rows.push({
    figure: '6  CPU while idle (silent child)',
    value: `${n(last.all)} ms CPU in ${last.span.toFixed(1)} s (${(last.all / 10 / last.span).toFixed(2)} %), main thread ${n(last.main)} ms`,
    target: '~ 0 (< 0.5 % of a core)',
    met: mark(last.all / last.span < 5),
    conditions: `utime+stime of \`serve\` (all threads; main thread alone) from /proc (${(1000 / clockTicks()).toFixed(0)} ms ticks) in the third of three 10 s windows from 2 s after the child's init line; the three: ${windows.map((w) => `${n(w.all)} (${n(w.main)}) ms`).join(', ')}; one ws client connected; ${n(BIG)}-event history in the database`,
  });
  ws.close();

  log('resume: SIGKILL serve during the hang, start serve again and resume at once');
  const hung = readTrace(project).filter((r) => r.ev === 'start' && r.mode === 'hang').map((r) => r.pid);
  first.child.kill('SIGKILL');
  await first.exited;
  project.configure({ mode: 'stream', lines: 10, rate: 0, noise: 0 });
  const second = spawnCliServe(project, port, [], nodeArgs);
  cleanups.push(() => second.kill());
  const t = second.spawnedAt;
  let answered = 0;
  let status = '';
  for (;;) {
    try {
      const state = await api<{ status: string }>(second.url, '/api/state');
      answered = now();
      status = state.body.status ?? `HTTP ${state.status}`;
      break;
    } catch {
      await sleep(5);
    }
    if (now() - t > 60_000) throw new Error(`serve did not answer within 60 s:\n${second.tail()}`);
  }
  // serve answers 503 `starting` until its recovery is done: a client tries again, as the dashboard does
  let resumed = await api<{ error?: string; code?: string }>(second.url, '/api/batch/resume', {});
  while (resumed.status === 503 && resumed.body.code === 'starting' && now() - t < 60_000) {
    await sleep(5);
    resumed = await api<{ error?: string; code?: string }>(second.url, '/api/batch/resume', {});
  }
  const resumeReturned = now();
  let childStart: { t: number; tOrigin?: number } | undefined;
  while (!(childStart = readTrace(project).find((r) => r.ev === 'start' && r.command?.startsWith('code-review') === true && r.t > t))) {
    if (now() - t > 60_000) throw new Error(`the interrupted command did not run again (resume answered ${resumed.status} ${JSON.stringify(resumed.body)}):\n${second.tail()}`);
    await sleep(2);
  }
  const total = childStart.t - t;
  rows.push({
    figure: '3  resume time',
    value: ms(total),
    target: '<= 1 s',
    met: mark(total <= 1000),
    conditions: `spawn of \`serve\` on the crashed database -> child's first output: serve answered GET /api/state (${status}) at ${ms(answered - t)}, POST /api/batch/resume returned ${resumed.status} at ${ms(resumeReturned - t)}, child process started at ${ms((childStart.tOrigin ?? NaN) - t)}; ${n(BIG)}-event history`,
  });
  const survivors = hung.filter((pid) => {
    // a zombie (not yet reaped by PID 1) counts as gone, as in machines/claude/process-tree.ts
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return !/^[ZXx]$/.test(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '');
    } catch {
      return false;
    }
  });
  if (survivors.length) notes.push(`resume: the hung child of the killed serve still runs: ${survivors.join(', ')}`);
  const ws2 = new WsClient(second.url, 0);
  // the resumed batch finishes by itself (10 lines, then batch-commit); wait so nothing is cut mid-way
  await ws2.waitFor(isBatchEnd, 60_000, 'the resumed batch to end').catch((e: Error) => notes.push(`resume: ${e.message}`));
  ws2.close();
  await second.kill('SIGTERM');
}

// ------------------------------------------------------------------------------------------------ main

function printTable(): void {
  const cols: (keyof Row)[] = ['figure', 'value', 'target', 'met', 'conditions'];
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  const line = (r: Record<keyof Row, string>) => cols.map((c, i) => (i === cols.length - 1 ? r[c] : r[c].padEnd(width[i]!))).join(' | ');
  const out = [
    '',
    'sprint-runner bench',
    `  node ${process.version}, ${cpuModel()}, load average ${loadBefore} (start) / ${loadAverage()} (end), Chromium ${browserVersion}`,
    `  ${new Date().toISOString()}, whole bench ${((now() - benchStarted) / 1000).toFixed(0)} s (without the build)`,
    '',
    line({ figure: 'figure', value: 'value', target: 'target', met: 'met', conditions: 'conditions' }),
    cols.map((_, i) => '-'.repeat(i === cols.length - 1 ? 10 : width[i]!)).join('-|-'),
    ...rows.map(line),
    '',
    ...notes.map((note) => `note: ${note}`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

// a stuck step must still end with the table of what was measured
const watchdog = setTimeout(() => {
  notes.push('bench gave up after 15 minutes');
  printTable();
  process.exit(1);
}, 15 * 60_000);
watchdog.unref();

try {
  if (only.has('latency')) await figureLatency();
  if (only.has('throughput') || only.has('resume')) {
    const project = makeProject();
    if (flags.keep) notes.push(`kept ${project.root}`);
    else cleanups.push(() => rmSync(project.root, { recursive: true, force: true }));
    if (only.has('throughput')) await figureThroughputRssPaint(project);
    if (only.has('resume')) await figureIdleAndResume(project);
  }
  if (only.has('interruption')) {
    log('interruption: a dev-story stopped at its middle, then continued or restarted (simulated CLI)');
    const f = await measureInterruption();
    const conditions = `simulated CLI, dev-story of ${f.turns} turns stopped after ${f.stalledAfter}; tokens sent = input + cache read + cache write of the next attempt (${f.continuedTurns} turns continued, ${f.restartedTurns} restarted); uninterrupted run ${n(f.uninterrupted)}`;
    rows.push({ figure: 'tokens after an interruption, continued', value: n(f.continued), target: '< restarted', met: mark(f.continued < f.restarted), conditions });
    rows.push({ figure: 'tokens after an interruption, restarted', value: n(f.restarted), target: '-', met: mark(null), conditions: `${((1 - f.continued / f.restarted) * 100).toFixed(0)}% saved by continuing` });
  }
} catch (error) {
  notes.push(`bench failed: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
} finally {
  for (const cleanup of cleanups.reverse()) await Promise.resolve().then(cleanup).catch(() => undefined);
  printTable();
}
