// The command line of `sprint-runner`: every command and option in one table, parsed and checked into the settings of a run.
import { parseArgs } from 'node:util';
import { PERMISSION_MODES, type PermissionMode } from '../machines/actors/claude-command.js';
import type { ServeOptions } from '../server/main.js';
import { DEFAULT_HOST, DEFAULT_PORT } from '../server/start.js';

export const COMMANDS = {
  serve: 'serve the dashboard for a BMAD project; batches are started, paused, stopped and resumed there',
  demo: 'the same on a temporary copy of the bundled demo project, run by the simulated Claude CLI (nothing reaches the API)',
} as const;
export type CommandName = keyof typeof COMMANDS;

/** What the options of a run set: `serve()`'s own options, and what only the demo reads. */
export interface CliSettings {
  serve: Partial<ServeOptions>;
  demo: { paceMs: string; keep: boolean };
}

/** A mistake on the command line: one line on stderr, exit code 2. */
export class UsageError extends Error {}

export interface OptionSpec {
  /** `--name` */
  name: string;
  /** `-x` */
  short?: string;
  /** the value's placeholder in the help; absent for a flag */
  value?: string;
  /** read when the option is not given (flags win) */
  env?: string;
  commands: readonly CommandName[];
  help: string;
  /** checks the value and writes it into the settings; `source` names where it came from, for the message */
  apply(value: string | true, into: CliSettings, source: string): void;
}

const ALL: readonly CommandName[] = ['serve', 'demo'];

function portNumber(value: string, source: string): number {
  const port = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(port >= 0 && port < 65536)) throw new UsageError(`${source} must be a port number from 0 to 65535 (got '${value}')`);
  return port;
}

function permissionMode(value: string, source: string): PermissionMode {
  const mode = PERMISSION_MODES.find((m) => m === value);
  if (!mode) throw new UsageError(`${source} must be one of ${PERMISSION_MODES.join(', ')} (got '${value}')`);
  return mode;
}

const text = (value: string | true): string => (value === true ? '' : value);

/**
 * Every option of every command. Adding one is adding an entry here (and reading it where it matters):
 * the parser, the refusal of an option a command does not take, the environment variable and the help follow.
 */
export const OPTIONS: readonly OptionSpec[] = [
  {
    name: 'project',
    value: 'DIR',
    commands: ['serve'],
    help: 'the BMAD project (default: the current folder)',
    apply: (v, into) => void (into.serve.projectRoot = text(v)),
  },
  {
    name: 'port',
    value: 'N',
    env: 'SPRINT_RUNNER_PORT',
    commands: ALL,
    help: `the dashboard's port (default ${DEFAULT_PORT}; 0 picks a free one)`,
    apply: (v, into, source) => void (into.serve.port = portNumber(text(v), source)),
  },
  {
    name: 'host',
    value: 'HOST',
    env: 'SPRINT_RUNNER_HOST',
    commands: ALL,
    help: `the address to bind (default ${DEFAULT_HOST}; another one exposes a tool that starts agents)`,
    apply: (v, into) => void (into.serve.host = text(v)),
  },
  {
    name: 'db',
    value: 'FILE',
    env: 'SPRINT_RUNNER_DB',
    commands: ['serve'],
    help: 'the SQLite file (default: <workflow folder>/dashboard/sprint-runner.db in the project)',
    apply: (v, into) => void (into.serve.dbFile = text(v)),
  },
  {
    name: 'claude',
    value: 'BIN',
    env: 'SPRINT_RUNNER_CLAUDE',
    commands: ['serve'],
    help: 'the Claude Code CLI, a name on PATH or a path (default: claude)',
    apply: (v, into) => void (into.serve.claudeBin = text(v)),
  },
  {
    name: 'permission-mode',
    value: 'MODE',
    env: 'SPRINT_RUNNER_PERMISSION_MODE',
    commands: ['serve'],
    help: `passed to claude --permission-mode: ${PERMISSION_MODES.join(', ')} (default bypassPermissions)`,
    apply: (v, into, source) => void (into.serve.permissionMode = permissionMode(text(v), source)),
  },
  {
    name: 'pace',
    value: 'MS',
    commands: ['demo'],
    help: 'milliseconds between the simulated CLI\'s output lines (default 120)',
    apply: (v, into, source) => {
      if (!/^\d+$/.test(text(v))) throw new UsageError(`${source} must be a whole number of milliseconds (got '${text(v)}')`);
      into.demo.paceMs = text(v);
    },
  },
  {
    name: 'keep',
    commands: ['demo'],
    help: 'keep the temporary copy of the demo project on exit (it is removed otherwise)',
    apply: (_v, into) => void (into.demo.keep = true),
  },
  {
    name: 'no-continue',
    commands: ALL,
    help: 'an interrupted step starts afresh instead of continuing its CLI session',
    apply: (_v, into) => void (into.serve.continueSessions = false),
  },
  {
    name: 'no-auth',
    commands: ALL,
    help: 'turn the dashboard token off (only behind your own authenticating proxy)',
    apply: (_v, into) => void (into.serve.auth = false),
  },
  {
    name: 'notify-url',
    value: 'URL',
    env: 'SPRINT_RUNNER_NOTIFY_URL',
    commands: ALL,
    help: 'POST a JSON notice to URL per batch end, command error, blocked story and usage-limit wait',
    apply: (v, into) => void (into.serve.notifyUrl = text(v)),
  },
  {
    name: 'help',
    short: 'h',
    commands: ALL,
    help: 'this help',
    apply: () => undefined,
  },
];

export type ParsedCommandLine =
  | { kind: 'help'; command: CommandName | null }
  | { kind: 'version' }
  | { kind: 'run'; command: CommandName; settings: CliSettings };

const isCommand = (name: string | undefined): name is CommandName => name !== undefined && Object.hasOwn(COMMANDS, name);
const seeHelp = (command: CommandName | null) => `see sprint-runner ${command ? `${command} ` : ''}--help`;

/** Reads argv (without node and the script) and the environment; throws UsageError for anything it cannot take. */
export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedCommandLine {
  const [first, ...rest] = argv;
  if (first === '-h' || first === '--help') return { kind: 'help', command: null };
  if (first === '-V' || first === '--version') {
    if (rest.length > 0) throw new UsageError(`${first} takes nothing after it (got '${rest[0]}') (${seeHelp(null)})`);
    return { kind: 'version' };
  }
  if (first === 'help') {
    const [topic, ...more] = rest;
    if (topic === undefined) return { kind: 'help', command: null };
    if (!isCommand(topic) || more.length > 0) throw new UsageError(`no help on '${rest.join(' ')}': the commands are ${Object.keys(COMMANDS).join(', ')} (${seeHelp(null)})`);
    return { kind: 'help', command: topic };
  }
  if (first === undefined) throw new UsageError(`a command is needed: ${Object.keys(COMMANDS).join(' or ')} (${seeHelp(null)})`);
  if (!isCommand(first)) {
    const what = first.startsWith('-') ? `unknown option ${first} before the command` : `unknown command '${first}'`;
    throw new UsageError(`${what}; the commands are ${Object.keys(COMMANDS).join(', ')} (${seeHelp(null)})`);
  }
  return parseCommand(first, rest, env);
}

function parseCommand(command: CommandName, args: readonly string[], env: NodeJS.ProcessEnv): ParsedCommandLine {
  const config = Object.fromEntries(
    OPTIONS.map((o) => [o.name, { type: o.value ? ('string' as const) : ('boolean' as const), ...(o.short ? { short: o.short } : {}) }]),
  );
  const { tokens } = parseArgs({ args: [...args], options: config, strict: false, allowPositionals: true, tokens: true });
  function fail(message: string): never {
    throw new UsageError(`${message} (${seeHelp(command)})`);
  }
  // -h anywhere wins: whoever asks for help gets it, whatever else is on the line
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) return { kind: 'help', command };
  const given = new Map<OptionSpec, { value: string | true; source: string }>();
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') fail(`${command} takes no argument '${token.value}'`);
    if (token.kind !== 'option') continue;
    const spec = OPTIONS.find((o) => o.name === token.name);
    if (!spec) fail(`unknown option ${token.rawName}`);
    if (!spec.commands.includes(command)) fail(`${command} does not take ${token.rawName} (only ${spec.commands.join(', ')} does)`);
    if (spec.value) {
      if (token.value === undefined) fail(`${token.rawName} needs a value (${spec.value})`);
      if (!token.inlineValue && token.value!.startsWith('-') && token.value!.length > 1) {
        fail(`${token.rawName} needs a value (${spec.value}), not the option ${token.value}`);
      }
    } else if (token.value !== undefined) {
      fail(`${token.rawName} takes no value`);
    }
    given.set(spec, { value: spec.value ? token.value! : true, source: token.rawName });
  }
  const settings: CliSettings = { serve: {}, demo: { paceMs: '120', keep: false } };
  for (const spec of OPTIONS) {
    if (!spec.commands.includes(command)) continue;
    const fromEnv = spec.env !== undefined && env[spec.env] ? { value: env[spec.env]!, source: spec.env } : undefined;
    const chosen = given.get(spec) ?? fromEnv;
    if (!chosen) continue;
    try {
      spec.apply(chosen.value, settings, chosen.source);
    } catch (error) {
      if (error instanceof UsageError) fail(error.message);
      throw error;
    }
  }
  return { kind: 'run', command, settings };
}

/** The help of the tool (command null) or of one command, for stdout. */
export function helpText(command: CommandName | null, version: string): string {
  if (command === null) {
    const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
    return [
      `sprint-runner ${version}: runs a BMAD sprint unattended; a local dashboard starts, pauses, stops and resumes batches.`,
      '',
      'usage: sprint-runner <command> [options]',
      '',
      'commands:',
      ...Object.entries(COMMANDS).map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`),
      '',
      '  sprint-runner <command> --help   the options of a command',
      '  sprint-runner --version          the version (also -V)',
      '',
    ].join('\n');
  }
  const options = OPTIONS.filter((o) => o.commands.includes(command));
  const left = (o: OptionSpec) => `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.value ? ` ${o.value}` : ''}`;
  const width = Math.max(...options.map((o) => left(o).length));
  const environment = options.filter((o) => o.env);
  const envWidth = Math.max(0, ...environment.map((o) => o.env!.length));
  return [
    `usage: sprint-runner ${command} [options]`,
    '',
    `${COMMANDS[command][0]!.toUpperCase()}${COMMANDS[command].slice(1)}.`,
    '',
    'options:',
    ...options.map((o) => `  ${left(o).padEnd(width)}  ${o.help}`),
    '',
    ...(environment.length > 0
      ? ['environment (an option on the command line wins):', ...environment.map((o) => `  ${o.env!.padEnd(envWidth)}  --${o.name}`), '']
      : []),
  ].join('\n');
}
