// GET /ws: the WebSocket that replays stored events after the client's last id and then streams live ones.
import { upgradeWebSocket } from '@hono/node-server';
import { Hono } from 'hono';
import { jsonError } from './errors.js';
import { EventStream, parseAfter, type StreamOptions, type StreamSocket } from './event-stream.js';
import type { SprintService } from './service.js';

export function wsRoutes(service: SprintService, options: Partial<StreamOptions>, logError: (error: unknown) => void): Hono {
  return new Hono()
    .get(
      '/',
      // checked before the handshake so a bad `after` is an HTTP 400, not an open socket closed at once
      async (c, next) => {
        if (parseAfter(c.req.query('after')) === 'invalid') return jsonError(c, 400, 'after must be a whole number');
        await next();
      },
      upgradeWebSocket((c) => {
        // runs for every GET /ws, upgrade or not, so it only prepares: the subscription starts in onOpen
        const after = parseAfter(c.req.query('after'));
        let stream: EventStream | null = null;
        return {
          onOpen(_event, ws) {
            // node-server hands over the `ws` WebSocket our WebSocketServer created; its type only names a subset
            stream = new EventStream(service, ws.raw as unknown as StreamSocket, options, logError);
            stream.open(after === 'invalid' ? null : after);
          },
          onMessage(event) {
            stream?.receive(event.data);
          },
          onClose() {
            stream?.dispose();
          },
          onError() {
            stream?.dispose();
          },
        };
      }),
    )
    .get('/', (c) => jsonError(c, 426, 'WebSocket upgrade required'));
}
