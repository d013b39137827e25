// `serve()` from server/main.ts, in a process of its own (so the bench's WebSocket client and browser driver do not
// share its event loop), with one extra in-process subscriber: the time each task event reaches subscribers, which
// the runner does right after the store committed it. Talks to the bench over IPC.
import { constants, performance, PerformanceObserver } from 'node:perf_hooks';
import { terminalLog } from '../cli.js';
import { capYoungGeneration } from '../server/heap.js';
import { serve } from '../server/main.js';

interface HostOptions {
  projectRoot: string;
  dbFile: string;
  claudeBin: string;
  staticDir: string;
}

const options = JSON.parse(process.argv[2] ?? '{}') as HostOptions;
// the process set up as `sprint-runner serve` sets it up
capYoungGeneration();
const log = terminalLog();
// the bench drives the server as a trusted client; authentication is covered by the tests
const serving = await serve({ ...options, port: 0, onEvent: log, auth: false });

/** [the child's send time (epoch ms), latency from the child's write to the publish after commit, ms] */
const samples: [number, number][] = [];
/** [start (epoch ms), duration ms, kind] of every garbage collection: pauses every event behind them waits for */
const gcPauses: [number, number, string][] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
    gcPauses.push([performance.timeOrigin + entry.startTime, entry.duration, kind === constants.NODE_PERFORMANCE_GC_MINOR ? 'minor' : kind === constants.NODE_PERFORMANCE_GC_MAJOR ? 'major' : String(kind)]);
  }
}).observe({ entryTypes: ['gc'] });
serving.runner.subscribe((event) => {
  if (event.type !== 'command:progress' || event.payload.kind !== 'task') return;
  const at = performance.timeOrigin + performance.now();
  const sent = Number(event.payload.task.message);
  if (Number.isFinite(sent) && sent > 1e12) samples.push([sent, at - sent]);
});

process.on('message', (message: { type: string }) => {
  if (message.type === 'samples') {
    process.send!({ type: 'samples', samples: samples.splice(0), gc: gcPauses.splice(0) });
  } else if (message.type === 'memory') {
    process.send!({ type: 'memory', usage: process.memoryUsage() });
  } else if (message.type === 'gc') {
    (globalThis as { gc?: () => void }).gc?.();
    process.send!({ type: 'gc', usage: process.memoryUsage() });
  } else if (message.type === 'close') {
    void serving.close().then(() => {
      process.send!({ type: 'close' });
      process.exit(0);
    });
  }
});
process.send!({ type: 'ready', url: serving.url });
