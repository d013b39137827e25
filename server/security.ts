// Who may talk to the server: Host and Origin checks (DNS rebinding, cross-site requests) and the JSON-only rule for request bodies.
import type { MiddlewareHandler } from 'hono';
import { jsonError } from './errors.js';

/** Names every loopback server answers to; a browser on this machine uses one of them. */
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];
/** Bind addresses that name no single interface, so they add no name a browser could use. */
const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::', '[::]']);

/**
 * The canonical `host:port` of a Host header value, or null when it is not a plain `host[:port]`.
 * The WHATWG URL parser lower-cases, compresses IPv6 and drops the default port, so we add it back:
 * `LOCALHOST`, `localhost:80` and `localhost` (port 80) all compare equal.
 */
export function canonicalHost(value: string): string | null {
  // userinfo, paths and whitespace would let `evil@localhost:1` or `localhost:1/x` parse as an allowed host
  if (value === '' || /[\s/?#@\\]/.test(value)) return null;
  let url: URL;
  try {
    url = new URL(`http://${value}`);
  } catch {
    return null;
  }
  return `${url.hostname}:${url.port || '80'}`;
}

/** The canonical `host:port` an Origin header names, or null unless it is a plain `http://host[:port]` origin. */
export function canonicalOrigin(value: string): string | null {
  const match = /^http:\/\/([^/]+)$/i.exec(value);
  return match?.[1] === undefined ? null : canonicalHost(match[1]);
}

/**
 * The `host:port` values requests may name in Host and Origin: the loopback names and, when the server is
 * bound to one particular address or name, that one too. A function of the port actually listened on,
 * so port 0 works.
 */
export function allowedHostsFor(boundHost: string, port: number): Set<string> {
  const names = [...LOOPBACK_NAMES];
  if (!WILDCARD_HOSTS.has(boundHost)) names.push(boundHost.includes(':') && !boundHost.startsWith('[') ? `[${boundHost}]` : boundHost);
  const allowed = new Set<string>();
  for (const name of names) {
    const canonical = canonicalHost(`${name}:${port}`);
    if (canonical !== null) allowed.add(canonical);
  }
  return allowed;
}

/**
 * Refuses any request, upgrades included, whose Host is not one of ours. A DNS-rebinding page reaches
 * 127.0.0.1 under its own name (evil.example:port), so its Host gives it away even though the browser
 * believes the request is same-origin.
 */
export function hostCheck(allowedHosts: () => ReadonlySet<string>): MiddlewareHandler {
  return async (c, next) => {
    // app.request() in tests builds requests without a Host header; the URL carries the host then
    const host = canonicalHost(c.req.header('host') ?? new URL(c.req.url).host);
    if (host === null || !allowedHosts().has(host)) return jsonError(c, 403, 'Forbidden host');
    await next();
  };
}

/** Methods that change nothing; every other method must come from our own pages. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses state-changing requests and WebSocket upgrades that carry a foreign Origin. Browsers send Origin
 * on every cross-site POST and every WebSocket handshake, and WebSockets are not covered by CORS at all, so
 * this is what stops another page from starting agents. A request without Origin (curl, tests) is not from
 * a browser page and passes.
 */
export function originCheck(allowedHosts: () => ReadonlySet<string>): MiddlewareHandler {
  return async (c, next) => {
    const changesState = !SAFE_METHODS.has(c.req.method) || c.req.header('upgrade') !== undefined;
    const origin = c.req.header('origin');
    if (changesState && origin !== undefined) {
      const host = canonicalOrigin(origin);
      if (host === null || !allowedHosts().has(host)) return jsonError(c, 403, 'Forbidden origin');
    }
    await next();
  };
}

/**
 * Requires `Content-Type: application/json` on every state-changing request, empty body or not. A cross-site
 * HTML form or a no-CORS fetch can only send form or text types without a preflight, so even a browser that
 * omits Origin cannot make one of these requests from another page.
 */
export function jsonBodyOnly(): MiddlewareHandler {
  return async (c, next) => {
    if (!SAFE_METHODS.has(c.req.method)) {
      const mediaType = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase();
      if (mediaType !== 'application/json') return jsonError(c, 415, 'Content-Type must be application/json (send {} for an empty body)');
    }
    await next();
  };
}

/**
 * Forbids framing: the Host and Origin checks cannot see a page that frames the dashboard and tricks a
 * click on its buttons, because the framed page's own requests are genuinely same-origin.
 */
export function noFraming(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.header('X-Frame-Options', 'DENY');
    c.header('Content-Security-Policy', "frame-ancestors 'none'");
    c.header('X-Content-Type-Options', 'nosniff');
  };
}
