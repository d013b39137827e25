// POST /api/batch/start|pause|resume|stop: the only routes that change anything, each answering with the new state.
import { Hono } from 'hono';
import { badRequest } from '../errors.js';
import type { SprintService } from '../service.js';
import { parseBudget } from './sessions.js';

/** The spec's default when the user gives no cycle count. */
export const DEFAULT_CYCLES = 2;

const CYCLES_HELP = 'send {"cycles": <whole number of at least 1>} or {"cycles": "all"}';

/** The cycle count from a start request's body: no body or no `cycles` means the default. */
export function parseCycles(body: string): number | 'all' {
  if (body.trim() === '') return DEFAULT_CYCLES;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw badRequest(`Body is not valid JSON: ${CYCLES_HELP}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest(`Body must be a JSON object: ${CYCLES_HELP}`);
  const cycles: unknown = (parsed as Record<string, unknown>).cycles;
  if (cycles === undefined) return DEFAULT_CYCLES;
  if (cycles === 'all') return 'all';
  // a string such as "3" is refused rather than guessed at: the dashboard sends numbers
  if (typeof cycles === 'number' && Number.isSafeInteger(cycles) && cycles >= 1) return cycles;
  throw badRequest(`Invalid cycles ${JSON.stringify(cycles)}: ${CYCLES_HELP}`);
}

export function batchRoutes(service: SprintService): Hono {
  // every answer carries the state after the change, so the dashboard needs no second request
  const done = async () => ({ ok: true as const, state: await service.state() });
  return new Hono()
    .post('/start', async (c) => {
      const body = await c.req.text();
      const cycles = parseCycles(body);
      // optional and additive: {"cycles": 3, "budgetUsd": 20}
      const budgetUsd = parseBudget(body);
      await (budgetUsd === undefined ? service.start(cycles) : service.start(cycles, { budgetUsd }));
      return c.json(await done());
    })
    .post('/pause', async (c) => {
      await service.pause();
      return c.json(await done());
    })
    .post('/resume', async (c) => {
      await service.resume();
      return c.json(await done());
    })
    .post('/stop', async (c) => {
      // resolves only once every child process tree is gone, so `stopped` in the answer is true
      await service.stop();
      return c.json(await done());
    });
}
