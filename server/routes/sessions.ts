// POST /api/budget, POST /api/settings, GET /api/commands/:id/transcript(.jsonl): the spending cap, the continue switch, transcripts.
import { Hono } from 'hono';
import { badRequest } from '../errors.js';
import type { SprintService } from '../service.js';

const BUDGET_HELP = 'send {"budgetUsd": <a positive number of USD>} or {"budgetUsd": null} for no cap';

/** A JSON object body, or a 400 that says what to send. */
function objectBody(text: string, help: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest(`Body is not valid JSON: ${help}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest(`Body must be a JSON object: ${help}`);
  return parsed as Record<string, unknown>;
}

/** `budgetUsd` of a start or budget body: undefined when absent, null for no cap. */
export function parseBudget(body: string, required = false): number | null | undefined {
  if (body.trim() === '') {
    if (required) throw badRequest(`No body: ${BUDGET_HELP}`);
    return undefined;
  }
  const budget = objectBody(body, BUDGET_HELP)['budgetUsd'];
  if (budget === undefined) {
    if (required) throw badRequest(`No budgetUsd: ${BUDGET_HELP}`);
    return undefined;
  }
  if (budget === null) return null;
  if (typeof budget === 'number' && Number.isFinite(budget) && budget > 0 && budget <= 1_000_000) return budget;
  throw badRequest(`Invalid budgetUsd ${JSON.stringify(budget)}: ${BUDGET_HELP}`);
}

export function budgetRoutes(service: SprintService): Hono {
  return new Hono().post('/', async (c) => {
    await service.setBudget(parseBudget(await c.req.text(), true) ?? null);
    return c.json({ ok: true as const, state: await service.state() });
  });
}

export function settingsRoutes(service: SprintService): Hono {
  return new Hono().post('/', async (c) => {
    const body = objectBody(await c.req.text(), 'send {"continueSessions": true|false}');
    const on = body['continueSessions'];
    if (typeof on !== 'boolean') throw badRequest(`Invalid continueSessions ${JSON.stringify(on)}: send {"continueSessions": true|false}`);
    await service.setContinueSessions(on);
    return c.json({ ok: true as const, state: await service.state() });
  });
}

/** A command id from the path: digits only. */
function commandId(raw: string): number {
  const id = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(id) || id < 1) throw badRequest(`command id must be a whole number of at least 1, got ${JSON.stringify(raw)}`);
  return id;
}

/** Mounted at /api/commands beside the list. */
export function transcriptRoutes(service: SprintService): Hono {
  const load = async (raw: string) => {
    const id = commandId(raw);
    return { id, transcript: await service.transcript(id) };
  };
  return new Hono()
    .get('/:id/transcript.jsonl', async (c) => {
      const { id, transcript } = await load(c.req.param('id'));
      if (!transcript) return c.json({ error: `command ${id} has no transcript` }, 404);
      // a marker line where the size cap cut lines out, so the file says what is missing
      const marker = transcript.cut ? [JSON.stringify({ type: 'sprint-runner/cut', lines: transcript.cut.lines, bytes: transcript.cut.bytes })] : [];
      const text = [...transcript.head, ...marker, ...transcript.tail].join('\n') + '\n';
      return c.body(text, 200, {
        'Content-Type': 'application/x-ndjson; charset=utf-8',
        'Content-Disposition': `attachment; filename="command-${id}-${transcript.command}-attempt-${transcript.attempt}.jsonl"`,
      });
    })
    .get('/:id/transcript', async (c) => {
      const { id, transcript } = await load(c.req.param('id'));
      if (!transcript) return c.json({ error: `command ${id} has no transcript` }, 404);
      const parse = (line: string): unknown => {
        try {
          return JSON.parse(line) as unknown;
        } catch {
          return { type: 'sprint-runner/unreadable', line };
        }
      };
      const { head, tail, ...meta } = transcript;
      return c.json({
        ...meta,
        resumeCommand: transcript.sessionId ? `claude --resume ${transcript.sessionId}` : null,
        head: head.map(parse),
        tail: tail.map(parse),
      });
    });
}
