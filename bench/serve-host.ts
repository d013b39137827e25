// `serve()` from server/main.ts, in a process of its own (so the bench's WebSocket client and browser driver do not
// share its event loop), with one extra in-process subscriber: the time each task event reaches subscribers, which
// the runner does right after the store committed it. Talks to the bench over IPC.
import { performance } from 'node:perf_hooks';
import { capYoungGeneration, terminalLog } from '../cli.js';
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
const serving = await serve({ ...options, port: 0, onEvent: log });

/** [event id, latency from the child's write to the publish after commit, ms] */
const samples: [number, number][] = [];
serving.runner.subscribe((event) => {
  if (event.type !== 'command:progress' || event.payload.kind !== 'task') return;
  const at = performance.timeOrigin + performance.now();
  const sent = Number(event.payload.task.message);
  if (Number.isFinite(sent) && sent > 1e12) samples.push([event.id, at - sent]);
});

process.on('message', (message: { type: string }) => {
  if (message.type === 'samples') {
    process.send!({ type: 'samples', samples: samples.splice(0) });
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
