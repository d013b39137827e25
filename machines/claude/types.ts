// Typed view of what one `claude -p --output-format stream-json --verbose` child tells us.
import type { CommandOutcome, FailureReason, RateLimitInfo, ResultSummary, TaskEvent } from '../wire.js';

// what a command reports travels to the dashboard too: the shapes live in the Node-free wire module
export type { CommandOutcome, FailureReason, RateLimitInfo, ResultSummary, TaskEvent, TokenUsage } from '../wire.js';

/**
 * One parsed stdout line. Unknown types and non-JSON lines are kept as `unknown` / `garbage`
 * so the caller can warn about them; parsing never throws.
 */
export type StreamMessage =
  | { kind: 'init'; sessionId: string; model: string; cwd: string; permissionMode: string | null; version: string | null }
  | { kind: 'assistant-text'; text: string; messageId: string | null; parentToolUseId: string | null }
  | { kind: 'tool-use'; toolUseId: string; name: string; input: Record<string, unknown>; parentToolUseId: string | null }
  | { kind: 'tool-result'; toolUseId: string; isError: boolean }
  | { kind: 'result'; result: ResultSummary }
  | { kind: 'rate-limit'; info: RateLimitInfo }
  | { kind: 'api-retry'; attempt: number; maxRetries: number; retryDelayMs: number; errorStatus: number | null }
  | { kind: 'ignored'; type: string; subtype: string | null }
  | { kind: 'unknown'; type: string; subtype: string | null }
  | { kind: 'garbage'; line: string; reason: string };

/** What the claude process reports while it runs, in order; `exit` is always last and always sent once. */
export type ClaudeProcessMessage =
  | { type: 'spawned'; pid: number; startTime: number; argv: string[] }
  | { type: 'init'; sessionId: string; model: string }
  | { type: 'task'; task: TaskEvent; known: boolean }
  | { type: 'rate-limit'; info: RateLimitInfo }
  | { type: 'api-retry'; attempt: number; errorStatus: number | null }
  | { type: 'warning'; message: string }
  | { type: 'result'; result: ResultSummary }
  | { type: 'exit'; outcome: CommandOutcome };

export interface ClaudeProcessOptions {
  /** executable to run: `claude` on PATH by default */
  bin: string;
  /** extra argv after `-p --output-format stream-json --verbose` (model, permission mode) */
  args: string[];
  prompt: string;
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** task ids the taxonomy knows for this command; others are still reported, flagged `known:false` */
  knownTaskIds?: readonly string[];
  /** ms to wait for exit after the `result` line before ending the tree (default 5000) */
  resultGraceMs?: number;
  /** ms without any stdout line before the tree is ended (0 = off) */
  idleTimeoutMs?: number;
  /** ms from spawn before the tree is ended (0 = off) */
  totalTimeoutMs?: number;
  /** longest stdout line kept, in bytes; longer lines are dropped with a warning (default 64 MiB) */
  maxLineBytes?: number;
  /** ms between scans of the child's descendants, so shells it orphans can be ended after it exits (default 500) */
  treePollMs?: number;
  /** every non-empty stdout line as printed (the transcript); called on the hot path, so it must only buffer */
  onRawLine?: (line: string) => void;
}

/** A running claude child. `stop()` ends its whole tree (SIGINT, SIGTERM, SIGKILL) and resolves when it is gone. */
export interface ClaudeProcessHandle {
  readonly pid: number | null;
  stop(reason?: FailureReason): Promise<void>;
  /** resolves after `exit` was delivered */
  readonly finished: Promise<CommandOutcome>;
}
