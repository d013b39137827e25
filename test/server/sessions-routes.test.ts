// The budget, settings and transcript routes (issue 14, issue 13): what they pass to the service, and clear 4xx for bad input.
import { beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.js';
import { allowedHostsFor } from '../../server/security.js';
import { FakeService } from './fake-service.js';

const PORT = 4280;
const BASE = `http://127.0.0.1:${PORT}`;
let service: FakeService;
let app: ReturnType<typeof createApp>;
beforeEach(() => {
  service = new FakeService();
  app = createApp({ service, allowedHosts: () => allowedHostsFor('127.0.0.1', PORT), logError: () => undefined });
});
const post = (path: string, body: string) => app.request(`${BASE}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: BASE }, body });
const calls = (method: string) => service.calls.filter((c) => c.method === method).map((c) => c.args);

describe('budget and settings', () => {
  it('start passes an optional budget along with the cycles, and leaves it out when absent', async () => {
    expect((await post('/api/batch/start', '{"cycles": 2, "budgetUsd": 12.5}')).status).toBe(200);
    expect((await post('/api/batch/start', '{"cycles": 2}')).status).toBe(409);
    expect(calls('start')).toEqual([[2, { budgetUsd: 12.5 }], [2, {}]]);
  });

  it.each(['{"budgetUsd": -1}', '{"budgetUsd": 0}', '{"budgetUsd": "20"}', '{}', '[]', 'nope', ''])('POST /api/budget %s is a 400 that says what to send', async (body) => {
    const response = await post('/api/budget', body);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/budgetUsd|JSON/);
    expect(calls('setBudget')).toEqual([]);
  });

  it('POST /api/budget sets, raises or removes the cap; a bad start budget is a 400 before anything starts', async () => {
    expect((await post('/api/budget', '{"budgetUsd": 40}')).status).toBe(200);
    expect((await post('/api/budget', '{"budgetUsd": null}')).status).toBe(200);
    expect(calls('setBudget')).toEqual([[40], [null]]);
    expect((await post('/api/batch/start', '{"cycles": 2, "budgetUsd": "lots"}')).status).toBe(400);
    expect(calls('start')).toEqual([]);
  });

  it('POST /api/settings takes a boolean continueSessions, and refuses anything else', async () => {
    expect((await post('/api/settings', '{"continueSessions": false}')).status).toBe(200);
    expect((await post('/api/settings', '{"continueSessions": "no"}')).status).toBe(400);
    expect(calls('setContinueSessions')).toEqual([[false]]);
  });
});

describe('transcripts', () => {
  it('a command id must be a whole number; an unknown command is a 404 in JSON', async () => {
    expect((await app.request(`${BASE}/api/commands/abc/transcript`)).status).toBe(400);
    const missing = await app.request(`${BASE}/api/commands/7/transcript.jsonl`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'command 7 has no transcript' });
    expect(calls('transcript')).toEqual([[7]]);
  });
});
