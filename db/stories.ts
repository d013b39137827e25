// Synchronous writes to the stories table, and a story's id found by its long key or short id (cached per connection).
import type BetterSqlite3 from 'better-sqlite3';
import type { SprintDb } from './handle.js';
import { getSync, nowIso } from './sync-queries.js';

export interface StoryRef {
  /** the long key from sprint-status */
  key: string;
  shortId: string;
  epicId: string;
}

/**
 * Inserts the story or refreshes its short id and epic; returns its id. With `status`, also records the
 * status and `updated_at` (`at`, default now); without, an existing story's status is left alone.
 */
export function upsertStory(db: SprintDb, story: StoryRef, status?: string, at: string = nowIso()): number {
  // a new story or a changed short id or updated_at can change what a short id names
  storyIdCaches.get(db.sqlite)?.clear();
  const row = getSync(
    db,
    db.kysely
      .insertInto('stories')
      .values({ key: story.key, short_id: story.shortId, epic_id: story.epicId, status: status ?? null, updated_at: at })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet((eb) =>
          status === undefined
            ? { short_id: eb.ref('excluded.short_id'), epic_id: eb.ref('excluded.epic_id') }
            : {
                short_id: eb.ref('excluded.short_id'),
                epic_id: eb.ref('excluded.epic_id'),
                status: eb.ref('excluded.status'),
                updated_at: eb.ref('excluded.updated_at'),
              },
        ),
      )
      .returning('id'),
  );
  return row!.id;
}

/** findStoryId's answers; every write to `stories` goes through upsertStory, which clears it. */
const storyIdCaches = new WeakMap<BetterSqlite3.Database, Map<string, number | null>>();

/** A story named by its long key or its short id (the log script reports either); null when unknown. */
export function findStoryId(db: SprintDb, keyOrShortId: string): number | null {
  let cache = storyIdCaches.get(db.sqlite);
  if (cache === undefined) storyIdCaches.set(db.sqlite, (cache = new Map()));
  let id = cache.get(keyOrShortId);
  if (id === undefined) {
    id = findStoryIdUncached(db, keyOrShortId);
    cache.set(keyOrShortId, id);
  }
  return id;
}

function findStoryIdUncached(db: SprintDb, keyOrShortId: string): number | null {
  const byKey = getSync(db, db.kysely.selectFrom('stories').select('id').where('key', '=', keyOrShortId));
  if (byKey !== undefined) return byKey.id;
  const byShortId = getSync(
    db,
    db.kysely
      .selectFrom('stories')
      .select('id')
      .where('short_id', '=', keyOrShortId)
      .orderBy('updated_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1),
  );
  return byShortId?.id ?? null;
}
