// The real server on 127.0.0.1 port 0 with `ws` clients: hello, replay across reconnects while events flow, refused upgrades, listen errors, close.
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../../server/start.js';
import type { StoredEvent } from '../../server/service.js';
import { waitFor } from '../support/wait.js';
import { FakeService } from './fake-service.js';

const running: RunningServer[] = [];
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await Promise.all(running.splice(0).map((server) => server.close()));
});

async function start(service: FakeService, options: Partial<Parameters<typeof startServer>[0]> = {}): Promise<RunningServer> {
  const server = await startServer({ service, host: '127.0.0.1', port: 0, stream: { helloWaitMs: 30 }, logError: () => {}, ...options });
  running.push(server);
  return server;
}

interface Client {
  ws: WebSocket;
  messages: StoredEvent[];
  closed: Promise<{ code: number; reason: string }>;
}

function connect(url: string, options: WebSocket.ClientOptions = {}): Client {
  const ws = new WebSocket(url, options);
  sockets.push(ws);
  const messages: StoredEvent[] = [];
  // each message is an array of events; the tests look at the events
  ws.on('message', (data) => messages.push(...(JSON.parse(String(data)) as StoredEvent[])));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  ws.on('error', () => {});
  return { ws, messages, closed };
}

/** The HTTP status a refused upgrade answers with. */
function refusedStatus(url: string, options: WebSocket.ClientOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    sockets.push(ws);
    ws.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => reject(new Error('the upgrade was accepted')));
    ws.on('error', () => {});
  });
}

const wsUrl = (server: RunningServer, query = '') => `${server.url.replace('http:', 'ws:')}/ws${query}`;
const ids = (messages: StoredEvent[]) => messages.filter((message) => message.type !== 'hello').map((message) => message.id);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('hello without after', () => {
  it('sends the state as hello, then live events only', async () => {
    const service = new FakeService();
    for (let i = 0; i < 5; i++) service.push();
    const server = await start(service);
    const client = connect(wsUrl(server));
    await waitFor(() => client.messages.length === 1, 'the hello');
    expect(client.messages[0]).toEqual({ id: 5, type: 'hello', ts: expect.any(Number), payload: expect.objectContaining({ status: 'idle', lastEventId: 5 }) });
    service.push('state', { status: 'running' });
    await waitFor(() => client.messages.length === 2, 'a live event');
    expect(client.messages[1]).toEqual({ id: 6, type: 'state', ts: expect.any(Number), payload: { status: 'running' } });
  });

  it('a first {"type":"hello"} without after skips the wait', async () => {
    const service = new FakeService();
    const server = await start(service, { stream: { helloWaitMs: 60_000 } });
    const client = connect(wsUrl(server));
    client.ws.on('open', () => client.ws.send(JSON.stringify({ type: 'hello' })));
    await waitFor(() => client.messages.length === 1, 'the hello', 5_000);
    expect(client.messages[0]?.type).toBe('hello');
  });
});

describe('replay', () => {
  it('?after replays stored events past it, without a hello, then goes live', async () => {
    const service = new FakeService();
    for (let i = 0; i < 12; i++) service.push();
    const server = await start(service, { stream: { pageSize: 5 } });
    const client = connect(wsUrl(server, '?after=3'));
    await waitFor(() => client.messages.length === 9, 'the replay');
    service.push();
    await waitFor(() => client.messages.length === 10, 'a live event');
    expect(client.messages.map((message) => message.id)).toEqual(range(4, 13));
  });

  it('a first {"type":"hello","after":n} message replays like ?after', async () => {
    const service = new FakeService();
    for (let i = 0; i < 8; i++) service.push();
    const server = await start(service, { stream: { helloWaitMs: 60_000 } });
    const client = connect(wsUrl(server));
    client.ws.on('open', () => client.ws.send(JSON.stringify({ type: 'hello', after: 6 })));
    await waitFor(() => client.messages.length === 2, 'the replay', 5_000);
    expect(client.messages.map((message) => message.id)).toEqual([7, 8]);
  });

  it('a bad hello.after closes with 1008', async () => {
    const service = new FakeService();
    const server = await start(service, { stream: { helloWaitMs: 60_000 } });
    const client = connect(wsUrl(server));
    client.ws.on('open', () => client.ws.send(JSON.stringify({ type: 'hello', after: -4 })));
    expect((await client.closed).code).toBe(1008);
  });

  it.each([
    ['the pending list', { pageSize: 25 }],
    ['an overflowing pending list read back from storage', { pageSize: 25, maxPendingEvents: 3 }],
  ])('reconnecting with the last id while events flow loses and repeats nothing (%s)', async (_name, stream) => {
    const service = new FakeService();
    // slow answers and small pages: live events keep arriving during every replay, and only as live events
    service.readDelayMs = 2;
    for (let i = 0; i < 300; i++) service.push();
    const server = await start(service, { stream });
    const TOTAL = 3000;
    const producer = setInterval(() => {
      for (let i = 0; i < 5 && service.lastEventId < TOTAL; i++) service.push('command:progress', { n: service.lastEventId + 1 });
    }, 1);
    try {
      const received: number[] = [];
      let lastId = 0;
      for (let round = 0; lastId < TOTAL; round++) {
        const client = connect(wsUrl(server, `?after=${lastId}`));
        let seen = 0;
        client.ws.on('message', () => {
          for (const event of client.messages.slice(seen)) {
            received.push(event.id);
            lastId = event.id;
          }
          seen = client.messages.length;
        });
        // drop the connection after a few events, except at the end, so reconnects land mid-replay and mid-live
        const target = round < 12 ? lastId + 37 + round * 11 : TOTAL;
        await waitFor(() => lastId >= Math.min(target, TOTAL), `event ${target}`, 20_000);
        client.ws.close();
        await client.closed;
      }
      expect(received).toEqual(range(1, received.length));
      expect(received.at(-1)).toBeGreaterThanOrEqual(TOTAL);
    } finally {
      clearInterval(producer);
    }
  });

  it('a second client in parallel gets the same events', async () => {
    const service = new FakeService();
    const server = await start(service);
    const a = connect(wsUrl(server, '?after=0'));
    const b = connect(wsUrl(server, '?after=0'));
    await Promise.all([a, b].map((client) => new Promise((resolve) => client.ws.on('open', resolve))));
    await waitFor(() => service.subscriberCount === 2, 'two subscribers');
    for (let i = 0; i < 50; i++) service.push();
    await waitFor(() => a.messages.length === 50 && b.messages.length === 50, 'both feeds');
    expect(ids(a.messages)).toEqual(ids(b.messages));
  });

  it('unsubscribes when the client goes', async () => {
    const service = new FakeService();
    const server = await start(service);
    const client = connect(wsUrl(server, '?after=0'));
    await waitFor(() => service.subscriberCount === 1, 'the subscription');
    client.ws.close();
    await client.closed;
    await waitFor(() => service.subscriberCount === 0, 'the unsubscription');
  });
});

describe('refused upgrades', () => {
  it('a foreign Origin gets 403 before the handshake', async () => {
    const service = new FakeService();
    const server = await start(service);
    expect(await refusedStatus(wsUrl(server), { origin: 'http://evil.example' })).toBe(403);
    expect(service.subscriberCount).toBe(0);
  });

  it('our own Origin is accepted', async () => {
    const service = new FakeService();
    const server = await start(service);
    const client = connect(wsUrl(server), { origin: server.url });
    await waitFor(() => client.messages.length === 1, 'the hello');
  });

  it('a foreign Host gets 403 (DNS rebinding)', async () => {
    const service = new FakeService();
    const server = await start(service);
    expect(await refusedStatus(wsUrl(server), { headers: { Host: 'evil.example:80' } })).toBe(403);
    expect(await refusedStatus(wsUrl(server), { headers: { Host: `evil.example:${server.port}` } })).toBe(403);
  });

  it('a bad after gets 400', async () => {
    const server = await start(new FakeService());
    expect(await refusedStatus(wsUrl(server, '?after=x'))).toBe(400);
  });
});

describe('HTTP on the real server', () => {
  const call = (server: RunningServer, path: string, headers: Record<string, string>, method = 'GET') =>
    new Promise<number>((resolve, reject) => {
      const req = request(`${server.url}${path}`, { method, headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });

  it('answers our own host and refuses another', async () => {
    const server = await start(new FakeService());
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(await call(server, '/api/state', {})).toBe(200);
    expect(await call(server, '/api/state', { Host: `localhost:${server.port}` })).toBe(200);
    expect(await call(server, '/api/state', { Host: 'evil.example:80' })).toBe(403);
    expect(await call(server, '/api/batch/start', { Origin: 'http://evil.example' }, 'POST')).toBe(403);
  });

  it('fetch works end to end', async () => {
    const server = await start(new FakeService());
    const response = await fetch(`${server.url}/api/batch/start`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"cycles":"all"}' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, state: expect.objectContaining({ status: 'running' }) });
  });
});

describe('listening and closing', () => {
  it('a port in use is a clear error', async () => {
    const first = await start(new FakeService());
    await expect(startServer({ service: new FakeService(), host: '127.0.0.1', port: first.port })).rejects.toThrow(
      `Port ${first.port} is already in use on 127.0.0.1; pass --port to choose another`,
    );
  });

  it('an address that is not ours is named', async () => {
    await expect(startServer({ service: new FakeService(), host: '192.0.2.1', port: 0 })).rejects.toThrow(/192\.0\.2\.1/);
  });

  it('close() closes every client with 1001 and stops listening', async () => {
    const service = new FakeService();
    const server = await start(service);
    const a = connect(wsUrl(server, '?after=0'));
    const b = connect(wsUrl(server));
    await waitFor(() => service.subscriberCount === 2, 'two subscribers');
    await server.close();
    expect((await a.closed).code).toBe(1001);
    expect((await b.closed).code).toBe(1001);
    expect(service.subscriberCount).toBe(0);
    await expect(fetch(`${server.url}/api/state`)).rejects.toThrow();
  });

  it('close() also ends a client that never answers the close handshake', async () => {
    const service = new FakeService();
    const server = await start(service);
    const client = connect(wsUrl(server, '?after=0'));
    await waitFor(() => service.subscriberCount === 1, 'the subscription');
    // the server may count the subscription before the client has read the 101 and holds its socket
    await waitFor(() => client.ws.readyState === WebSocket.OPEN, 'the client to see the upgrade');
    // pausing the client's socket keeps it from reading the close frame
    (client.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('the heartbeat terminates a client that stops answering pings', async () => {
    const service = new FakeService();
    const server = await start(service, { heartbeatMs: 50 });
    const healthy = connect(wsUrl(server, '?after=0'));
    const dead = connect(wsUrl(server, '?after=0'), { autoPong: false });
    const { code } = await dead.closed;
    expect(code).toBe(1006);
    expect(healthy.ws.readyState).toBe(WebSocket.OPEN);
  });
});
