// The published package as a user gets it: `npm pack`, `npm install -g` of the tarball into a fresh prefix, then the
// installed `sprint-runner`: --version, the demo's page and script over HTTP, a batch run to completion, Ctrl-C to the
// process and to its group leaving nothing behind, and the published .d.ts type-checked by a tiny consumer.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/scenario.js';
import { dashboardOf, freePort } from '../support/serve-process.js';
import { waitFor } from '../support/wait.js';

const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
/** the Node.js running the tests (22 or 24 in CI) runs the installed command too: its folder comes first on PATH */
const PATH = [path.dirname(process.execPath), process.env['PATH']].join(path.delimiter);
const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SPRINT_RUNNER_'))), PATH };

let scratch: string;
let tarball: string;
let prefix: string;
let installed: string;
let bin: string;

function run(command: string, args: string[], cwd: string) {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

beforeAll(() => {
  for (const built of ['dist/bin.js', 'dist/cli.js', 'web/dist/index.html']) {
    if (!existsSync(path.join(REPO_ROOT, built))) throw new Error(`${built} is missing: run \`npm run build\` (npm test does)`);
  }
  scratch = mkdtempSync(path.join(tmpdir(), 'package-test-'));
  // the build is already there (npm test builds first): packing without prepack leaves dist/ alone for the other tests
  const packed = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], REPO_ROOT)) as Array<{ filename: string }>;
  tarball = path.join(scratch, packed[0]!.filename);
  prefix = path.join(scratch, 'prefix');
  run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--loglevel=error', tarball], scratch);
  installed = path.join(prefix, 'lib', 'node_modules', manifest.name);
  bin = path.join(prefix, 'bin', 'sprint-runner');
}, 600_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
});

/** Every process whose command line mentions the install prefix, as `pid args` lines (ps: Linux and macOS alike). */
function processesUnder(dir: string): string[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return ps.stdout.split('\n').filter((line) => line.includes(dir) && !line.includes(' ps -eo'));
}

/** The PIDs below `root` in the process table (ps, so it reads the same on Linux and macOS). */
function descendantsOf(root: number): number[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' });
  const children = new Map<number, number[]>();
  for (const line of ps.stdout.trim().split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number) as [number, number];
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) for (const child of children.get(queue.shift()!) ?? []) found.push(child), queue.push(child);
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The installed `sprint-runner demo`, in its own process group as a terminal would start it. */
async function startDemo(pace: number) {
  const port = await freePort();
  const child = spawn(bin, ['demo', '--port', String(port), '--pace', String(pace)], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  const printed = await dashboardOf(child);
  const { output, exited } = printed;
  // the printed URL carries the dashboard token (auth is on by default); requests here send it as a bearer token
  const dashboard = new URL(printed.url);
  const url = dashboard.origin;
  expect(url).toBe(`http://127.0.0.1:${port}`);
  const token = dashboard.searchParams.get('token');
  expect(token).toMatch(/^[\w-]{20,}$/);
  const auth = { authorization: `Bearer ${token}` };
  const api = async <T>(route: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${url}${route}`, body === undefined ? { headers: auth } : { method: 'POST', body: JSON.stringify(body), headers: { ...auth, 'Content-Type': 'application/json' } });
    expect(response.status, `${route}: ${await response.clone().text()}`).toBe(200);
    return (await response.json()) as T;
  };
  const copy = /demo project copied to (\S+)/.exec(output())![1]!;
  return { child, url, auth, api, exited, output, copy };
}

const status = async (demo: Awaited<ReturnType<typeof startDemo>>) => (await demo.api<{ status: string }>('/api/state')).status;

/** Starts a batch and resolves with the demo's process tree once a simulated claude child is running. */
async function batchWithChildren(demo: Awaited<ReturnType<typeof startDemo>>): Promise<number[]> {
  await demo.api('/api/batch/start', { cycles: 1 });
  return waitFor(() => {
    const tree = descendantsOf(demo.child.pid!);
    return tree.length > 0 && processesUnder(path.join(installed, 'fixtures', 'sim-claude')).length > 0 ? tree : null;
  }, 'a simulated claude child', 60_000);
}

describe(`the packed ${manifest.name} installed into a fresh prefix (Node ${process.versions.node})`, () => {
  it('ships the built dashboard, the command, the demo, the licence and notices, and nothing of the tests or the bench', () => {
    const files = run('tar', ['tzf', tarball], scratch).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    for (const needed of ['dist/bin.js', 'dist/cli.js', 'dist/index.js', 'dist/index.d.ts', 'dist/store.js', 'dist/store.d.ts', 'web/dist/index.html', 'web/dist/app.js', 'LICENSE', 'dist/THIRD-PARTY-NOTICES.md', 'web/dist/THIRD-PARTY-NOTICES.md', 'fixtures/sim-claude/claude.mjs', 'fixtures/demo-project/_bmad/bmm/config.yaml']) {
      expect(files).toContain(needed);
    }
    // the simulated CLI is its entry and the modules beside it: the demo needs every one of them
    const sim = readdirSync(path.join(REPO_ROOT, 'fixtures', 'sim-claude')).map((f) => `fixtures/sim-claude/${f}`);
    expect(files).toEqual(expect.arrayContaining(sim));
    expect(files.filter((f) => f.endsWith('.map') || f.startsWith('dist/bench/') || f.startsWith('test/') || f.startsWith('fixtures/captures/') || f.startsWith('web/src/'))).toEqual([]);
    expect(readFileSync(path.join(installed, 'web', 'dist', 'THIRD-PARTY-NOTICES.md'), 'utf8')).toContain('## elkjs ');
  });

  it('answers --version with the package version', () => {
    expect(run(bin, ['--version'], scratch)).toBe(`${manifest.version}\n`);
  });

  it('imports neither elkjs nor @statelyai/inspect at run time (they are bundled into the dashboard only)', () => {
    const grep = spawnSync('grep', ['-rlE', "from ['\"](elkjs|@statelyai/inspect)", path.join(installed, 'dist')], { encoding: 'utf8' });
    expect(grep.stdout).toBe('');
    expect(existsSync(path.join(installed, 'node_modules', 'elkjs'))).toBe(false);
  });

  it('serves the dashboard and its script, runs a batch to completion, and Ctrl-C to the process leaves nothing behind', async () => {
    const demo = await startDemo(5);
    expect((await fetch(`${demo.url}/`)).status).toBe(401);
    const page = await fetch(`${demo.url}/`, { headers: demo.auth });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const script = /<script[^>]*src="([^"]+)"/.exec(html)?.[1];
    expect(script, html).toBeDefined();
    const js = await fetch(new URL(script!, `${demo.url}/`), { headers: demo.auth });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await js.text()).length).toBeGreaterThan(1000);

    await demo.api('/api/batch/start', { cycles: 1 });
    await waitFor(async () => (await status(demo)) === 'completed', 'the batch to complete', 300_000);

    const tree = await batchWithChildren(demo);
    process.kill(demo.child.pid!, 'SIGINT');
    expect(await demo.exited, demo.output()).toBe(0);
    expect(tree.filter(alive)).toEqual([]);
    expect(processesUnder(prefix)).toEqual([]);
    expect(existsSync(demo.copy)).toBe(false);
  }, 600_000);

  it('Ctrl-C to the whole process group (a terminal) mid-batch leaves nothing behind', async () => {
    const demo = await startDemo(20);
    const tree = await batchWithChildren(demo);
    process.kill(-demo.child.pid!, 'SIGINT');
    expect(await demo.exited, demo.output()).toBe(0);
    await waitFor(() => tree.filter(alive).length === 0, 'every process of the tree to end', 30_000).catch(() => undefined);
    expect(tree.filter(alive)).toEqual([]);
    expect(processesUnder(prefix)).toEqual([]);
  }, 300_000);

  it('publishes .d.ts files that a strict TypeScript consumer type-checks with nothing installed but sprint-runner', () => {
    const consumer = path.join(scratch, 'consumer');
    mkdirSync(consumer);
    writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball], consumer);
    writeFileSync(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, skipLibCheck: false, types: ['node'] }, files: ['main.ts'] }),
    );
    writeFileSync(
      path.join(consumer, 'main.ts'),
      [
        "import { createSprintRunner, type RunnerEvent } from 'sprint-runner';",
        "import { createSqliteStore, migrateToLatest, openDatabase } from 'sprint-runner/store';",
        "const db = openDatabase('/tmp/x.db');",
        'await migrateToLatest(db);',
        "const runner = createSprintRunner({ projectRoot: '.', store: createSqliteStore(db) });",
        'runner.subscribe((event: RunnerEvent) => console.log(event.type));',
        'await runner.start({ cycles: 2 });',
        '// @ts-expect-error: cycles is a number or "all"',
        "await runner.start({ cycles: 'some' });",
        '',
      ].join('\n'),
    );
    const tsc = spawnSync(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', consumer], { encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  }, 600_000);
});
