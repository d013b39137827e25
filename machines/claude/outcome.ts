// Decides the one outcome of a claude run, ok or a failure with its reason and message, from what the run saw.
import { existsSync } from 'node:fs';
import type { ClaudeProcessOptions, CommandOutcome, FailureReason } from './types.js';

/** The result subtype of a run whose StructuredOutput calls never matched the `--json-schema` (seen with 2.1.197). */
export const STRUCTURED_OUTPUT_RETRIES = 'error_max_structured_output_retries';

export const CLAUDE_INSTALL_HINT = 'install the Claude Code CLI with `npm install -g @anthropic-ai/claude-code`';

/** What every outcome reports, ok or not: how the child exited and what its stream said. */
export type RunFacts = Omit<CommandOutcome, 'ok' | 'failure' | 'message'>;

/** How our side ended the run, if it did. */
export interface RunEnding {
  spawnError: NodeJS.ErrnoException | null;
  /** set (to the grace period) when the child outlived its result and was ended */
  graceExpired: number | null;
  /** why the tree was ended from outside, and whether that happened before any result line */
  forced: { reason: FailureReason; beforeResult: boolean } | null;
}

type OutcomeOptions = Pick<ClaudeProcessOptions, 'bin' | 'cwd' | 'idleTimeoutMs' | 'totalTimeoutMs'>;

export function decideOutcome(opts: OutcomeOptions, base: RunFacts, ending: RunEnding): CommandOutcome {
  const result = base.result;
  const fail = (failure: FailureReason, message: string): CommandOutcome => ({ ...base, ok: false, failure, message });

  if (ending.spawnError) return fail('spawn-failed', spawnFailureMessage(opts, ending.spawnError));
  if (ending.graceExpired !== null) {
    return fail('watchdog-exit', `claude did not exit within ${ending.graceExpired} ms after its result; ended the claude process tree`);
  }
  const resultOk = result !== null && !result.isError && result.subtype === 'success';
  // A complete, successful answer stands even if a stop or watchdog raced it.
  if (resultOk) {
    return { ...base, ok: true, failure: null, message: `ok: ${result.numTurns} turn(s), ${result.durationMs} ms, $${result.costUsd.toFixed(4)}` };
  }
  // The work is done; only the machine-readable verdict (`--json-schema`) failed validation 5 times: the text is
  // read instead. Running the whole review again for that would waste a run (docs/structured-verdict.md).
  if (result !== null && result.subtype === STRUCTURED_OUTPUT_RETRIES) {
    return { ...base, ok: true, failure: null, message: `ok without a structured verdict (${result.subtype}): ${result.numTurns} turn(s), $${result.costUsd.toFixed(4)}` };
  }
  if (ending.forced && (ending.forced.beforeResult || result === null)) {
    return fail(ending.forced.reason, forcedMessage(opts, ending.forced.reason));
  }
  if (result === null) {
    const lastStderr = lastNonEmptyLine(base.stderrTail);
    const how = base.signal !== null ? `signal ${base.signal}` : `code ${base.exitCode}`;
    return fail('no-result', `claude exited (${how}) without a result line${lastStderr ? `: ${lastStderr}` : ''}`);
  }
  if (result.isError) {
    const status = result.apiErrorStatus !== null ? ` (API status ${result.apiErrorStatus})` : '';
    return fail('is-error', `claude reported an error${status}: ${truncate(result.resultText, 300)}`);
  }
  const reason = result.terminalReason ? ` (${result.terminalReason})` : '';
  return fail('error-subtype', `claude ended with ${result.subtype || 'no subtype'}${reason}`);
}

function forcedMessage(opts: OutcomeOptions, reason: FailureReason): string {
  switch (reason) {
    case 'watchdog-idle':
      return `no output for ${opts.idleTimeoutMs} ms; ended the claude process tree`;
    case 'watchdog-total':
      return `still running after ${opts.totalTimeoutMs} ms; ended the claude process tree`;
    default:
      return `stopped (${reason}); ended the claude process tree`;
  }
}

function spawnFailureMessage(opts: OutcomeOptions, error: NodeJS.ErrnoException): string {
  const bin = opts.bin;
  if (error.code === 'ENOENT' && !existsSync(opts.cwd)) {
    return `cannot start "${bin}": working directory ${opts.cwd} does not exist`;
  }
  if (error.code === 'ENOENT') return `cannot start "${bin}": no such executable (ENOENT); ${CLAUDE_INSTALL_HINT} or set the path to the claude binary`;
  if (error.code === 'EACCES') return `cannot start "${bin}": permission denied (EACCES), it is not executable; ${CLAUDE_INSTALL_HINT} or set the path to the claude binary`;
  return `cannot start "${bin}": ${error.message}; ${CLAUDE_INSTALL_HINT}`;
}

function lastNonEmptyLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return truncate(lines[lines.length - 1] ?? '', 300);
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
