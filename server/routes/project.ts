// GET /api/sprint-status, /api/story-descriptions, /api/taxonomy, /api/machines: the project and workflow as read now.
import { Hono } from 'hono';
import type { SprintService } from '../service.js';

export function sprintStatusRoutes(service: SprintService): Hono {
  return new Hono().get('/', async (c) => c.json(await service.sprintStatus()));
}

export function storyDescriptionsRoutes(service: SprintService): Hono {
  return new Hono().get('/', async (c) => c.json(await service.storyDescriptions()));
}

export function taxonomyRoutes(service: SprintService): Hono {
  return new Hono().get('/', async (c) => c.json(await service.taxonomy()));
}

export function machinesRoutes(service: SprintService): Hono {
  return new Hono().get('/', async (c) => c.json(await service.machines()));
}
