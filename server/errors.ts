// How failures become JSON: every error response is `{ "error": "<message>" }` with its status code.
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ServiceError } from './service.js';

export function jsonError(c: Context, status: ContentfulStatusCode, message: string): Response {
  return c.json({ error: message }, status);
}

/** A 400 for a request the API itself finds malformed (the service's own 4xx come as ServiceError). */
export function badRequest(message: string): HTTPException {
  return new HTTPException(400, { message });
}

/**
 * ServiceError and HTTPException keep their status; anything else is a bug or an I/O failure, so it is
 * logged and answered with a 500 naming it, and the server carries on with the next request.
 */
export function errorHandler(logError: (error: unknown) => void): ErrorHandler {
  return (error, c) => {
    if (error instanceof ServiceError) return jsonError(c, error.status, error.message);
    if (error instanceof HTTPException) return jsonError(c, error.status, error.message || 'Request failed');
    logError(error);
    return jsonError(c, 500, error instanceof Error ? error.message : String(error));
  };
}

export const notFound: NotFoundHandler = (c) => jsonError(c, 404, `Not found: ${c.req.method} ${c.req.path}`);
