// The --notify-url webhook against a real receiver on 127.0.0.1: the payload of each kind, one retry, and a receiver that fails or hangs never touching the run.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunnerEvent } from '../../machines/runner-api.js';
import { serve, type Serving } from '../../server/main.js';
import { checkNotifyUrl, createNotifier, type Notification } from '../../server/notify.js';
import { makeProject, SIM_CLAUDE } from '../support/scenario.js';
import { waitFor } from '../support/wait.js';

interface Received {
  body: Notification;
  contentType: string | undefined;
}

const servers: Server[] = [];
const servings: Serving[] = [];
afterEach(async () => {
  for (const serving of servings.splice(0)) await serving.close();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A receiver on 127.0.0.1 that answers each request with the next of `answers` (then 204); `hang` never answers. */
async function receiver(answers: (number | 'hang')[] = []) {
  const received: Received[] = [];
  let requests = 0;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    requests++;
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const answer = answers.shift() ?? 204;
      if (answer === 'hang') return;
      if (answer < 300) received.push({ body: JSON.parse(body) as Notification, contentType: request.headers['content-type'] });
      response.writeHead(answer).end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, requests: () => requests };
}

const event = (e: Omit<RunnerEvent, 'id' | 'ts'> & { ts?: number }): RunnerEvent => ({ id: 1, ts: Date.UTC(2026, 0, 2, 3, 4, 5), ...e }) as RunnerEvent;

describe('the notifier', () => {
  it('posts one JSON notification per batch end, error, blocked story and usage-limit wait, and nothing for other events', async () => {
    const hook = await receiver();
    const logs: string[] = [];
    const notifier = createNotifier({ url: hook.url, project: '/p', batchId: () => 4, log: (m) => logs.push(m) });
    notifier.listener(event({ type: 'command:start', payload: { runId: 'r', command: 'dev-story', kind: 'dev-story', stories: [], model: null, background: false, reviewAttempt: null, attempt: 1 } }));
    notifier.listener(event({ type: 'error', payload: { scope: 'command', command: 'dev-story', story: '1-1', message: 'dev-story failed (crash): exit 1' } }));
    notifier.listener(event({ type: 'story:status', payload: { story: { key: '1-1-alpha', shortId: '1-1', epicId: '1' }, status: 'blocked', reason: '3 consecutive errors' } }));
    notifier.listener(event({ type: 'story:status', payload: { story: { key: '1-2-beta', shortId: '1-2', epicId: '1' }, status: 'done', reason: 'review clean' } }));
    notifier.listener(event({ type: 'usage-limit', payload: { command: 'dev-story', until: Date.UTC(2026, 0, 2, 8) } }));
    notifier.listener(event({ type: 'batch:end', payload: { status: 'completed', message: 'Sprint complete: 0 done, 1 blocked', cyclesCompleted: 0, done: 0, blocked: 1 } }));
    await notifier.close(10_000);
    const common = { at: '2026-01-02T03:04:05.000Z', project: '/p', batchId: 4 };
    expect(hook.received.map((r) => r.contentType)).toEqual(Array(4).fill('application/json'));
    expect(hook.received.map((r) => r.body).sort((a, b) => a.kind.localeCompare(b.kind))).toEqual([
      { ...common, kind: 'batch-end', message: 'batch completed: Sprint complete: 0 done, 1 blocked', status: 'completed', cyclesCompleted: 0, done: 0, blocked: 1 },
      { ...common, kind: 'error', message: 'dev-story failed (crash): exit 1', scope: 'command', command: 'dev-story', story: '1-1' },
      { ...common, kind: 'story-blocked', message: 'story 1-1-alpha blocked: 3 consecutive errors', story: '1-1-alpha', reason: '3 consecutive errors' },
      { ...common, kind: 'usage-limit', message: 'usage limit reached (dev-story): waiting until 2026-01-02T08:00:00.000Z', until: '2026-01-02T08:00:00.000Z', command: 'dev-story' },
    ]);
    expect(logs).toEqual([]);
  });

  it('retries once after a failure, then delivers', async () => {
    const hook = await receiver([503]);
    const logs: string[] = [];
    const notifier = createNotifier({ url: hook.url, project: '/p', batchId: () => 1, log: (m) => logs.push(m), retryDelayMs: 10 });
    notifier.listener(event({ type: 'batch:end', payload: { status: 'error', message: 'boom', cyclesCompleted: 1 } }));
    await notifier.close(10_000);
    expect(hook.requests()).toBe(2);
    expect(hook.received.map((r) => r.body.kind)).toEqual(['batch-end']);
    expect(logs).toEqual([]);
  });

  it('gives up after the retry and says so in the log, naming the kind, the URL and the cause', async () => {
    const hook = await receiver([500, 500]);
    const logs: string[] = [];
    const notifier = createNotifier({ url: hook.url, project: '/p', batchId: () => 1, log: (m) => logs.push(m), retryDelayMs: 10 });
    notifier.listener(event({ type: 'batch:end', payload: { status: 'error', message: 'boom', cyclesCompleted: 1 } }));
    await notifier.close(10_000);
    expect(hook.requests()).toBe(2);
    expect(logs).toEqual([`notify: could not deliver the batch-end notification to ${hook.url}: HTTP 500`]);
  });

  it('a receiver that never answers times out; the listener returned at once', async () => {
    const hook = await receiver(['hang', 'hang']);
    const logs: string[] = [];
    const notifier = createNotifier({ url: hook.url, project: '/p', batchId: () => 1, log: (m) => logs.push(m), timeoutMs: 2_000, retryDelayMs: 10 });
    notifier.listener(event({ type: 'error', payload: { scope: 'runner', message: 'internal error' } }));
    // the listener only started the delivery: nothing has reached the receiver yet
    expect(hook.requests()).toBe(0);
    await notifier.close(10_000);
    expect(hook.requests()).toBe(2);
    expect(logs).toEqual([`notify: could not deliver the error notification to ${hook.url}: no answer within 2000 ms`]);
  });

  it('a receiver that is not there is logged, never thrown', async () => {
    const hook = await receiver();
    const url = hook.url;
    const server = servers.pop()!;
    await new Promise((resolve) => server.close(resolve));
    const logs: string[] = [];
    const notifier = createNotifier({ url, project: '/p', batchId: () => 1, log: (m) => logs.push(m), retryDelayMs: 10 });
    expect(() => notifier.listener(event({ type: 'error', payload: { scope: 'runner', message: 'x' } }))).not.toThrow();
    await notifier.close(10_000);
    expect(logs).toEqual([expect.stringMatching(new RegExp(`^notify: could not deliver the error notification to ${url}: .*ECONNREFUSED`))]);
  });

  it.each(['not a url', 'ftp://127.0.0.1/x', 'file:///etc/passwd'])('refuses --notify-url %j at start-up', (url) => {
    expect(() => checkNotifyUrl(url)).toThrow(/--notify-url must be an http:\/\/ or https:\/\/ URL/);
  });
});

describe('serve --notify-url', () => {
  it('reports the failed commands, the blocked story and the batch end of a real run, and the run is as without it', async () => {
    const hook = await receiver([500]); // the first delivery fails once: the retry carries it, the run never waits
    const root = makeProject({ developmentStatus: '  epic-1: in-progress\n  1-1-alpha: in-progress\n', scenario: { stories: { '1-1': { run: { 'dev-story': ['crash', 'crash', 'crash'] } } } } });
    const logs: string[] = [];
    const serving = await serve({
      projectRoot: root,
      dbFile: path.join(root, 'runner.db'),
      port: 0,
      claudeBin: SIM_CLAUDE,
      env: { SPRINT_SIM_PACE_MS: '0', IS_SANDBOX: '1' },
      notifyUrl: hook.url,
      logNotify: (m) => logs.push(m),
    });
    servings.push(serving);
    await serving.runner.start({ cycles: 1 });
    const output = await serving.runner.done();
    expect(output).toMatchObject({ type: 'ok', message: 'Sprint complete: 0 done, 1 blocked' });
    // the first delivery's retry comes 2 s later, possibly after the batch end: wait for both
    await waitFor(
      () => (hook.received.some((r) => r.body.kind === 'batch-end') && hook.received.filter((r) => r.body.kind === 'error').length >= 3) || null,
      'the batch-end notification and the retried first error',
      30_000,
    );
    const kinds = hook.received.map((r) => r.body.kind);
    expect(kinds.filter((k) => k === 'error')).toHaveLength(3);
    expect(kinds.filter((k) => k === 'story-blocked')).toHaveLength(1);
    expect(hook.received.find((r) => r.body.kind === 'story-blocked')!.body).toMatchObject({ story: '1-1-alpha', reason: '3 consecutive errors', project: serving.layout.root, batchId: 1 });
    expect(hook.received.find((r) => r.body.kind === 'batch-end')!.body).toMatchObject({ status: 'completed', message: 'batch completed: Sprint complete: 0 done, 1 blocked', batchId: 1 });
    expect(logs).toEqual([]);
  });
});
