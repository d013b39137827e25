// startServer: listens (127.0.0.1 by default), wires the WebSocket upgrade and heartbeat, and closes every socket on close().
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { WebSocketServer, type WebSocket } from 'ws';
import { createApp } from './app.js';
import type { StreamOptions } from './event-stream.js';
import { allowedHostsFor } from './security.js';
import type { SprintService } from './service.js';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8080;

export interface StartServerOptions {
  service: SprintService;
  /** the address to bind; loopback by default because the API can start agents */
  host?: string;
  /** 0 picks a free port (tests); the chosen one is in the result */
  port?: number;
  /** the built dashboard, served at `/` */
  staticDir?: string;
  /** how often each WebSocket is pinged; one that has not answered the previous ping is terminated */
  heartbeatMs?: number;
  stream?: Partial<StreamOptions>;
  logError?: (error: unknown) => void;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:4280 */
  url: string;
  port: number;
  /** stops listening, closes every WebSocket (1001) and HTTP connection, and resolves when all are gone */
  close(): Promise<void>;
}

const HEARTBEAT_MS = 30_000;
/** how long clients get to finish the closing handshake before their sockets are cut */
const CLOSE_GRACE_MS = 1_000;
/** clients send one small hello at most */
const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const host = options.host ?? DEFAULT_HOST;
  const requestedPort = options.port ?? DEFAULT_PORT;
  // empty until we listen: no request can arrive before then, and port 0 only becomes a port then
  let allowedHosts: ReadonlySet<string> = new Set();
  const app = createApp({
    service: options.service,
    allowedHosts: () => allowedHosts,
    ...(options.staticDir !== undefined && { staticDir: options.staticDir }),
    ...(options.stream !== undefined && { stream: options.stream }),
    ...(options.logError !== undefined && { logError: options.logError }),
  });

  // node-server sends each upgrade through app.fetch, so the Host and Origin checks refuse it with a 403
  // before the handshake, and the /ws route then completes it on this WebSocketServer
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES });
  const server = createAdaptorServer({ fetch: app.fetch, websocket: { server: wss } }) as Server;

  await listen(server, requestedPort, host);
  const port = (server.address() as AddressInfo).port;
  allowedHosts = allowedHostsFor(host, port);

  // a socket whose peer vanished (sleep, cable) never reports close; an unanswered ping finds it
  const alive = new WeakMap<WebSocket, boolean>();
  wss.on('connection', (ws: WebSocket) => {
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
  });
  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, options.heartbeatMs ?? HEARTBEAT_MS);
  heartbeat.unref();

  let closing: Promise<void> | null = null;
  const close = async (): Promise<void> => {
    clearInterval(heartbeat);
    const clients = [...wss.clients];
    const clientsGone = Promise.all(clients.map((ws) => (ws.readyState === ws.CLOSED ? undefined : new Promise((resolve) => ws.once('close', resolve)))));
    const serverGone = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const ws of clients) ws.close(1001, 'server closing');
    server.closeIdleConnections();
    const cut = setTimeout(() => {
      for (const ws of clients) ws.terminate();
      server.closeAllConnections();
    }, CLOSE_GRACE_MS);
    await Promise.all([clientsGone, serverGone]);
    clearTimeout(cut);
  };

  return {
    url: `http://${urlHost(host)}:${port}`,
    port,
    close: () => (closing ??= close()),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(listenError(error, host, port));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** A listen failure in words the user can act on, naming the host and port. */
export function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host}:${port}`;
  const message =
    error.code === 'EADDRINUSE'
      ? `Port ${port} is already in use on ${host}; pass --port to choose another`
      : error.code === 'EACCES'
        ? `Not allowed to listen on ${where} (ports below 1024 need privileges); pass --port to choose another`
        : error.code === 'EADDRNOTAVAIL'
          ? `Cannot listen on ${where}: ${host} is not an address of this machine`
          : error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN'
            ? `Cannot listen on ${where}: the host name ${host} does not resolve`
            : `Cannot listen on ${where}: ${error.message}`;
  return Object.assign(new Error(message, { cause: error }), { code: error.code });
}

/** The address a browser on this machine should open: a wildcard bind is reached through loopback. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
