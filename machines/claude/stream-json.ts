// Turns one stdout line of `claude -p --output-format stream-json --verbose` into typed messages; never throws.
import type { RateLimitInfo, ResultSummary, StreamMessage, TokenUsage } from './types.js';

type JsonObject = Record<string, unknown>;

/** System subtypes that carry nothing a runner acts on (hooks, progress, partial-message bookkeeping). */
const IGNORED_SYSTEM_SUBTYPES = new Set([
  'hook_started',
  'hook_progress',
  'hook_response',
  'status',
  'thinking_tokens',
  'compact_boundary',
  'task_started',
  'task_progress',
  'task_notification',
  'files_persisted',
]);

/** Top-level types that only matter to interactive front ends. */
const IGNORED_TYPES = new Set(['stream_event', 'tool_progress', 'tool_use_summary', 'auth_status', 'prompt_suggestion']);

const GARBAGE_PREVIEW_CHARS = 200;

export function parseStreamLine(line: string): StreamMessage[] {
  try {
    return parseUnsafe(line);
  } catch (error) {
    // Defence in depth: a parser bug must cost one line, never the run.
    return [garbage(line, `parser error: ${error instanceof Error ? error.message : String(error)}`)];
  }
}

function parseUnsafe(line: string): StreamMessage[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return [garbage(line, 'not JSON')];
  }
  if (!isObject(parsed)) return [garbage(line, 'JSON value is not an object')];
  const type = parsed['type'];
  if (typeof type !== 'string') return [garbage(line, 'object has no string "type"')];
  const subtype = stringOrNull(parsed['subtype']);

  switch (type) {
    case 'system':
      return [parseSystem(parsed, subtype)];
    case 'assistant':
      return parseAssistant(parsed);
    case 'user':
      return parseUser(parsed);
    case 'result':
      return [{ kind: 'result', result: parseResult(parsed) }];
    case 'rate_limit_event':
      return [{ kind: 'rate-limit', info: parseRateLimit(parsed) }];
    default:
      if (IGNORED_TYPES.has(type)) return [{ kind: 'ignored', type, subtype }];
      return [{ kind: 'unknown', type, subtype }];
  }
}

function parseSystem(line: JsonObject, subtype: string | null): StreamMessage {
  if (subtype === 'init') {
    return {
      kind: 'init',
      sessionId: stringOr(line['session_id'], ''),
      model: stringOr(line['model'], ''),
      cwd: stringOr(line['cwd'], ''),
      permissionMode: stringOrNull(line['permissionMode']),
      version: stringOrNull(line['claude_code_version']),
    };
  }
  if (subtype === 'api_retry') {
    return {
      kind: 'api-retry',
      attempt: numberOr(line['attempt'], 0),
      maxRetries: numberOr(line['max_retries'], 0),
      retryDelayMs: numberOr(line['retry_delay_ms'], 0),
      errorStatus: numberOrNull(line['error_status']),
    };
  }
  if (subtype !== null && IGNORED_SYSTEM_SUBTYPES.has(subtype)) return { kind: 'ignored', type: 'system', subtype };
  return { kind: 'unknown', type: 'system', subtype };
}

function parseAssistant(line: JsonObject): StreamMessage[] {
  const message = line['message'];
  const content = isObject(message) ? message['content'] : undefined;
  if (!isObject(message) || !Array.isArray(content)) return [{ kind: 'unknown', type: 'assistant', subtype: 'no content array' }];
  const messageId = stringOrNull(message['id']);
  const parentToolUseId = stringOrNull(line['parent_tool_use_id']);
  const out: StreamMessage[] = [];
  for (const block of content) {
    const blockType = isObject(block) ? block['type'] : undefined;
    if (!isObject(block) || typeof blockType !== 'string') {
      out.push({ kind: 'unknown', type: 'assistant', subtype: 'content block without type' });
    } else if (blockType === 'text') {
      out.push({ kind: 'assistant-text', text: stringOr(block['text'], ''), messageId, parentToolUseId });
    } else if (blockType === 'tool_use' || blockType === 'server_tool_use') {
      const input = block['input'];
      out.push({
        kind: 'tool-use',
        toolUseId: stringOr(block['id'], ''),
        name: stringOr(block['name'], ''),
        input: isObject(input) ? input : {},
        parentToolUseId,
      });
    } else if (blockType === 'thinking' || blockType === 'redacted_thinking') {
      out.push({ kind: 'ignored', type: 'assistant', subtype: blockType });
    } else {
      out.push({ kind: 'unknown', type: 'assistant', subtype: blockType });
    }
  }
  if (out.length === 0) out.push({ kind: 'ignored', type: 'assistant', subtype: 'empty content' });
  return out;
}

function parseUser(line: JsonObject): StreamMessage[] {
  const message = line['message'];
  const content = isObject(message) ? message['content'] : undefined;
  // A plain-string content is a prompt echo (e.g. the prompt a Task subagent received): nothing to act on.
  if (!Array.isArray(content)) return [{ kind: 'ignored', type: 'user', subtype: null }];
  const out: StreamMessage[] = [];
  for (const block of content) {
    if (isObject(block) && block['type'] === 'tool_result') {
      out.push({ kind: 'tool-result', toolUseId: stringOr(block['tool_use_id'], ''), isError: block['is_error'] === true });
    } else {
      out.push({ kind: 'ignored', type: 'user', subtype: isObject(block) ? stringOrNull(block['type']) : null });
    }
  }
  if (out.length === 0) out.push({ kind: 'ignored', type: 'user', subtype: 'empty content' });
  return out;
}

function parseResult(line: JsonObject): ResultSummary {
  const denials = line['permission_denials'];
  return {
    subtype: stringOr(line['subtype'], ''),
    isError: line['is_error'] === true,
    resultText: stringOr(line['result'], ''),
    costUsd: numberOr(line['total_cost_usd'], 0),
    usage: parseUsage(line['usage']),
    durationMs: numberOr(line['duration_ms'], 0),
    durationApiMs: numberOr(line['duration_api_ms'], 0),
    numTurns: numberOr(line['num_turns'], 0),
    terminalReason: stringOrNull(line['terminal_reason']),
    apiErrorStatus: numberOrNull(line['api_error_status']),
    permissionDenials: Array.isArray(denials) ? denials.length : 0,
    sessionId: stringOrNull(line['session_id']),
    ...(line['structured_output'] !== undefined ? { structuredOutput: line['structured_output'] } : {}),
  };
}

function parseUsage(usage: unknown): TokenUsage {
  const u = isObject(usage) ? usage : {};
  return {
    inputTokens: numberOr(u['input_tokens'], 0),
    outputTokens: numberOr(u['output_tokens'], 0),
    cacheReadInputTokens: numberOr(u['cache_read_input_tokens'], 0),
    cacheCreationInputTokens: numberOr(u['cache_creation_input_tokens'], 0),
  };
}

function parseRateLimit(line: JsonObject): RateLimitInfo {
  // Seen both flat and nested under `rate_limit_info` (the Agent SDK's shape); a nested value wins.
  const nested = line['rate_limit_info'];
  const info = isObject(nested) ? nested : {};
  const pick = (key: string): unknown => (info[key] !== undefined ? info[key] : line[key]);
  return {
    status: stringOr(pick('status'), ''),
    resetsAt: numberOrNull(pick('resetsAt')),
    rateLimitType: stringOrNull(pick('rateLimitType')),
  };
}

function garbage(line: string, reason: string): StreamMessage {
  const preview = line.length > GARBAGE_PREVIEW_CHARS ? `${line.slice(0, GARBAGE_PREVIEW_CHARS)}…` : line;
  return { kind: 'garbage', line: preview, reason };
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
