// Checks stream-json parsing against the real CLI captures and a table of hand-made lines.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseStreamLine } from '../../machines/claude/stream-json.js';
import type { StreamMessage } from '../../machines/claude/types.js';
import { mutate, prng } from '../support/fuzz.js';

const CAPTURES = fileURLToPath(new URL('../../fixtures/captures', import.meta.url));

function parseCapture(file: string): StreamMessage[] {
  return readFileSync(`${CAPTURES}/${file}`, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => parseStreamLine(line));
}

const meaningful = (messages: StreamMessage[]): string[] => messages.filter((m) => m.kind !== 'ignored').map((m) => m.kind);

describe('real CLI captures', () => {
  const files = readdirSync(CAPTURES).filter((f) => f.endsWith('.jsonl'));

  it('finds all six capture files', () => {
    expect(files.sort()).toEqual([
      'api-error-400.jsonl',
      'api-error-401.jsonl',
      'hook-lines-before-init.jsonl',
      'large-tool-result.jsonl',
      'partial-messages.jsonl',
      'tool-use-bash.jsonl',
    ]);
  });

  for (const file of files) {
    it(`${file}: no garbage, no unknown, one init, one result`, () => {
      const messages = parseCapture(file);
      expect(messages.filter((m) => m.kind === 'garbage' || m.kind === 'unknown')).toEqual([]);
      expect(messages.filter((m) => m.kind === 'init')).toHaveLength(1);
      expect(messages.filter((m) => m.kind === 'result')).toHaveLength(1);
      expect(messages[messages.length - 1]!.kind).toBe('result');
    });
  }

  it('tool-use-bash: text, Bash call, its result, final text, success', () => {
    const messages = parseCapture('tool-use-bash.jsonl');
    expect(meaningful(messages)).toEqual(['init', 'assistant-text', 'tool-use', 'tool-result', 'assistant-text', 'result']);
    expect(messages[0]).toEqual({
      kind: 'init',
      sessionId: '5c5b8ace-7358-4c1b-9ea5-2583a07602b6',
      model: 'claude-sonnet-4-5',
      cwd: '/home/user/project',
      permissionMode: 'bypassPermissions',
      version: '2.1.197',
    });
    expect(messages[1]).toEqual({ kind: 'assistant-text', text: 'I will run a command.', messageId: 'msg_mock_2', parentToolUseId: null });
    expect(messages[2]).toMatchObject({ kind: 'tool-use', toolUseId: 'toolu_mock_2', name: 'Bash', input: { command: 'echo hello-from-tool' }, parentToolUseId: null });
    expect(messages[3]).toEqual({ kind: 'tool-result', toolUseId: 'toolu_mock_2', isError: false });
    expect(messages[5]).toEqual({
      kind: 'result',
      result: {
        subtype: 'success',
        isError: false,
        resultText: 'All done.',
        costUsd: 0.0011250000000000001,
        usage: { inputTokens: 200, outputTokens: 35, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 },
        durationMs: 350,
        durationApiMs: 91,
        numTurns: 2,
        terminalReason: 'completed',
        apiErrorStatus: null,
        permissionDenials: 0,
        sessionId: '5c5b8ace-7358-4c1b-9ea5-2583a07602b6',
      },
    });
  });

  it('hook-lines-before-init: hook lines are ignored, before and after init', () => {
    const messages = parseCapture('hook-lines-before-init.jsonl');
    expect(messages[0]).toEqual({ kind: 'ignored', type: 'system', subtype: 'hook_started' });
    expect(messages[1]).toEqual({ kind: 'ignored', type: 'system', subtype: 'hook_response' });
    expect(meaningful(messages)).toEqual(['init', 'assistant-text', 'tool-use', 'tool-result', 'assistant-text', 'result']);
  });

  it('large-tool-result: the 40 KB line parses as a tool result', () => {
    const messages = parseCapture('large-tool-result.jsonl');
    expect(meaningful(messages)).toEqual(['init', 'assistant-text', 'tool-use', 'tool-result', 'assistant-text', 'result']);
    expect(messages[3]).toEqual({ kind: 'tool-result', toolUseId: 'toolu_mock_32', isError: false });
  });

  it('partial-messages: stream events, status and thinking are ignored; the full blocks still come through', () => {
    const messages = parseCapture('partial-messages.jsonl');
    expect(meaningful(messages)).toEqual(['init', 'assistant-text', 'tool-use', 'tool-result', 'assistant-text', 'result']);
    const ignoredKinds = new Set(messages.flatMap((m) => (m.kind === 'ignored' ? [`${m.type}/${m.subtype}`] : [])));
    expect([...ignoredKinds].sort()).toEqual(['assistant/thinking', 'stream_event/null', 'system/status', 'system/thinking_tokens']);
  });

  it('api-error-401: retry, synthetic text, is_error result with status', () => {
    const messages = parseCapture('api-error-401.jsonl');
    expect(meaningful(messages)).toEqual(['init', 'api-retry', 'assistant-text', 'result']);
    expect(messages[1]).toEqual({ kind: 'api-retry', attempt: 1, maxRetries: 1, retryDelayMs: 614.1055590890102, errorStatus: 401 });
    expect(messages[3]).toMatchObject({ kind: 'result', result: { subtype: 'success', isError: true, apiErrorStatus: 401, resultText: 'Invalid API key · Fix external API key' } });
  });

  it('api-error-400: is_error result with terminal reason', () => {
    const messages = parseCapture('api-error-400.jsonl');
    expect(meaningful(messages)).toEqual(['init', 'assistant-text', 'result']);
    expect(messages[2]).toMatchObject({ kind: 'result', result: { isError: true, apiErrorStatus: 400, terminalReason: 'prompt_too_long', costUsd: 0 } });
  });
});

describe('hand-made lines', () => {
  const rows: Array<{ name: string; line: string; expected: StreamMessage[] }> = [
    { name: 'not JSON', line: 'hello world', expected: [{ kind: 'garbage', line: 'hello world', reason: 'not JSON' }] },
    { name: 'truncated JSON', line: '{"type":"assi', expected: [{ kind: 'garbage', line: '{"type":"assi', reason: 'not JSON' }] },
    { name: 'JSON array', line: '[1,2]', expected: [{ kind: 'garbage', line: '[1,2]', reason: 'JSON value is not an object' }] },
    { name: 'JSON null', line: 'null', expected: [{ kind: 'garbage', line: 'null', reason: 'JSON value is not an object' }] },
    { name: 'JSON string', line: '"x"', expected: [{ kind: 'garbage', line: '"x"', reason: 'JSON value is not an object' }] },
    { name: 'object without type', line: '{"a":1}', expected: [{ kind: 'garbage', line: '{"a":1}', reason: 'object has no string "type"' }] },
    { name: 'numeric type', line: '{"type":3}', expected: [{ kind: 'garbage', line: '{"type":3}', reason: 'object has no string "type"' }] },
    {
      name: 'init with missing fields',
      line: '{"type":"system","subtype":"init"}',
      expected: [{ kind: 'init', sessionId: '', model: '', cwd: '', permissionMode: null, version: null }],
    },
    {
      name: 'two blocks on one assistant line, thinking ignored',
      line: JSON.stringify({
        type: 'assistant',
        parent_tool_use_id: 'toolu_parent',
        message: { id: 'm1', content: [{ type: 'thinking', thinking: 'hm' }, { type: 'text', text: 'a' }, { type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'ls' } }] },
      }),
      expected: [
        { kind: 'ignored', type: 'assistant', subtype: 'thinking' },
        { kind: 'assistant-text', text: 'a', messageId: 'm1', parentToolUseId: 'toolu_parent' },
        { kind: 'tool-use', toolUseId: 't1', name: 'Bash', input: { command: 'ls' }, parentToolUseId: 'toolu_parent' },
      ],
    },
    {
      name: 'tool_use with non-object input',
      line: JSON.stringify({ type: 'assistant', message: { content: [{ type: 'tool_use', id: 't', name: 'Bash', input: 'ls' }] } }),
      expected: [{ kind: 'tool-use', toolUseId: 't', name: 'Bash', input: {}, parentToolUseId: null }],
    },
    {
      name: 'assistant without content',
      line: '{"type":"assistant","message":{}}',
      expected: [{ kind: 'unknown', type: 'assistant', subtype: 'no content array' }],
    },
    {
      name: 'assistant with an unknown block type',
      line: '{"type":"assistant","message":{"content":[{"type":"image"}]}}',
      expected: [{ kind: 'unknown', type: 'assistant', subtype: 'image' }],
    },
    {
      name: 'user tool_result with is_error',
      line: '{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t9","content":"boom","is_error":true}]}}',
      expected: [{ kind: 'tool-result', toolUseId: 't9', isError: true }],
    },
    {
      name: 'user prompt echo as a string',
      line: '{"type":"user","message":{"content":"do it"}}',
      expected: [{ kind: 'ignored', type: 'user', subtype: null }],
    },
    {
      name: 'result with nothing but a type: numbers default to 0',
      line: '{"type":"result"}',
      expected: [
        {
          kind: 'result',
          result: {
            subtype: '',
            isError: false,
            resultText: '',
            costUsd: 0,
            usage: { inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 },
            durationMs: 0,
            durationApiMs: 0,
            numTurns: 0,
            terminalReason: null,
            apiErrorStatus: null,
            permissionDenials: 0,
            sessionId: null,
          },
        },
      ],
    },
    {
      name: 'result with denials and usage',
      line: JSON.stringify({
        type: 'result', subtype: 'error_max_turns', is_error: false, num_turns: 9, total_cost_usd: 1.5,
        usage: { input_tokens: 1, output_tokens: 2, cache_read_input_tokens: 3, cache_creation_input_tokens: 4 },
        permission_denials: [{}, {}], terminal_reason: 'max_turns', session_id: 's',
      }),
      expected: [
        {
          kind: 'result',
          result: {
            subtype: 'error_max_turns', isError: false, resultText: '', costUsd: 1.5,
            usage: { inputTokens: 1, outputTokens: 2, cacheReadInputTokens: 3, cacheCreationInputTokens: 4 },
            durationMs: 0, durationApiMs: 0, numTurns: 9, terminalReason: 'max_turns', apiErrorStatus: null, permissionDenials: 2, sessionId: 's',
          },
        },
      ],
    },
    {
      name: 'rate limit, flat',
      line: '{"type":"rate_limit_event","status":"rejected","resetsAt":1790000000,"rateLimitType":"five_hour"}',
      expected: [{ kind: 'rate-limit', info: { status: 'rejected', resetsAt: 1790000000, rateLimitType: 'five_hour' } }],
    },
    {
      name: 'rate limit, nested in rate_limit_info',
      line: '{"type":"rate_limit_event","rate_limit_info":{"status":"allowed_warning","resetsAt":1790000001,"rateLimitType":"seven_day"}}',
      expected: [{ kind: 'rate-limit', info: { status: 'allowed_warning', resetsAt: 1790000001, rateLimitType: 'seven_day' } }],
    },
    {
      name: 'rate limit without details',
      line: '{"type":"rate_limit_event"}',
      expected: [{ kind: 'rate-limit', info: { status: '', resetsAt: null, rateLimitType: null } }],
    },
    {
      name: 'api retry without status',
      line: '{"type":"system","subtype":"api_retry","attempt":3,"max_retries":10,"retry_delay_ms":4000,"error_status":null}',
      expected: [{ kind: 'api-retry', attempt: 3, maxRetries: 10, retryDelayMs: 4000, errorStatus: null }],
    },
    { name: 'hook_started', line: '{"type":"system","subtype":"hook_started"}', expected: [{ kind: 'ignored', type: 'system', subtype: 'hook_started' }] },
    { name: 'status', line: '{"type":"system","subtype":"status"}', expected: [{ kind: 'ignored', type: 'system', subtype: 'status' }] },
    { name: 'stream_event', line: '{"type":"stream_event","event":{}}', expected: [{ kind: 'ignored', type: 'stream_event', subtype: null }] },
    { name: 'unknown system subtype', line: '{"type":"system","subtype":"brand_new"}', expected: [{ kind: 'unknown', type: 'system', subtype: 'brand_new' }] },
    { name: 'unknown type', line: '{"type":"telemetry","subtype":"x"}', expected: [{ kind: 'unknown', type: 'telemetry', subtype: 'x' }] },
  ];
  for (const row of rows) {
    it(row.name, () => {
      expect(parseStreamLine(row.line)).toEqual(row.expected);
    });
  }

  it('garbage keeps only a preview of a huge line', () => {
    const [message] = parseStreamLine('x'.repeat(100_000));
    expect(message?.kind).toBe('garbage');
    expect(message?.kind === 'garbage' && message.line.length).toBeLessThan(300);
  });

  it('deeply nested JSON does not throw', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(() => parseStreamLine(deep)).not.toThrow();
  });
});

describe('fuzz', () => {
  it('never throws on 2,000 mutated capture lines and random input', () => {
    const random = prng(20261124);
    const bases = readdirSync(CAPTURES)
      .filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) => readFileSync(`${CAPTURES}/${f}`, 'utf8').split('\n').filter((l) => l !== '' && l.length < 20_000));
    const alphabet = '{}[]":,\\ abcdefnulltruefalse0123456789.-eE\u00e9\u2713\uD83C';
    for (let i = 0; i < 2000; i++) {
      const base = bases[Math.floor(random() * bases.length)]!;
      const input = mutate(random, base, alphabet);
      const messages = parseStreamLine(input);
      expect(Array.isArray(messages)).toBe(true);
      expect(messages.length).toBeGreaterThan(0);
    }
  });

  it('never throws on 2,000 well-formed objects with fields of the wrong types', () => {
    const random = prng(7);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const anyValue = (depth: number): unknown => {
      const makers: Array<() => unknown> = [
        () => null,
        () => 42,
        () => 'text',
        () => true,
        () => -1.5,
        () => [anyValue(depth + 1)],
        () => ({ type: pick(['text', 'tool_use', 'tool_result', 'thinking']), content: anyValue(depth + 1), input: anyValue(depth + 1) }),
      ];
      return makers[Math.floor(random() * (depth > 2 ? 5 : makers.length))]!();
    };
    const fields = ['subtype', 'message', 'content', 'usage', 'parent_tool_use_id', 'rate_limit_info', 'permission_denials', 'is_error', 'session_id', 'status'];
    for (let i = 0; i < 2000; i++) {
      const line: Record<string, unknown> = { type: pick(['system', 'assistant', 'user', 'result', 'rate_limit_event', 'stream_event', 'other']) };
      for (const field of fields) if (random() < 0.5) line[field] = anyValue(0);
      if (random() < 0.5) line['message'] = { id: anyValue(1), content: [anyValue(1), anyValue(1)] };
      expect(parseStreamLine(JSON.stringify(line)).length).toBeGreaterThan(0);
    }
  });
});
