// startServer: listens (127.0.0.1 by default), wires the WebSocket upgrade and heartbeat, and closes every socket on close().
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { WebSocketServer, type WebSocket } from 'ws';
import { createApp } from './app.js';
import { cookieNameFor } from './auth.js';
import { CLOSE_TRY_AGAIN_LATER, type StreamOptions } from './event-stream.js';
import { allowedHostsFor } from './security.js';
import type { SprintService } from './service.js';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8080;

/** Where to listen: known before anything else exists, so a port in use fails before the database is touched. */
export interface ListenOptions {
  /** the address to bind; loopback by default because the API can start agents */
  host?: string;
  /** 0 picks a free port (tests); the chosen one is in the result */
  port?: number;
}

export interface StartServerOptions extends ListenOptions {
  service: SprintService;
  /** the built dashboard, served at `/` */
  staticDir?: string;
  /** how often each WebSocket is pinged; one that has not answered the previous ping is terminated */
  heartbeatMs?: number;
  stream?: Partial<StreamOptions>;
  logError?: (error: unknown) => void;
  /** the secret every request must carry (server/auth.ts); absent or null: no authentication */
  token?: string | null;
  /** WebSocket clients at once; one more is closed at once with 1013 (default 32) */
  maxClients?: number;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:4280 */
  url: string;
  /** the URL to open once: with `?token=` when authentication is on (exchanged for a cookie, then dropped) */
  dashboardUrl: string;
  port: number;
  /** stops listening, closes every WebSocket (1001) and HTTP connection, and resolves when all are gone */
  close(): Promise<void>;
}

/** A server that listens but answers 503 until start() gives it the service. */
export interface ListeningServer {
  url: string;
  port: number;
  start(options: Omit<StartServerOptions, keyof ListenOptions>): RunningServer;
  close(): Promise<void>;
}

const HEARTBEAT_MS = 30_000;
/** how long clients get to finish the closing handshake before their sockets are cut */
const CLOSE_GRACE_MS = 1_000;
/** clients send one small hello at most */
const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;
/** a dashboard is one or two tabs; more than this is a leak or an attack, and each costs buffers */
export const DEFAULT_MAX_CLIENTS = 32;

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  return (await listenServer(options)).start(options);
}

/**
 * Binds the port first: serve calls this before it opens the database, so a port in use creates no file.
 * Requests that arrive before start() get a 503.
 */
export async function listenServer(options: ListenOptions): Promise<ListeningServer> {
  const host = options.host ?? DEFAULT_HOST;
  let handle: ((request: Request, env: unknown) => Response | Promise<Response>) | null = null;
  let maxClients = DEFAULT_MAX_CLIENTS;

  // node-server sends each upgrade through the app's fetch, so the Host, Origin and token checks refuse it
  // before the handshake, and the /ws route then completes it on this WebSocketServer
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES });
  const server = createAdaptorServer({
    fetch: (request: Request, env: unknown) =>
      handle ? handle(request, env) : Response.json({ error: 'starting: try again in a moment', code: 'starting' }, { status: 503 }),
    websocket: { server: wss },
  }) as Server;

  await listen(server, options.port ?? DEFAULT_PORT, host);
  const port = (server.address() as AddressInfo).port;
  const allowedHosts = allowedHostsFor(host, port);
  const url = `http://${urlHost(host)}:${port}`;

  // a socket whose peer vanished (sleep, cable) never reports close; an unanswered ping finds it
  const alive = new WeakMap<WebSocket, boolean>();
  wss.on('connection', (ws: WebSocket) => {
    // the cap: every client holds a subscription and up to maxBufferedBytes of unsent events
    if (wss.clients.size > maxClients) {
      ws.close(CLOSE_TRY_AGAIN_LATER, `too many clients (at most ${maxClients})`);
      return;
    }
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
  });
  let heartbeat: NodeJS.Timeout | null = null;

  let closing: Promise<void> | null = null;
  const close = async (): Promise<void> => {
    if (heartbeat) clearInterval(heartbeat);
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
  const closeOnce = () => (closing ??= close());

  return {
    url,
    port,
    close: closeOnce,
    start(startOptions) {
      const token = startOptions.token ?? null;
      maxClients = startOptions.maxClients ?? DEFAULT_MAX_CLIENTS;
      const app = createApp({
        ...(token !== null && { auth: { token, cookieName: () => cookieNameFor(port) } }),
        service: startOptions.service,
        allowedHosts: () => allowedHosts,
        ...(startOptions.staticDir !== undefined && { staticDir: startOptions.staticDir }),
        ...(startOptions.stream !== undefined && { stream: startOptions.stream }),
        ...(startOptions.logError !== undefined && { logError: startOptions.logError }),
      });
      handle = (request, env) => app.fetch(request, env);
      heartbeat = setInterval(() => {
        for (const ws of wss.clients) {
          if (alive.get(ws) === false) {
            ws.terminate();
            continue;
          }
          alive.set(ws, false);
          ws.ping();
        }
      }, startOptions.heartbeatMs ?? HEARTBEAT_MS);
      heartbeat.unref();
      return { url, dashboardUrl: token === null ? url : `${url}/?token=${token}`, port, close: closeOnce };
    },
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
