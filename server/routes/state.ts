// GET /api/state: what the dashboard shows at a glance (status, cycle n/max, current story, command and task).
import { Hono } from 'hono';
import type { SprintService } from '../service.js';

export function stateRoutes(service: SprintService): Hono {
  return new Hono().get('/', async (c) => c.json(await service.state()));
}
