// GET /api/batches, /api/stories, /api/commands, /api/events: what the runner stored, one router per resource.
import { Hono } from 'hono';
import { badRequest } from '../errors.js';
import type { SprintService } from '../service.js';

export const DEFAULT_EVENTS_LIMIT = 500;
export const MAX_EVENTS_LIMIT = 5000;

/** A whole-number query parameter: absent means the fallback; anything but digits, or below `min`, is a 400. */
export function integerParam(raw: string | undefined, name: string, fallback: number, min: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min) throw badRequest(`${name} must be a whole number of at least ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

export function batchesRoutes(service: SprintService): Hono {
  return new Hono().get('/', async (c) => c.json(await service.batches()));
}

export function storiesRoutes(service: SprintService): Hono {
  return new Hono().get('/', async (c) => c.json(await service.stories()));
}

export function commandsRoutes(service: SprintService): Hono {
  return new Hono().get('/', async (c) => {
    const story = c.req.query('story');
    return c.json(await service.commands(story ? { story } : {}));
  });
}

export function legacyEventsRoutes(service: SprintService): Hono {
  return new Hono().get('/', async (c) => c.json(await service.legacyEvents()));
}

export function legacyRecordsRoutes(service: SprintService): Hono {
  return new Hono().get('/', async (c) => c.json(await service.legacyRecords()));
}

/** Pages through the stored events: a client asks again with `after` = the last id it got until a page is short. */
export function eventsRoutes(service: SprintService): Hono {
  return new Hono().get('/', async (c) => {
    const after = integerParam(c.req.query('after'), 'after', 0, 0);
    // a limit above the maximum is cut to it rather than refused: the client just pages more
    const limit = Math.min(integerParam(c.req.query('limit'), 'limit', DEFAULT_EVENTS_LIMIT, 1), MAX_EVENTS_LIMIT);
    return c.json(await service.eventsAfter(after, limit));
  });
}

/** GET /api/verdicts?story=&after=: why stories passed or were blocked (docs/structured-verdict.md, "API"). */
export function verdictsRoutes(service: SprintService): Hono {
  return new Hono().get('/', async (c) => {
    const story = c.req.query('story');
    const after = integerParam(c.req.query('after'), 'after', 0, 0);
    return c.json(await service.verdicts({ ...(story ? { story } : {}), ...(after > 0 ? { after } : {}) }));
  });
}
