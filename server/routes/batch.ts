// POST /api/batch/start|pause|resume|stop: the only routes that change anything, each answering with the new state.
import { Hono } from 'hono';
import { badRequest } from '../errors.js';
import type { SprintService } from '../service.js';
import { parseBudget } from './sessions.js';

/** The spec's default when the user gives no cycle count. */
export const DEFAULT_CYCLES = 2;

const CYCLES_HELP = 'send {"cycles": <whole number of at least 1>} or {"cycles": "all"}, and "discard": true to drop a stopped batch';

/** What a start request asks for: no body or no `cycles` means the default count; `discard` abandons a stopped batch. */
export function parseStart(body: string): { cycles: number | 'all'; discard: boolean } {
  if (body.trim() === '') return { cycles: DEFAULT_CYCLES, discard: false };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw badRequest(`Body is not valid JSON: ${CYCLES_HELP}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest(`Body must be a JSON object: ${CYCLES_HELP}`);
  const { cycles, discard } = parsed as Record<string, unknown>;
  if (discard !== undefined && typeof discard !== 'boolean') throw badRequest(`Invalid discard ${JSON.stringify(discard)}: it is true or false`);
  return { cycles: parseCycles(cycles), discard: discard === true };
}

function parseCycles(cycles: unknown): number | 'all' {
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
      const { cycles, discard } = parseStart(body);
      // optional and additive: {"cycles": 3, "budgetUsd": 20}
      const budgetUsd = parseBudget(body);
      await service.start(cycles, { ...(discard ? { discard } : {}), ...(budgetUsd !== undefined ? { budgetUsd } : {}) });
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
