// Finds the project's log-script calls (task start/end reports) inside a Bash tool command line.
import { splitCommandTokens } from './shell-words.js';
import type { TaskEvent } from './types.js';

const ORCHESTRATOR_SCRIPT = '_bmad/scripts/orchestrator.sh';
const SPRINT_LOG_SCRIPT = '_bmad/scripts/sprint-log.sh';

/** Reserved words and prefixes that may stand before the real command name. */
const LEADING_KEYWORDS = new Set(['!', '{', 'then', 'do', 'else', 'elif', 'if', 'while', 'until', 'time']);
const COMMAND_WRAPPERS = new Set(['env', 'command', 'exec', 'nohup', 'builtin']);
const SHELLS = new Set(['bash', 'sh', 'zsh', 'dash', 'ksh']);
const MAX_SHELL_C_DEPTH = 3;

/**
 * Every log-script call in a shell command, in order. Pure; unparseable input (unterminated quotes,
 * wrong argument counts, a status other than start/end, broken JSON) yields no event rather than an error.
 */
export function parseLogScriptCall(bashCommand: string): TaskEvent[] {
  try {
    return findCalls(bashCommand, 0);
  } catch {
    return [];
  }
}

function findCalls(commandLine: string, depth: number): TaskEvent[] {
  const commands = splitCommandTokens(commandLine);
  if (commands === null) return [];
  const events: TaskEvent[] = [];
  for (const words of commands) {
    events.push(...eventsOfSimpleCommand(words, depth));
  }
  return events;
}

function eventsOfSimpleCommand(words: Array<{ value: string; quoted: boolean }>, depth: number): TaskEvent[] {
  let i = 0;
  const skipAssignments = (): void => {
    while (i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!.value)) i++;
  };
  skipAssignments();
  while (i < words.length && !words[i]!.quoted && LEADING_KEYWORDS.has(words[i]!.value)) {
    i++;
    skipAssignments();
  }
  while (i < words.length) {
    const name = basename(words[i]!.value);
    if (COMMAND_WRAPPERS.has(name)) {
      i++;
      while (i < words.length && words[i]!.value.startsWith('-')) i++;
      skipAssignments();
      continue;
    }
    if (SHELLS.has(name)) {
      i++;
      // `bash -c '<script>'` carries its own command line; `bash -x file args` runs the file.
      while (i < words.length && words[i]!.value.startsWith('-')) {
        if (/^-[A-Za-z]*c[A-Za-z]*$/.test(words[i]!.value)) {
          const script = words[i + 1];
          return script !== undefined && depth < MAX_SHELL_C_DEPTH ? findCalls(script.value, depth + 1) : [];
        }
        i++;
      }
      continue;
    }
    break;
  }
  const path = words[i]?.value;
  if (path === undefined) return [];
  const args = words.slice(i + 1).map((w) => w.value);
  if (isScriptPath(path, ORCHESTRATOR_SCRIPT)) {
    const event = orchestratorEvent(args);
    return event ? [event] : [];
  }
  if (isScriptPath(path, SPRINT_LOG_SCRIPT)) {
    const event = jsonEvent(args);
    return event ? [event] : [];
  }
  return [];
}

function orchestratorEvent(args: string[]): TaskEvent | null {
  if (args.length !== 5 && args.length !== 6) return null;
  const [epic, story, command, taskId, status, message] = args as [string, string, string, string, string, string?];
  if (!isStatus(status) || command === '' || taskId === '') return null;
  return { epic, story, command, taskId, status, message: message ?? '', form: 'orchestrator' };
}

function jsonEvent(args: string[]): TaskEvent | null {
  if (args.length !== 1) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(args[0]!);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const fields = parsed as Record<string, unknown>;
  const status = fields['status'];
  const command = scalarText(fields['command']);
  const taskId = scalarText(fields['task_id']);
  if (!isStatus(status) || command === null || command === '' || taskId === null || taskId === '') return null;
  return {
    epic: scalarText(fields['epic_id']) ?? '',
    story: scalarText(fields['story_id']) ?? '',
    command,
    taskId,
    status,
    message: scalarText(fields['message']) ?? '',
    form: 'json',
  };
}

function scalarText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

function isStatus(value: unknown): value is 'start' | 'end' {
  return value === 'start' || value === 'end';
}

function isScriptPath(word: string, script: string): boolean {
  return word === script || word.endsWith(`/${script}`);
}

function basename(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? path : path.slice(slash + 1);
}
