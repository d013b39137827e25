// GET /api/verdicts through app.request(): the query it passes to the service, and its 400 for a bad `after`.
import { beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.js';
import { allowedHostsFor } from '../../server/security.js';
import { FakeService } from './fake-service.js';

const PORT = 4281;
const BASE = `http://127.0.0.1:${PORT}`;
let service: FakeService;
let app: ReturnType<typeof createApp>;

beforeEach(() => {
  service = new FakeService();
  app = createApp({ service, allowedHosts: () => allowedHostsFor('127.0.0.1', PORT), logError: () => undefined });
});

describe('GET /api/verdicts', () => {
  it.each<[string, unknown]>([
    ['/api/verdicts', {}],
    ['/api/verdicts?story=1-1', { story: '1-1' }],
    ['/api/verdicts?story=1-1-alpha&after=12', { story: '1-1-alpha', after: 12 }],
  ])('%s asks the service for %j', async (path, filter) => {
    const response = await app.request(`${BASE}${path}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual([{ id: 9, type: 'review:decision', payload: { message: 'attempt 3 similar to 2 and 1: blocked (repeated error pattern)' } }]);
    expect(service.calls).toEqual([{ method: 'verdicts', args: [filter] }]);
  });

  it('a bad `after` is a 400 with a JSON error, and the service is not asked', async () => {
    const response = await app.request(`${BASE}/api/verdicts?after=-1`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: expect.stringContaining('after must be a whole number'), code: 'bad-request' });
    expect(service.calls).toEqual([]);
  });
});
