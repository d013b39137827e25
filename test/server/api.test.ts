// The HTTP API through app.request() with no port opened: routes, status codes, JSON errors, Host/Origin/Content-Type refusals, static files.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.js';
import { allowedHostsFor, canonicalHost, canonicalOrigin } from '../../server/security.js';
import { ServiceError } from '../../server/service.js';
import { FakeService } from './fake-service.js';

const PORT = 4280;
const BASE = `http://127.0.0.1:${PORT}`;
const ORIGIN = BASE;

let service: FakeService;
let logged: unknown[];
let app: ReturnType<typeof createApp>;

beforeEach(() => {
  service = new FakeService();
  logged = [];
  app = createApp({ service, allowedHosts: () => allowedHostsFor('127.0.0.1', PORT), logError: (error) => logged.push(error) });
});

const get = (path: string, headers: Record<string, string> = {}) => app.request(`${BASE}${path}`, { headers });
const post = (path: string, body?: string, headers: Record<string, string> = { 'Content-Type': 'application/json' }) =>
  app.request(`${BASE}${path}`, { method: 'POST', headers, ...(body !== undefined && { body }) });
const json = async (response: Response) => (await response.json()) as Record<string, unknown>;

describe('GET routes', () => {
  it.each<[string, string, unknown[]]>([
    ['/api/batches', 'batches', []],
    ['/api/stories', 'stories', []],
    ['/api/commands', 'commands', [{}]],
    ['/api/commands?story=1-2-logout', 'commands', [{ story: '1-2-logout' }]],
    ['/api/sprint-status', 'sprintStatus', []],
    ['/api/story-descriptions', 'storyDescriptions', []],
    ['/api/taxonomy', 'taxonomy', []],
    ['/api/machines', 'machines', []],
    ['/api/legacy-events', 'legacyEvents', []],
    ['/api/legacy-records', 'legacyRecords', []],
  ])('%s calls service.%s', async (path, method, args) => {
    const response = await get(path);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toBeTruthy();
    expect(service.calls).toEqual([{ method, args }]);
  });

  it('GET /api/state is the service state', async () => {
    service.push();
    const response = await get('/api/state');
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ status: 'idle', lastEventId: 1, batch: null });
  });

  it('GET /api/commands?story= (empty) means no filter', async () => {
    await get('/api/commands?story=');
    expect(service.calls).toEqual([{ method: 'commands', args: [{}] }]);
  });
});

describe('GET /api/events', () => {
  beforeEach(() => {
    for (let i = 0; i < 10; i++) service.push('command:progress', { i });
  });

  it('defaults to after 0, limit 500', async () => {
    const response = await get('/api/events');
    expect(response.status).toBe(200);
    const events = (await response.json()) as { id: number }[];
    expect(events.map((event) => event.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(service.calls).toEqual([{ method: 'eventsAfter', args: [0, 500] }]);
  });

  it('pages with after and limit', async () => {
    const events = (await (await get('/api/events?after=3&limit=2')).json()) as { id: number; type: string; ts: number; payload: unknown }[];
    expect(events).toEqual([
      { id: 4, type: 'command:progress', ts: expect.any(Number), payload: { i: 3 } },
      { id: 5, type: 'command:progress', ts: expect.any(Number), payload: { i: 4 } },
    ]);
  });

  it('cuts a limit above 5000 to 5000', async () => {
    await get('/api/events?limit=999999');
    expect(service.calls).toEqual([{ method: 'eventsAfter', args: [0, 5000] }]);
  });

  it.each(['after=-1', 'after=1.5', 'after=x', 'limit=0', 'limit=-3', 'limit=2.5', 'limit=abc', 'after=1e3'])('refuses %s with 400', async (query) => {
    const response = await get(`/api/events?${query}`);
    expect(response.status).toBe(400);
    expect(await json(response)).toEqual({ error: expect.stringMatching(/after|limit/), code: 'bad-request' });
    expect(service.calls).toEqual([]);
  });
});

describe('POST /api/batch/start', () => {
  it.each<[string, string | undefined, number | 'all']>([
    ['no body', undefined, 2],
    ['an empty object', '{}', 2],
    ['other fields only', '{"foo": 1}', 2],
    ['a number', '{"cycles": 3}', 3],
    ['all', '{"cycles": "all"}', 'all'],
  ])('with %s starts %s cycles', async (_name, body, cycles) => {
    const response = await post('/api/batch/start', body);
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ ok: true, state: expect.objectContaining({ status: 'running' }) });
    expect(service.calls[0]).toEqual({ method: 'start', args: [cycles, {}] });
  });

  it('passes discard: true on, and refuses a discard that is not a boolean', async () => {
    expect((await post('/api/batch/start', '{"cycles": 2, "discard": true}')).status).toBe(200);
    expect(service.calls[0]).toEqual({ method: 'start', args: [2, { discard: true }] });
    const response = await post('/api/batch/start', '{"cycles": 2, "discard": "yes"}');
    expect(response.status).toBe(400);
    expect(await json(response)).toEqual({ error: expect.stringContaining('discard'), code: 'bad-request' });
  });

  it('answers 409 resumable-batch naming the stopped batch, and discard starts a new one', async () => {
    service.status = 'stopped';
    const refused = await post('/api/batch/start', '{"cycles": 1}');
    expect(refused.status).toBe(409);
    expect(await json(refused)).toEqual({ error: expect.stringContaining('batch 1'), code: 'resumable-batch', batchId: 1 });
    const started = await post('/api/batch/start', '{"cycles": 1, "discard": true}');
    expect(started.status).toBe(200);
  });

  it.each(['{"cycles": 0}', '{"cycles": -1}', '{"cycles": 1.5}', '{"cycles": "x"}', '{"cycles": "3"}', '{"cycles": null}', '{"cycles": true}', '{cycles: 3}', '[3]', '3', 'null', '"all"'])(
    'refuses %s with 400 and never calls start',
    async (body) => {
      const response = await post('/api/batch/start', body);
      expect(response.status).toBe(400);
      expect(await json(response)).toEqual({ error: expect.stringContaining('cycles'), code: 'bad-request' });
      expect(service.calls).toEqual([]);
    },
  );

  it('answers 409 while a batch is active', async () => {
    service.status = 'running';
    const response = await post('/api/batch/start', '{"cycles": 1}');
    expect(response.status).toBe(409);
    expect(await json(response)).toEqual({ error: 'A batch is already active', code: 'already-active' });
  });

  it('accepts application/json with a charset', async () => {
    const response = await post('/api/batch/start', '{"cycles": 4}', { 'Content-Type': 'application/json; charset=utf-8' });
    expect(response.status).toBe(200);
  });
});

describe('POST /api/batch/pause|resume|stop', () => {
  it('pause, resume and stop answer ok with the new state', async () => {
    await post('/api/batch/start');
    expect(await json(await post('/api/batch/pause'))).toEqual({ ok: true, state: expect.objectContaining({ status: 'paused' }) });
    expect(await json(await post('/api/batch/resume'))).toEqual({ ok: true, state: expect.objectContaining({ status: 'running' }) });
    // the fake's stop passes through `stopping` and resolves only at `stopped`: the answer must show the end
    expect(await json(await post('/api/batch/stop'))).toEqual({ ok: true, state: expect.objectContaining({ status: 'stopped' }) });
    expect(service.calls.filter((call) => call.method !== 'state').map((call) => call.method)).toEqual(['start', 'pause', 'resume', 'stop']);
  });

  it('resume with nothing to resume is the service 409', async () => {
    const response = await post('/api/batch/resume');
    expect(response.status).toBe(409);
    expect(await json(response)).toEqual({ error: 'No batch to resume', code: 'nothing-to-resume' });
  });

  it('GET on a POST route is a JSON 404', async () => {
    const response = await get('/api/batch/start');
    expect(response.status).toBe(404);
    expect(await json(response)).toEqual({ error: expect.any(String), code: 'not-found' });
  });
});

describe('errors', () => {
  it('an unknown /api path is a JSON 404', async () => {
    for (const path of ['/api/nope', '/api', '/api/batch/explode']) {
      const response = await get(path);
      expect(response.status).toBe(404);
      expect(await json(response)).toEqual({ error: expect.stringContaining(path), code: 'not-found' });
    }
  });

  it.each([400, 404, 409, 422] as const)('a ServiceError(%i) keeps its status, message, code and details', async (status) => {
    service.fail('stories', new ServiceError(`nope ${status}`, status, `code-${status}`, { batchId: 7 }));
    const response = await get('/api/stories');
    expect(response.status).toBe(status);
    expect(await json(response)).toEqual({ error: `nope ${status}`, code: `code-${status}`, batchId: 7 });
    expect(logged).toEqual([]);
  });

  it('any other error is a logged 500 naming it, and the next request works', async () => {
    service.fail('batches', new Error('database is locked'));
    const response = await get('/api/batches');
    expect(response.status).toBe(500);
    expect(await json(response)).toEqual({ error: 'database is locked', code: 'internal' });
    expect(logged).toHaveLength(1);
    expect((await get('/api/batches')).status).toBe(200);
  });

  it('a thrown non-Error is still a 500 JSON', async () => {
    service.fail('taxonomy', 'plain string');
    const response = await get('/api/taxonomy');
    expect(response.status).toBe(500);
    expect(await json(response)).toEqual({ error: 'plain string', code: 'internal' });
  });

  it('a body over 64 KiB is a 413', async () => {
    const response = await post('/api/batch/start', JSON.stringify({ cycles: 2, pad: 'x'.repeat(70_000) }));
    expect(response.status).toBe(413);
    expect(service.calls).toEqual([]);
  });
});

describe('Host check', () => {
  it.each(['evil.example:80', 'evil.example', `evil.example:${PORT}`, '127.0.0.1:9999', `localhost.:${PORT}`, `evil@127.0.0.1:${PORT}`, `127.0.0.1:${PORT}/x`, ''])(
    'refuses Host %j with 403',
    async (host) => {
      const response = await get('/api/state', { Host: host });
      expect(response.status).toBe(403);
      expect(await json(response)).toEqual({ error: 'Forbidden host', code: 'forbidden' });
      expect(service.calls).toEqual([]);
    },
  );

  it.each([`127.0.0.1:${PORT}`, `localhost:${PORT}`, `LOCALHOST:${PORT}`, `[::1]:${PORT}`])('allows Host %s', async (host) => {
    expect((await get('/api/state', { Host: host })).status).toBe(200);
  });

  it('refuses a POST with a foreign Host before touching the service', async () => {
    const response = await post('/api/batch/start', undefined, { Host: 'evil.example:80' });
    expect(response.status).toBe(403);
    expect(service.calls).toEqual([]);
  });

  it('also guards static files and the WebSocket path', async () => {
    expect((await get('/', { Host: 'evil.example:80' })).status).toBe(403);
    expect((await get('/ws', { Host: 'evil.example:80', Upgrade: 'websocket', Connection: 'Upgrade' })).status).toBe(403);
  });
});

describe('Origin check', () => {
  it.each(['http://evil.example', `http://evil.example:${PORT}`, `https://127.0.0.1:${PORT}`, 'http://127.0.0.1:1', 'null', `http://127.0.0.1:${PORT}/path`, 'garbage'])(
    'refuses a POST from Origin %j with 403',
    async (origin) => {
      const response = await post('/api/batch/start', '{"cycles": 1}', { 'Content-Type': 'application/json', Origin: origin });
      expect(response.status).toBe(403);
      expect(await json(response)).toEqual({ error: 'Forbidden origin', code: 'forbidden' });
      expect(service.calls).toEqual([]);
    },
  );

  it.each([ORIGIN, `http://localhost:${PORT}`, `http://[::1]:${PORT}`])('allows a POST from %s', async (origin) => {
    const response = await post('/api/batch/start', '{"cycles": 1}', { 'Content-Type': 'application/json', Origin: origin });
    expect(response.status).toBe(200);
  });

  it('allows a POST without Origin (curl)', async () => {
    expect((await post('/api/batch/pause')).status).toBe(200);
  });

  it('lets a cross-origin GET through: reading is guarded by Host, and CORS keeps the answer from the page', async () => {
    expect((await get('/api/state', { Origin: 'http://evil.example' })).status).toBe(200);
  });

  it('refuses a WebSocket upgrade from a foreign Origin', async () => {
    const response = await get('/ws', { Origin: 'http://evil.example', Upgrade: 'websocket', Connection: 'Upgrade' });
    expect(response.status).toBe(403);
  });
});

describe('Content-Type on POST bodies', () => {
  it.each<[string, Record<string, string>]>([
    ['no Content-Type', {}],
    ['text/plain', { 'Content-Type': 'text/plain' }],
    ['a form', { 'Content-Type': 'application/x-www-form-urlencoded' }],
    ['multipart', { 'Content-Type': 'multipart/form-data; boundary=x' }],
  ])('refuses a body with %s', async (_name, headers) => {
    const response = await app.request(`${BASE}/api/batch/start`, { method: 'POST', body: '{"cycles": 1}', headers: new Headers(headers) });
    // a Request given a string body and no Content-Type gets text/plain from fetch itself
    expect(response.status).toBe(415);
    expect(await json(response)).toEqual({ error: 'Content-Type must be application/json (send {} for an empty body)', code: 'unsupported-media-type' });
    expect(service.calls).toEqual([]);
  });

  // issue 12.6: an empty text/plain POST without Origin (what a no-CORS page can send) started a batch
  it.each<[string, Record<string, string>]>([
    ['no Content-Type', {}],
    ['text/plain', { 'Content-Type': 'text/plain' }],
    ['a form', { 'Content-Type': 'application/x-www-form-urlencoded' }],
  ])('refuses an empty-body control POST with %s (415), for every control', async (_name, headers) => {
    for (const action of ['start', 'pause', 'resume', 'stop']) {
      const response = await app.request(`${BASE}/api/batch/${action}`, { method: 'POST', headers: new Headers(headers) });
      expect(response.status).toBe(415);
      expect(await json(response)).toMatchObject({ code: 'unsupported-media-type' });
    }
    expect(service.calls).toEqual([]);
  });

  it('takes an empty body with application/json as the defaults', async () => {
    expect((await post('/api/batch/start', '')).status).toBe(200);
    expect(service.calls[0]).toEqual({ method: 'start', args: [2, {}] });
    expect((await post('/api/batch/stop')).status).toBe(200);
  });
});

describe('the WebSocket path without an upgrade', () => {
  it('is a 426', async () => {
    const response = await get('/ws');
    expect(response.status).toBe(426);
  });

  it('a bad after is a 400 before any handshake', async () => {
    const response = await get('/ws?after=abc', { Upgrade: 'websocket', Connection: 'Upgrade' });
    expect(response.status).toBe(400);
  });
});

describe('static files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sprint-runner-static-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>dashboard</title>');
  writeFileSync(join(dir, 'app.js'), 'console.log(1)');

  const withStatic = () => createApp({ service, staticDir: dir, allowedHosts: () => allowedHostsFor('127.0.0.1', PORT), logError: () => {} });

  it('serves index.html at / and other files by name', async () => {
    const staticApp = withStatic();
    const index = await staticApp.request(`${BASE}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(index.headers.get('x-frame-options')).toBe('DENY');
    expect(await index.text()).toContain('dashboard');
    const script = await staticApp.request(`${BASE}/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
  });

  it('keeps /api JSON and answers a missing file with 404', async () => {
    const staticApp = withStatic();
    expect((await staticApp.request(`${BASE}/api/state`)).status).toBe(200);
    const missing = await staticApp.request(`${BASE}/api/index.html`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: expect.any(String), code: 'not-found' });
    expect((await staticApp.request(`${BASE}/nothing.css`)).status).toBe(404);
    expect((await staticApp.request(`${BASE}/..%2f..%2fetc%2fpasswd`)).status).toBe(404);
  });

  it('a folder that does not exist yet is not touched by createApp', async () => {
    const lateApp = createApp({ service, staticDir: join(dir, 'later'), allowedHosts: () => allowedHostsFor('127.0.0.1', PORT) });
    expect((await lateApp.request(`${BASE}/api/state`)).status).toBe(200);
  });
});

describe('allowedHostsFor, canonicalHost, canonicalOrigin', () => {
  it('allows the loopback names and a specific bound host, not a wildcard', () => {
    expect([...allowedHostsFor('127.0.0.1', 5000)].sort()).toEqual(['127.0.0.1:5000', '[::1]:5000', 'localhost:5000']);
    expect([...allowedHostsFor('0.0.0.0', 5000)].sort()).toEqual(['127.0.0.1:5000', '[::1]:5000', 'localhost:5000']);
    expect([...allowedHostsFor('::', 5000)].sort()).toEqual(['127.0.0.1:5000', '[::1]:5000', 'localhost:5000']);
    expect(allowedHostsFor('192.168.1.20', 5000).has('192.168.1.20:5000')).toBe(true);
    expect(allowedHostsFor('fe80::1', 5000).has('[fe80::1]:5000')).toBe(true);
    expect(allowedHostsFor('MyBox.lan', 80).has('mybox.lan:80')).toBe(true);
  });

  it('canonicalises the default port and case', () => {
    expect(canonicalHost('LocalHost')).toBe('localhost:80');
    expect(canonicalHost('localhost:80')).toBe('localhost:80');
    expect(canonicalOrigin('http://localhost')).toBe('localhost:80');
    expect(canonicalOrigin('https://localhost')).toBeNull();
    expect(canonicalOrigin('null')).toBeNull();
  });
});
