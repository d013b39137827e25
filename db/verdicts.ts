// Reading back the review verdicts and loop decisions the runner stored as events (`review:verdict`, `review:decision`).
import { sql } from 'kysely';
import type { SprintDb } from './database.js';

/** The event types that say why a story passed or was blocked; their payloads are machines/rules/review-verdict.ts's. */
export const VERDICT_EVENT_TYPES = ['review:verdict', 'review:decision'] as const;

export interface VerdictRecord {
  /** the event id (the same as on the WebSocket) */
  id: number;
  type: (typeof VERDICT_EVENT_TYPES)[number];
  ts: number;
  /** the commands row of the review run the verdict is about, when known */
  commandId: number | null;
  payload: unknown;
}

export interface VerdictFilter {
  /** a short id (`3a-1`) or long key: only that story's verdicts and decisions */
  story?: string;
  /** only after this event id */
  after?: number;
}

const MAX_VERDICTS = 2000;

/**
 * Verdicts and decisions in event order (newest last), at most 2,000 (the newest). Stored as events, so they
 * survive restarts and replay over the WebSocket like every other event; no table of their own is needed.
 */
export async function reviewVerdicts(db: SprintDb, filter: VerdictFilter = {}): Promise<VerdictRecord[]> {
  let query = db.kysely
    .selectFrom('events')
    .select(['id', 'type', 'ts', 'command_id', 'payload'])
    .where('type', 'in', [...VERDICT_EVENT_TYPES])
    .where('id', '>', filter.after ?? 0);
  const story = filter.story;
  if (story !== undefined && story !== '') {
    // the payload names the story (code-review) or the stories (review-1): match short id or key exactly
    query = query.where(
      sql<boolean>`(json_extract(payload, '$.story.shortId') = ${story} OR json_extract(payload, '$.story.key') = ${story}
        OR EXISTS (SELECT 1 FROM json_each(payload, '$.stories') AS s
                   WHERE json_extract(s.value, '$.shortId') = ${story} OR json_extract(s.value, '$.key') = ${story}))`,
    );
  }
  const rows = await query.orderBy('id', 'desc').limit(MAX_VERDICTS).execute();
  return rows.reverse().map((row) => ({
    id: row.id,
    type: row.type as VerdictRecord['type'],
    ts: row.ts,
    commandId: row.command_id,
    payload: parse(row.payload),
  }));
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
