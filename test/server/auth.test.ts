// The token check through app.request(): where the token may come from, the exchange for a cookie, and what a request without it gets.
import { mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.js';
import { cookieNameFor, loadOrCreateToken } from '../../server/auth.js';
import { allowedHostsFor } from '../../server/security.js';
import { FakeService } from './fake-service.js';

const PORT = 4280;
const BASE = `http://127.0.0.1:${PORT}`;
const TOKEN = 'a'.repeat(43);
const COOKIE = cookieNameFor(PORT);

let service: FakeService;
let app: ReturnType<typeof createApp>;
beforeEach(() => {
  service = new FakeService();
  app = createApp({ service, allowedHosts: () => allowedHostsFor('127.0.0.1', PORT), auth: { token: TOKEN, cookieName: () => COOKIE }, logError: () => {} });
});

describe('the token check', () => {
  it.each<[string, Record<string, string>]>([
    ['no token', {}],
    ['a wrong bearer token', { Authorization: `Bearer ${'b'.repeat(43)}` }],
    ['a shorter bearer token', { Authorization: 'Bearer aaaa' }],
    ['the token in the cookie of another port', { Cookie: `${cookieNameFor(PORT + 1)}=${TOKEN}` }],
    ['a Basic header', { Authorization: `Basic ${TOKEN}` }],
  ])('refuses %s with 401 and touches nothing', async (_name, headers) => {
    const post = await app.request(`${BASE}/api/batch/start`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: '{}' });
    expect(post.status).toBe(401);
    expect(await post.json()).toEqual({ error: expect.stringContaining('Not signed in'), code: 'unauthorized' });
    expect((await app.request(`${BASE}/api/state`, { headers })).status).toBe(401);
    expect(service.calls).toEqual([]);
  });

  it('takes the bearer header and the cookie', async () => {
    expect((await app.request(`${BASE}/api/state`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await app.request(`${BASE}/api/state`, { headers: { Cookie: `${COOKIE}=${TOKEN}` } })).status).toBe(200);
  });

  it('answers a page without the token with the note to open the printed URL', async () => {
    const page = await app.request(`${BASE}/`);
    expect(page.status).toBe(401);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('Open the URL printed by <code>sprint-runner serve</code>');
  });

  it('exchanges ?token= on a page for the cookie and redirects to the same URL without it', async () => {
    const response = await app.request(`${BASE}/?tab=run&token=${TOKEN}`);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/?tab=run');
    expect(response.headers.get('set-cookie')).toBe(`${COOKIE}=${TOKEN}; Max-Age=2592000; Path=/; HttpOnly; SameSite=Strict`);
  });

  it('never takes ?token= on the API, and a wrong ?token= is no exchange', async () => {
    expect((await app.request(`${BASE}/api/state?token=${TOKEN}`)).status).toBe(401);
    const wrong = await app.request(`${BASE}/?token=${'c'.repeat(43)}`);
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
  });

  it('checks Host before the token: a rebinding page learns nothing either way', async () => {
    expect((await app.request(`${BASE}/api/state`, { headers: { Host: 'evil.example', Authorization: `Bearer ${TOKEN}` } })).status).toBe(403);
  });
});

describe('the token file', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'sprint-runner-token-'));

  it('is made owner-only with a fresh token, and read back as it is', () => {
    const file = join(dir(), 'db.token');
    const token = loadOrCreateToken(file);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateToken(file)).toBe(token);
  });

  it.each<[string, (file: string) => void]>([
    ['readable by others', (file) => writeFileSync(file, `${TOKEN}\n`, { mode: 0o644 })],
    ['not a token', (file) => writeFileSync(file, 'guessable\n', { mode: 0o600 })],
    ['a link to another file', (file) => symlinkSync('/etc/hostname', file)],
  ])('is replaced when it is %s', (_name, make) => {
    const file = join(dir(), 'db.token');
    make(file);
    const token = loadOrCreateToken(file);
    expect(token).not.toBe(TOKEN);
    expect(readFileSync(file, 'utf8').trim()).toBe(token);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('names the file when it cannot be written', () => {
    expect(() => loadOrCreateToken('/nonexistent-folder/db.token')).toThrow(/Cannot keep the dashboard token in \/nonexistent-folder\/db.token: .*--no-auth/);
  });
});
