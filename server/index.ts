// The server's public surface: build the app (no I/O) or start the whole server.
export { createApp, type AppDeps } from './app.js';
export { startServer, listenError, DEFAULT_HOST, DEFAULT_PORT, type StartServerOptions, type RunningServer } from './start.js';
export { allowedHostsFor } from './security.js';
export { DEFAULT_STREAM_OPTIONS, type StreamOptions } from './event-stream.js';
export { DEFAULT_CYCLES } from './routes/batch.js';
export { ServiceError, type SprintService, type ApiState, type ApiStatus, type StoredEvent } from './service.js';
