// Who is the operator: the serve token (kept owner-only beside the database), the cookie it is exchanged for, and the check on every request.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, lstatSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import type { MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { jsonError } from './errors.js';

/** What the app needs to check a request: the secret and the name of the cookie that carries it. */
export interface AuthOptions {
  token: string;
  /** per port, because browsers share cookies between all ports of one host */
  cookieName: () => string;
}

/** 32 random bytes, URL-safe: nothing to guess, nothing to escape in a URL. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** the cookie lives as long as the token file, so a restart of serve does not log the open tab out */
const COOKIE_MAX_AGE_S = 30 * 24 * 3600;

export function cookieNameFor(port: number): string {
  return `sprint-runner-token-${port}`;
}

/** Where serve keeps its token: beside the database, so each database (and so each project) has its own. */
export function tokenFileFor(dbFile: string): string {
  return `${dbFile}.token`;
}

/**
 * The token kept in `file`, or a new one written there with mode 0600. A file that another user owns, that
 * others can read or write, that is not a plain file or holds no valid token is replaced: the token is only
 * secret while only this user can read it.
 */
export function loadOrCreateToken(file: string): string {
  const uid = process.getuid?.();
  try {
    const stat = lstatSync(file);
    const trusted = stat.isFile() && (stat.mode & 0o077) === 0 && (uid === undefined || stat.uid === uid);
    if (trusted) {
      const token = readFileSync(file, 'utf8').trim();
      if (TOKEN_PATTERN.test(token)) return token;
    }
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw tokenFileError(file, error);
  }
  const token = randomBytes(32).toString('base64url');
  try {
    // wx: never through a file or link someone else put there in the meantime; 0600 from the first byte
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, `${token}\n`);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw tokenFileError(file, error);
  }
  return token;
}

function tokenFileError(file: string, error: unknown): Error {
  return new Error(`Cannot keep the dashboard token in ${file}: ${(error as Error).message}. Fix the folder's permissions, or pass --no-auth behind your own proxy.`, {
    cause: error,
  });
}

function sameSecret(presented: string | undefined, token: string): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

const isApi = (path: string) => path === '/api' || path.startsWith('/api/') || path === '/ws' || path.startsWith('/ws/');

/** What a browser without the cookie sees instead of the dashboard. */
const SIGN_IN_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sprint-runner: open the dashboard URL</title>
<style>body{font:16px system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}code{background:#eee;padding:0 .25em}</style></head>
<body><h1>Open the URL printed by <code>sprint-runner serve</code></h1>
<p>This dashboard can start agents on your machine, so it answers only the browser that opened the link
<code>serve</code> printed when it started (<code>dashboard: http://127.0.0.1:…/?token=…</code>). Open that link once;
this browser then stays signed in, across restarts of <code>serve</code>.</p>
<p>The token is also in the <code>.token</code> file beside the database (readable by you alone).</p></body></html>`;

/**
 * Requires the token on every request: the `Authorization: Bearer` header (scripts), or the cookie (the
 * dashboard and its WebSocket). A GET of a page with `?token=` sets the cookie (HttpOnly, SameSite=Strict) and
 * redirects to the same URL without it, so the secret leaves the address bar and the history.
 */
export function authCheck(auth: AuthOptions): MiddlewareHandler {
  return async (c, next) => {
    const path = c.req.path;
    const fromQuery = c.req.query('token');
    if (fromQuery !== undefined && c.req.method === 'GET' && !isApi(path) && sameSecret(fromQuery, auth.token)) {
      setCookie(c, auth.cookieName(), auth.token, { httpOnly: true, sameSite: 'Strict', path: '/', maxAge: COOKIE_MAX_AGE_S });
      const url = new URL(c.req.url);
      url.searchParams.delete('token');
      return c.redirect(`${url.pathname}${url.search}`, 303);
    }
    if (sameSecret(bearer(c.req.header('authorization')), auth.token) || sameSecret(getCookie(c, auth.cookieName()), auth.token)) return next();
    c.header('WWW-Authenticate', 'Bearer realm="sprint-runner"');
    if (c.req.method === 'GET' && !isApi(path)) return c.html(SIGN_IN_PAGE, 401);
    return jsonError(c, 401, 'Not signed in: open the dashboard URL that serve printed (it carries ?token=), or send Authorization: Bearer <token>', 'unauthorized');
  };
}
