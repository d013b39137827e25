// How failures become JSON: every error response is `{ "error": "<message>", "code": "<code>" }` with its status code.
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { RunnerError, type RunnerErrorCode } from '../machines/runner-errors.js';
import { ServiceError } from './service.js';

/** The code of an error response that has no more specific one, by status. */
const CODE_OF_STATUS: Partial<Record<number, string>> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
  413: 'body-too-large',
  415: 'unsupported-media-type',
  426: 'upgrade-required',
  500: 'internal',
};

export function jsonError(c: Context, status: ContentfulStatusCode, message: string, code = CODE_OF_STATUS[status] ?? 'error', details: Record<string, unknown> = {}): Response {
  return c.json({ ...details, error: message, code }, status);
}

/** Each runner error code's HTTP status: the only place a runner failure becomes an HTTP answer. */
const RUNNER_ERROR_STATUS: Record<RunnerErrorCode, 400 | 409 | 503> = {
  'already-active': 409,
  'nothing-to-resume': 409,
  'resumable-batch': 409,
  'version-mismatch': 409,
  'bad-cycles': 400,
  halted: 503,
  'bad-budget': 400,
  'budget-reached': 409,
  'no-batch': 409,
};

/** A runner error as the API answers it, keeping its code and the batch it names. */
export function serviceErrorOf(error: RunnerError): ServiceError {
  return new ServiceError(error.message, RUNNER_ERROR_STATUS[error.code], error.code, error.batchId === null ? {} : { batchId: error.batchId });
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
    if (error instanceof ServiceError) return jsonError(c, error.status, error.message, error.code, error.details);
    if (error instanceof HTTPException) return jsonError(c, error.status, error.message || 'Request failed');
    logError(error);
    return jsonError(c, 500, error instanceof Error ? error.message : String(error));
  };
}

export const notFound: NotFoundHandler = (c) => jsonError(c, 404, `Not found: ${c.req.method} ${c.req.path}`);
