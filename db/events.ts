// Synchronous writes to the events table: each runner event as it happens; its id is also its WebSocket message id.
import type { SprintDb } from './handle.js';
import { statement } from './sync-queries.js';

export interface NewEventInput {
  batchId: number | null;
  commandId: number | null;
  type: string;
  /** epoch milliseconds */
  ts: number;
  /** stored as JSON; undefined is stored as null */
  payload: unknown;
  /** the payload already serialised, when the caller needs the text as well (the store sends it on to clients) */
  payloadJson?: string;
}

/** Stores an event and returns its id, which is also its WebSocket message id. */
export function insertEvent(db: SprintDb, event: NewEventInput): number {
  // the hottest write (one per event): plain SQL, no query building per call
  const result = statement(db, 'insert into "events" ("batch_id", "command_id", "type", "ts", "payload") values (?, ?, ?, ?, ?)').run(
    event.batchId,
    event.commandId,
    event.type,
    event.ts,
    event.payloadJson ?? JSON.stringify(event.payload) ?? 'null',
  );
  return Number(result.lastInsertRowid);
}
