// Issue 12.5 on the real server: a cap on WebSocket clients, a cap on what one client may leave unread (1013), and clients that never read cannot grow memory.
import { connect as tcpConnect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CLOSE_TRY_AGAIN_LATER } from '../../server/event-stream.js';
import { startServer, type RunningServer } from '../../server/start.js';
import { waitFor } from '../support/wait.js';
import { FakeService } from './fake-service.js';

const running: RunningServer[] = [];
const sockets: { destroy(): void }[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(running.splice(0).map((server) => server.close()));
});

async function start(service: FakeService, options: Partial<Parameters<typeof startServer>[0]> = {}): Promise<RunningServer> {
  const server = await startServer({ service, host: '127.0.0.1', port: 0, logError: () => {}, ...options });
  running.push(server);
  return server;
}

function client(server: RunningServer, query = '?after=0') {
  const ws = new WebSocket(`${server.url.replace('http:', 'ws:')}/ws${query}`);
  sockets.push({ destroy: () => ws.terminate() });
  ws.on('error', () => {});
  const opened = new Promise<void>((resolve) => ws.once('open', () => resolve()));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  return { ws, opened, closed };
}

/** A WebSocket handshake on a raw socket that then never reads: the client the probe used. */
function neverReads(server: RunningServer): Socket {
  const { port } = new URL(server.url);
  const socket = tcpConnect(Number(port), '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => {});
  socket.write(
    `GET /ws?after=0 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  // no 'data' listener and paused: after its small buffer fills, the kernel's window closes and the server must hold the rest
  socket.pause();
  return socket;
}

/** A burst of `count` events of about `bytes` each, one burst per macrotask, as the runner publishes a commit. */
async function flood(service: FakeService, bursts: number, perBurst: number, bytes: number): Promise<void> {
  const payload = { pad: 'x'.repeat(bytes) }; // one object for every event: the service's own memory stays small
  for (let b = 0; b < bursts; b++) {
    for (let i = 0; i < perBurst; i++) service.push('command:progress', payload);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('WebSocket limits', () => {
  it('closes the client past the cap with 1013 at once, and takes a new one when a place is free', async () => {
    const service = new FakeService();
    const server = await start(service, { maxClients: 3 });
    const first = [client(server), client(server), client(server)];
    await Promise.all(first.map((c) => c.opened));
    const extra = client(server);
    expect(await extra.closed).toEqual({ code: CLOSE_TRY_AGAIN_LATER, reason: 'too many clients (at most 3)' });
    first[0]!.ws.close();
    await first[0]!.closed;
    const next = client(server);
    await next.opened;
    service.push('command:progress', {});
    await waitFor(() => service.subscriberCount === 3 || null, 'three subscribers');
  });

  it('a slow client is closed with the documented 1013 (not 1006) once it reads again, with the id to resume after', async () => {
    const service = new FakeService();
    const server = await start(service, { stream: { maxBufferedBytes: 256 * 1024 } });
    const slow = client(server);
    await slow.opened;
    await waitFor(() => service.subscriberCount === 1 || null, 'the subscription');
    slow.ws.pause();
    await flood(service, 400, 20, 2_000);
    await waitFor(() => service.subscriberCount === 0 || null, 'the server to give up on the slow client');
    slow.ws.resume();
    const closed = await slow.closed;
    expect(closed.code).toBe(CLOSE_TRY_AGAIN_LATER);
    expect(closed.reason).toMatch(/^too slow: reconnect with \?after=\d+$/);
  });

  it('30 clients that never read do not grow the server without bound: each is cut, and memory stays flat', async () => {
    const service = new FakeService();
    const server = await start(service, { stream: { slowCloseGraceMs: 200 } });
    const idle = Array.from({ length: 30 }, () => neverReads(server));
    await waitFor(() => service.subscriberCount === 30 || null, '30 subscribers');
    const before = process.memoryUsage().rss;
    // 12 MB of events per client: without the caps the server would hold 30 x 12 MB = 360 MB of unsent data
    await flood(service, 300, 20, 2_000);
    await waitFor(() => service.subscriberCount === 0 || null, 'every never-reading client closed');
    // each socket is cut after its grace, so what it held is freed
    await new Promise((resolve) => setTimeout(resolve, 500));
    const grown = process.memoryUsage().rss - before;
    console.log(`RSS grew ${(grown / 1048576).toFixed(1)} MB with ${idle.length} clients that never read`);
    expect(grown).toBeLessThan(120 * 1024 * 1024);
  });
});
