import { api, freePort, isBatchEnd, makeProject, memoryMb, now, sentAt, spawnCliServe, WsClient } from './lib.js';

const lines = Number(process.argv[2] ?? 20000);
const project = makeProject();
project.configure({ mode: 'stream', lines, rate: 0, noise: 0 });
const serve = spawnCliServe(project, await freePort(), [], process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []);
await serve.ready;
const ws = new WsClient(serve.url, 0);
await ws.opened;
let first = Infinity;
let last = 0;
let count = 0;
ws.on((e, at) => {
  const t = sentAt(e);
  if (t === null) return;
  count++;
  first = Math.min(first, t);
  last = at;
});
const end = ws.waitFor(isBatchEnd, 600_000, 'batch end');
console.log(await api(serve.url, '/api/batch/start', { cycles: 1 }));
await end;
console.log({ count, secs: (last - first) / 1000, rate: count / ((last - first) / 1000), mem: memoryMb(serve.pid) });
ws.close();
await serve.kill();
void now;
