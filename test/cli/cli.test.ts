// The `sprint-runner` command's conventions, on the built command run as a real process: help, version, usage
// errors, options a command does not take, environment variables, the demo's temporary copy, old Node versions.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PERMISSION_MODES } from '../../machines/actors/claude-command.js';
import { DEMO_PROJECT, REPO_ROOT, SIM_CLAUDE } from '../support/scenario.js';
import { dashboardOf, freePort } from '../support/serve-process.js';

const BIN = path.join(REPO_ROOT, 'dist', 'bin.js');
const VERSION = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
/** the environment without any SPRINT_RUNNER_ variable of the machine running the tests */
const CLEAN_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SPRINT_RUNNER_')));

function cli(args: string[], env: NodeJS.ProcessEnv = {}, node = process.execPath) {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` (npm test does)`);
  const result = spawnSync(node, [BIN, ...args], { env: { ...CLEAN_ENV, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const scratch: string[] = [];
const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the demo project that `serve` may write. */
function project(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'cli-test-'));
  scratch.push(root);
  cpSync(DEMO_PROJECT, root, { recursive: true });
  return root;
}

/** Starts the command and resolves once it prints its dashboard URL. */
async function startServing(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...CLEAN_ENV, SPRINT_SIM_PACE_MS: '0', IS_SANDBOX: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return { child, ...(await dashboardOf(child)) };
}

describe('version and help', () => {
  it.each([['--version'], ['-V']])('%s prints the package version on stdout and exits 0', (flag) => {
    expect(cli([flag])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it.each([[['--help']], [['-h']], [['help']]])('%j prints the commands on stdout and exits 0', (args) => {
    const result = cli(args);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('usage: sprint-runner <command> [options]');
    expect(result.stdout).toMatch(/^ {2}serve +serve the dashboard/m);
    expect(result.stdout).toMatch(/^ {2}demo +the same on a temporary copy/m);
  });

  it.each([[['serve', '--help']], [['serve', '-h']], [['help', 'serve']], [['serve', '--port', '1', '--help']]])('%j prints the options of serve', (args) => {
    const result = cli(args);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('usage: sprint-runner serve [options]');
    for (const option of ['--project DIR', '--port N', '--host HOST', '--db FILE', '--claude BIN', '--permission-mode MODE', '-h, --help']) {
      expect(result.stdout).toContain(option);
    }
    for (const variable of ['SPRINT_RUNNER_PORT', 'SPRINT_RUNNER_HOST', 'SPRINT_RUNNER_DB', 'SPRINT_RUNNER_CLAUDE']) expect(result.stdout).toContain(variable);
    expect(result.stdout).not.toContain('--keep');
  });

  it('demo --help lists only what demo takes', () => {
    const result = cli(['demo', '--help']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    for (const option of ['--port N', '--host HOST', '--pace MS', '--keep']) expect(result.stdout).toContain(option);
    for (const option of ['--claude', '--db', '--project', '--permission-mode', 'SPRINT_RUNNER_CLAUDE']) expect(result.stdout).not.toContain(option);
  });
});

describe('usage errors: exit 2, one line on stderr, nothing on stdout', () => {
  const cases: Array<[string, string[], NodeJS.ProcessEnv, string]> = [
    ['no command', [], {}, 'a command is needed: serve or demo'],
    ['an unknown command', ['run'], {}, "unknown command 'run'"],
    ['an option before the command', ['--port', '1'], {}, 'unknown option --port before the command'],
    ['an unknown option', ['serve', '--verbose'], {}, 'unknown option --verbose'],
    ['an option demo does not take', ['demo', '--claude', '/usr/bin/claude'], {}, 'demo does not take --claude (only serve does)'],
    ['--db on demo', ['demo', '--db', 'x.db'], {}, 'demo does not take --db'],
    ['--keep on serve', ['serve', '--keep'], {}, 'serve does not take --keep (only demo does)'],
    ['a permission mode the CLI does not have', ['serve', '--permission-mode', 'yolo'], {}, `--permission-mode must be one of ${PERMISSION_MODES.join(', ')} (got 'yolo')`],
    ['a port out of range', ['serve', '--port', '70000'], {}, "--port must be a port number from 0 to 65535 (got '70000')"],
    ['a port that is not a number', ['demo', '--port=eighty'], {}, "--port must be a port number from 0 to 65535 (got 'eighty')"],
    ['an option without its value', ['serve', '--port'], {}, '--port needs a value (N)'],
    ['an option whose value is another option', ['serve', '--db', '--port', '1'], {}, '--db needs a value (FILE), not the option --port'],
    ['a value for a flag', ['demo', '--keep=yes'], {}, '--keep takes no value'],
    ['a stray argument', ['serve', 'my-project'], {}, "serve takes no argument 'my-project'"],
    ['a pace that is not a number', ['demo', '--pace', 'fast'], {}, "--pace must be a whole number of milliseconds (got 'fast')"],
    ['something after --version', ['--version', 'serve'], {}, "--version takes nothing after it (got 'serve')"],
    ['help on an unknown command', ['help', 'run'], {}, "no help on 'run'"],
    ['a bad SPRINT_RUNNER_PORT', ['demo'], { SPRINT_RUNNER_PORT: 'abc' }, "SPRINT_RUNNER_PORT must be a port number from 0 to 65535 (got 'abc')"],
    ['a bad SPRINT_RUNNER_PERMISSION_MODE', ['serve'], { SPRINT_RUNNER_PERMISSION_MODE: 'yes' }, "SPRINT_RUNNER_PERMISSION_MODE must be one of"],
  ];
  it.each(cases)('%s', (_name, args, env, message) => {
    const result = cli(args, env);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')).toEqual([expect.stringContaining(message), '']);
    expect(result.stderr).toMatch(/^sprint-runner: .*\(see sprint-runner (serve |demo )?--help\)\n$/);
  });

  it('a flag wins over its environment variable, so a bad variable under a good flag is not read', () => {
    const result = cli(['serve', '--project', '/nonexistent/project', '--port', '0', '--claude', SIM_CLAUDE], { SPRINT_RUNNER_PORT: 'abc' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Project folder not found: /nonexistent/project');
  });

  it.each(PERMISSION_MODES.map((m) => [m]))('--permission-mode %s is accepted (the run goes on to check the project)', (mode) => {
    const result = cli(['serve', '--project', '/nonexistent/project', '--permission-mode', mode, '--claude', SIM_CLAUDE]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Project folder not found');
  });
});

describe('environment variables for a service manager', () => {
  it('SPRINT_RUNNER_CLAUDE names the CLI; a missing one is one clear sentence', () => {
    const root = project();
    const result = cli(['serve', '--project', root, '--port', '0'], { SPRINT_RUNNER_CLAUDE: '/nonexistent/bin/claude' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'sprint-runner: Claude CLI not found: `/nonexistent/bin/claude` is not an executable file; install the Claude Code CLI with `npm install -g @anthropic-ai/claude-code`, or pass its path with --claude.\n',
    );
  });

  it('SPRINT_RUNNER_PORT, _HOST, _DB and _CLAUDE set serve up; --port wins over SPRINT_RUNNER_PORT', async () => {
    const root = project();
    const db = path.join(root, 'from-env.db');
    const [envPort, flagPort] = [await freePort(), await freePort()];
    const env = { SPRINT_RUNNER_PORT: String(envPort), SPRINT_RUNNER_HOST: '127.0.0.1', SPRINT_RUNNER_DB: db, SPRINT_RUNNER_CLAUDE: SIM_CLAUDE };
    const fromEnv = await startServing(['serve', '--project', root], env);
    expect(new URL(fromEnv.url).origin).toBe(`http://127.0.0.1:${envPort}`);
    expect(fromEnv.output()).toContain(`database:  ${db}`);
    // the printed URL carries the dashboard token (auth is on by default); scripts send it as a bearer token
    const token = new URL(fromEnv.url).searchParams.get('token');
    expect((await fetch(`${new URL(fromEnv.url).origin}/api/state`)).status).toBe(401);
    expect((await fetch(`${new URL(fromEnv.url).origin}/api/state`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    fromEnv.child.kill('SIGINT');
    expect(await fromEnv.exited).toBe(0);

    const flagged = await startServing(['serve', '--project', root, '--port', String(flagPort)], env);
    expect(new URL(flagged.url).origin).toBe(`http://127.0.0.1:${flagPort}`);
    flagged.child.kill('SIGINT');
    expect(await flagged.exited).toBe(0);
  });

  it('demo ignores the variables of options it does not take', async () => {
    const demo = await startServing(['demo', '--port', '0'], { SPRINT_RUNNER_CLAUDE: '/nonexistent/claude', SPRINT_RUNNER_DB: '/nonexistent/dir/x.db' });
    scratch.push(/demo project copied to (\S+)/.exec(demo.output())![1]!);
    demo.child.kill('SIGINT');
    expect(await demo.exited).toBe(0);
  });
});

describe("demo's temporary project copy", () => {
  it('is removed when the demo exits on Ctrl-C', async () => {
    const demo = await startServing(['demo', '--port', '0']);
    const copy = /demo project copied to (\S+) \(removed on exit; --keep keeps it\)/.exec(demo.output())?.[1];
    expect(copy).toBeDefined();
    scratch.push(copy!);
    expect(existsSync(path.join(copy!, '_bmad'))).toBe(true);
    demo.child.kill('SIGINT');
    expect(await demo.exited, demo.output()).toBe(0);
    expect(existsSync(copy!)).toBe(false);
  });

  it('is kept with --keep', async () => {
    const demo = await startServing(['demo', '--port', '0', '--keep']);
    const copy = /demo project copied to (\S+) \(kept on exit \(--keep\)\)/.exec(demo.output())?.[1];
    expect(copy).toBeDefined();
    scratch.push(copy!);
    demo.child.kill('SIGTERM');
    expect(await demo.exited, demo.output()).toBe(0);
    expect(existsSync(path.join(copy!, '_bmad'))).toBe(true);
  });

  it('is removed when the demo cannot start (its port is taken)', async () => {
    const first = await startServing(['demo', '--port', '0']);
    const firstCopy = /demo project copied to (\S+)/.exec(first.output())![1]!;
    scratch.push(firstCopy);
    const port = new URL(first.url).port;
    const second = cli(['demo', '--port', port]);
    expect(second.code).toBe(1);
    const secondCopy = /demo project copied to (\S+)/.exec(second.stdout)?.[1];
    expect(secondCopy).toBeDefined();
    expect(existsSync(secondCopy!)).toBe(false);
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
  });
});

/** A Node.js older than 22 on this machine's PATH (outside node_modules), if there is one. */
function oldNode(): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (!dir || dir.includes('node_modules')) continue;
    const candidate = path.join(dir, 'node');
    if (!existsSync(candidate)) continue;
    const version = spawnSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
    if (Number(version.split('.')[0]) < 22) return candidate;
  }
  return null;
}

describe('an unsupported Node.js', () => {
  const old = oldNode();
  it.skipIf(old === null)(`stops at once, before SQLite loads, naming what to install (${old ?? 'SKIPPED: no Node.js < 22 on PATH here'})`, () => {
    for (const args of [['--version'], ['demo', '--port', '0'], ['serve']]) {
      const result = cli(args, {}, old!);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^sprint-runner needs Node\.js 22 or later \(22 and 24 are supported\); this is Node\.js \d+\.\d+\.\d+ /);
      expect(result.stderr).toContain('Install Node.js 24 or 22');
      expect(result.stderr).not.toMatch(/sqlite|NODE_MODULE_VERSION|database/i);
    }
  });
});

describe('native Windows', () => {
  // the real command in a real Node.js whose process.platform says win32 (set before the command loads)
  const onWindows = (args: string[]) => {
    const result = spawnSync(process.execPath, ['--import', 'data:text/javascript,Object.defineProperty(process,"platform",{value:"win32"})', BIN, ...args], { env: CLEAN_ENV, encoding: 'utf8', timeout: 60_000 });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  it('refuses to run agents, naming WSL 2, before anything loads', () => {
    for (const args of [['serve'], ['demo', '--port', '0'], []]) {
      const result = onWindows(args);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^sprint-runner does not run on native Windows: .*process groups/);
      expect(result.stderr).toContain('WSL 2');
    }
  });

  it('still answers --version and --help', () => {
    expect(onWindows(['--version'])).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    expect(onWindows(['--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('usage: sprint-runner') });
  });
});
