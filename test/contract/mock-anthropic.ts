// A scripted stand-in for the Anthropic Messages API on loopback, so the real Claude Code CLI can run offline.
//
// What @anthropic-ai/claude-code 2.1.197 sends (seen with this server, `claude -p ... --verbose`):
// - `HEAD /` once at start (a connection warm-up; absent when an HTTPS proxy is set).
// - `POST /v1/messages?beta=true` for every model call, `stream: true`, headers `x-api-key`,
//   `anthropic-version: 2023-06-01`, `anthropic-beta: ...`, `x-app: cli`, `user-agent: claude-cli/2.1.197 (external, sdk-cli)`,
//   `x-claude-code-session-id: <session id of the init line>`, `x-stainless-retry-count: <n>`.
//   * the main conversation: `tools` is a non-empty array (25 tools: Agent, Bash, Edit, Read, ...) and the system
//     prompt begins "You are a Claude agent..." then "You are an interactive agent that helps users with software
//     engineering tasks"; the prompt is the last user message (after `<system-reminder>` blocks).
//   * the session title: `tools` is present but EMPTY (`[]`), the system prompt says "Generate a concise, sentence-case
//     title (3-7 words)...", `output_config.format` is a JSON schema with a `title` property, thinking disabled, and
//     the user message is `<session>\n<prompt>\n</session>...`. It is sent at the start of the run, usually before the
//     main request, in parallel with it; not for very short prompts ("say hi"), and never with
//     CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1. It expects `{"title": "..."}` as the text.
//   Both carry the full model name (`--model haiku` gives `claude-haiku-4-5-20251001`).
// - A retried request (401, 429, 5xx; not 400) is the same body again with `x-stainless-retry-count` one higher.
// - Other traffic (to api.anthropic.com, not to ANTHROPIC_BASE_URL) goes through HTTPS_PROXY when one is set: this
//   server records such `CONNECT host:443` attempts and refuses them, so a test can point HTTPS_PROXY here and be
//   sure nothing leaves the machine.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface MockUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export type MockReply =
  /** an assistant message with one text block; stop_reason end_turn */
  | { kind: 'text'; text: string; usage?: Partial<MockUsage>; times?: number }
  /** optional text block, then one tool_use block whose input is streamed as input_json_delta; stop_reason tool_use */
  | { kind: 'tool_use'; name: string; input: Record<string, unknown>; text?: string; usage?: Partial<MockUsage>; times?: number }
  /** an HTTP error with the API's JSON error body; `times` > 1 also answers the CLI's retries */
  | { kind: 'error'; status: number; message?: string; times?: number };

export type RequestRole =
  /** POST /v1/messages with a non-empty tools array: the conversation the prompt drives */
  | 'main'
  /** POST /v1/messages asking for a session title (empty tools, title schema / title system prompt) */
  | 'title'
  /** POST /v1/messages/count_tokens */
  | 'count-tokens'
  /** any other POST /v1/messages (no tools, not a title): e.g. a summary or classifier call */
  | 'other-messages'
  /** a CONNECT through this server used as HTTPS proxy: something wanted the real internet */
  | 'proxy-connect'
  /** anything else (HEAD / warm-up, unknown paths) */
  | 'other';

export interface RecordedRequest {
  /** 1-based, in arrival order */
  n: number;
  at: number;
  method: string;
  /** path with query, e.g. `/v1/messages?beta=true`; `host:port` for CONNECT */
  url: string;
  headers: IncomingHttpHeaders;
  /** parsed JSON when the body was JSON, else the raw text */
  body: unknown;
  role: RequestRole;
  /** what was answered: `text`, `tool_use:Bash`, `error:401`, `title`, `default-text`, ... */
  answered: string;
}

export interface MockAnthropic {
  /** `http://127.0.0.1:<port>`: use as ANTHROPIC_BASE_URL (and as HTTPS_PROXY to trap other traffic) */
  readonly url: string;
  /** every request so far, in arrival order */
  readonly requests: RecordedRequest[];
  /** requests of one role */
  requestsOf(role: RequestRole): RecordedRequest[];
  /** appends replies for the next main requests (one per request; `times` repeats one) */
  enqueue(...replies: MockReply[]): void;
  /** scripted replies not used yet (counting repeats) */
  pending(): number;
  /** forgets recorded requests and unused replies (between tests) */
  reset(): void;
  close(): Promise<void>;
}

export const DEFAULT_USAGE: MockUsage = { input_tokens: 100, output_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
/** usage of the answers to title and other side requests: small and distinct, so totals show whether they count */
export const SIDE_USAGE: MockUsage = { input_tokens: 7, output_tokens: 3, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
const DEFAULT_TEXT = 'Done.';
const TITLE_TEXT = JSON.stringify({ title: 'Mock session' });

/** The API's `error.type` for each status (https://docs.anthropic.com/en/api/errors). */
const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

const DEFAULT_ERROR_MESSAGES: Record<number, string> = {
  400: 'messages: prompt is too long',
  401: 'invalid x-api-key',
  429: 'Number of request tokens has exceeded your per-minute rate limit',
  500: 'Internal server error',
  529: 'Overloaded',
};

type JsonObject = Record<string, unknown>;

export async function startMockAnthropic(initial: MockReply[] = []): Promise<MockAnthropic> {
  const requests: RecordedRequest[] = [];
  let queue: Array<{ reply: MockReply; left: number }> = [];
  let counter = 0;
  const sockets = new Set<Socket>();

  const enqueue = (...replies: MockReply[]): void => {
    for (const reply of replies) queue.push({ reply, left: Math.max(1, reply.times ?? 1) });
  };
  enqueue(...initial);

  const nextReply = (): MockReply | null => {
    const head = queue[0];
    if (!head) return null;
    head.left--;
    if (head.left <= 0) queue.shift();
    return head.reply;
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = raw;
      try {
        body = raw === '' ? raw : (JSON.parse(raw) as unknown);
      } catch {
        // keep the raw text
      }
      const n = ++counter;
      const record: RecordedRequest = { n, at: Date.now(), method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, role: 'other', answered: '' };
      requests.push(record);
      try {
        answer(req, res, record, n);
      } catch (error) {
        record.answered = `crash: ${String(error)}`;
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(errorBody(500, 'mock server error', n));
      }
    });
  });

  const answer = (req: IncomingMessage, res: ServerResponse, record: RecordedRequest, n: number): void => {
    const path = (req.url ?? '').split('?')[0];
    const body = isObject(record.body) ? record.body : {};
    if (req.method === 'POST' && path === '/v1/messages/count_tokens') {
      record.role = 'count-tokens';
      record.answered = 'count';
      sendJson(res, 200, { input_tokens: 100 }, n);
      return;
    }
    if (req.method === 'POST' && path === '/v1/messages') {
      const model = typeof body['model'] === 'string' ? body['model'] : 'claude-mock';
      record.role = roleOfMessagesRequest(body);
      if (record.role !== 'main') {
        record.answered = record.role === 'title' ? 'title' : 'default-text';
        streamMessage(res, n, model, { kind: 'text', text: record.role === 'title' ? TITLE_TEXT : DEFAULT_TEXT, usage: SIDE_USAGE });
        return;
      }
      const reply = nextReply() ?? { kind: 'text', text: DEFAULT_TEXT };
      if (reply.kind === 'error') {
        record.answered = `error:${reply.status}`;
        res.writeHead(reply.status, { 'content-type': 'application/json', 'request-id': requestId(n) });
        res.end(errorBody(reply.status, reply.message ?? DEFAULT_ERROR_MESSAGES[reply.status] ?? 'mock error', n));
        return;
      }
      record.answered = reply.kind === 'text' ? 'text' : `tool_use:${reply.name}`;
      streamMessage(res, n, model, reply);
      return;
    }
    if (req.method === 'HEAD' || (req.method === 'GET' && path === '/')) {
      record.answered = 'empty';
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end();
      return;
    }
    record.answered = 'not-found';
    res.writeHead(404, { 'content-type': 'application/json', 'request-id': requestId(n) });
    res.end(errorBody(404, `mock: no route for ${req.method} ${path}`, n));
  };

  // Used as HTTPS_PROXY: record where the CLI wanted to go, and refuse.
  server.on('connect', (req: IncomingMessage, socket: Socket) => {
    const n = ++counter;
    requests.push({ n, at: Date.now(), method: 'CONNECT', url: req.url ?? '', headers: req.headers, body: '', role: 'proxy-connect', answered: 'refused' });
    socket.on('error', () => undefined);
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    requestsOf: (role) => requests.filter((r) => r.role === role),
    enqueue,
    pending: () => queue.reduce((sum, entry) => sum + entry.left, 0),
    reset: () => {
      requests.length = 0;
      queue = [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        // the CLI keeps connections alive; a leftover one must not hold the test run open
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Tells the main conversation from the title request and other side calls; see the header comment. */
export function roleOfMessagesRequest(body: JsonObject): RequestRole {
  const tools = body['tools'];
  if (Array.isArray(tools) && tools.length > 0) return 'main';
  if (isTitleRequest(body)) return 'title';
  return 'other-messages';
}

function isTitleRequest(body: JsonObject): boolean {
  const outputConfig = body['output_config'];
  const format = isObject(outputConfig) ? outputConfig['format'] : undefined;
  const schema = isObject(format) ? format['schema'] : undefined;
  const properties = isObject(schema) ? schema['properties'] : undefined;
  if (isObject(properties) && 'title' in properties) return true;
  return systemText(body['system']).includes('Generate a concise, sentence-case title');
}

function systemText(system: unknown): string {
  if (typeof system === 'string') return system;
  if (!Array.isArray(system)) return '';
  return system.map((block) => (isObject(block) && typeof block['text'] === 'string' ? block['text'] : '')).join('\n');
}

/** Writes one assistant message as the Messages API streams it (server-sent events). */
function streamMessage(res: ServerResponse, n: number, model: string, reply: Exclude<MockReply, { kind: 'error' }>): void {
  const usage: MockUsage = { ...DEFAULT_USAGE, ...reply.usage };
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'request-id': requestId(n),
  });
  const event = (type: string, data: JsonObject): void => {
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  };
  event('message_start', {
    message: {
      id: `msg_mock_${n}`,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: usage.input_tokens,
        cache_creation_input_tokens: usage.cache_creation_input_tokens,
        cache_read_input_tokens: usage.cache_read_input_tokens,
        output_tokens: 1,
        service_tier: 'standard',
      },
    },
  });
  event('ping', {});
  let index = 0;
  const text: string | undefined = reply.text;
  if (text !== undefined && text !== '') {
    event('content_block_start', { index, content_block: { type: 'text', text: '' } });
    for (const piece of splitInto(text, 2)) event('content_block_delta', { index, delta: { type: 'text_delta', text: piece } });
    event('content_block_stop', { index });
    index++;
  }
  if (reply.kind === 'tool_use') {
    event('content_block_start', { index, content_block: { type: 'tool_use', id: `toolu_mock_${n}_${index}`, name: reply.name, input: {} } });
    // like the API: an empty first delta, then the JSON in arbitrary pieces
    const json = JSON.stringify(reply.input);
    for (const piece of ['', ...splitInto(json, 3)]) event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: piece } });
    event('content_block_stop', { index });
  }
  event('message_delta', {
    delta: { stop_reason: reply.kind === 'tool_use' ? 'tool_use' : 'end_turn', stop_sequence: null },
    usage: { output_tokens: usage.output_tokens },
  });
  event('message_stop', {});
  res.end();
}

function sendJson(res: ServerResponse, status: number, body: JsonObject, n: number): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': requestId(n) });
  res.end(JSON.stringify(body));
}

function errorBody(status: number, message: string, n: number): string {
  return JSON.stringify({ type: 'error', error: { type: ERROR_TYPES[status] ?? 'api_error', message }, request_id: requestId(n) });
}

function requestId(n: number): string {
  return `req_mock_${n}`;
}

/** Splits a string into about `parts` non-empty pieces (fewer when it is short). */
function splitInto(text: string, parts: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / parts));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
