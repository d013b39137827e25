// The Hono app: security checks, the JSON API routers, the event WebSocket and the dashboard's static files. No I/O here.
import { serveStatic } from '@hono/node-server/serve-static';
import { authCheck, type AuthOptions } from './auth.js';
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { errorHandler, jsonError, notFound } from './errors.js';
import type { StreamOptions } from './event-stream.js';
import { batchRoutes } from './routes/batch.js';
import { sprintStatusRoutes, storyDescriptionsRoutes, machinesRoutes, taxonomyRoutes } from './routes/project.js';
import { batchesRoutes, commandsRoutes, eventsRoutes, legacyEventsRoutes, legacyRecordsRoutes, storiesRoutes, verdictsRoutes } from './routes/records.js';
import { budgetRoutes, settingsRoutes, transcriptRoutes } from './routes/sessions.js';
import { stateRoutes } from './routes/state.js';
import { hostCheck, jsonBodyOnly, noFraming, originCheck } from './security.js';
import type { SprintService } from './service.js';
import { wsRoutes } from './ws.js';

export interface AppDeps {
  service: SprintService;
  /**
   * The canonical `host:port` values a request may name (see allowedHostsFor). Read on every request
   * because the port is only known once the server listens.
   */
  allowedHosts: () => ReadonlySet<string>;
  /** a folder whose files are served at `/` (index.html for folders): the built dashboard */
  staticDir?: string;
  /** tuning for the WebSocket feed (tests make it small) */
  stream?: Partial<StreamOptions>;
  /** the token every request must carry (server/auth.ts); absent: no authentication (--no-auth, unit tests) */
  auth?: AuthOptions;
  /** where unexpected errors (the 500s) are reported; console.error by default */
  logError?: (error: unknown) => void;
}

/** Request bodies are a few bytes of JSON; a cap keeps a runaway client from filling memory. */
const MAX_BODY_BYTES = 64 * 1024;

export function createApp(deps: AppDeps): Hono {
  const { service, allowedHosts } = deps;
  const logError = deps.logError ?? ((error: unknown) => console.error('sprint-runner server:', error));
  const app = new Hono();

  app.onError(errorHandler(logError));
  app.notFound(notFound);

  // Hono's onError only sees Error instances; anything else thrown would escape as a bare 500
  app.use('*', async (_c, next) => {
    try {
      await next();
    } catch (error) {
      throw error instanceof Error ? error : new Error(String(error));
    }
  });
  // order matters: refuse foreign hosts and origins, then anyone without the token, before anything reads a
  // body or touches the service
  app.use('*', noFraming());
  app.use('*', hostCheck(allowedHosts));
  app.use('*', originCheck(allowedHosts));
  if (deps.auth) app.use('*', authCheck(deps.auth));
  app.use('*', bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => jsonError(c, 413, `Body larger than ${MAX_BODY_BYTES} bytes`) }));
  app.use('*', jsonBodyOnly());
  // API answers are live state: never let a browser or proxy serve a stale copy
  app.use('/api/*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
  });

  app.route('/api/state', stateRoutes(service));
  app.route('/api/batch', batchRoutes(service));
  app.route('/api/batches', batchesRoutes(service));
  app.route('/api/stories', storiesRoutes(service));
  app.route('/api/commands', commandsRoutes(service));
  app.route('/api/commands', transcriptRoutes(service));
  app.route('/api/budget', budgetRoutes(service));
  app.route('/api/settings', settingsRoutes(service));
  app.route('/api/events', eventsRoutes(service));
  app.route('/api/verdicts', verdictsRoutes(service));
  app.route('/api/legacy-events', legacyEventsRoutes(service));
  app.route('/api/legacy-records', legacyRecordsRoutes(service));
  app.route('/api/sprint-status', sprintStatusRoutes(service));
  app.route('/api/story-descriptions', storyDescriptionsRoutes(service));
  app.route('/api/taxonomy', taxonomyRoutes(service));
  app.route('/api/machines', machinesRoutes(service));
  app.route('/ws', wsRoutes(service, deps.stream ?? {}, logError));

  if (deps.staticDir !== undefined) {
    // files are looked up per request, so a dashboard built after start is served too; /api/* stays JSON-only
    // serveStatic checks its root on creation, so it is made on the first request: createApp does no I/O
    const root = deps.staticDir;
    let files: MiddlewareHandler | null = null;
    app.use('*', async (c, next) => {
      if (c.req.path === '/api' || c.req.path.startsWith('/api/')) return next();
      files ??= serveStatic({ root });
      return files(c, next);
    });
  }
  return app;
}
