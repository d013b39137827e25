// Review verdicts and loop decisions stored as events by the real SQLite store, read back per story for the API.
import { describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../db/store.js';
import { reviewVerdicts } from '../../db/verdicts.js';
import { useTempDatabases } from './support.js';

const A = { key: '1-1-alpha', shortId: '1-1', epicId: '1' };
const B = { key: '1-2-beta', shortId: '1-2', epicId: '1' };
const t0 = Date.UTC(2026, 0, 1);

describe('reviewVerdicts', () => {
  const dbs = useTempDatabases();

  it('returns the verdicts and decisions of one story, oldest first, tied to the review run they are about', async () => {
    const db = await dbs.fresh();
    const store = createSqliteStore(db);
    const batch = store.beginBatch({ maxCycles: 1, projectRoot: '/p', startedAt: t0 });
    const runId = 'c1/code-review-1/1-1';
    store.commit(
      batch,
      [
        { type: 'command:start', ts: t0, payload: { runId, command: 'code-review-1', kind: 'code-review', stories: [A], model: null, background: false, reviewAttempt: 1, attempt: 1 } },
        { type: 'review:verdict', ts: t0 + 1, payload: { kind: 'code-review', story: A, command: 'code-review-1', runId, attempt: 1, source: 'text', highest: 'HIGH', issues: [{ severity: 'HIGH', title: 'Missing null check', file: null }] } },
        { type: 'review:decision', ts: t0 + 2, payload: { story: A, command: 'code-review-1', runId, attempt: 1, action: 'retry', reason: 'next-attempt', message: 'attempt 1: highest HIGH; rule 3 needs attempt 3: code-review-2 next' } },
        { type: 'review:verdict', ts: t0 + 3, payload: { kind: 'story-review', stories: [A, B], command: 'story-review-1', runId: 'c1/story-review-1/1-1,1-2', source: 'structured', critical: false, perStory: {} } },
        { type: 'review:verdict', ts: t0 + 4, payload: { kind: 'code-review', story: B, command: 'code-review-1', runId: 'c1/code-review-1/1-2', attempt: 1, source: 'structured', highest: null } },
        { type: 'warning', ts: t0 + 5, payload: { message: 'not a verdict', story: '1-1' } },
      ],
      null,
    );

    const forA = await reviewVerdicts(db, { story: '1-1' });
    expect(forA.map((v) => [v.type, (v.payload as { command: string }).command])).toEqual([
      ['review:verdict', 'code-review-1'],
      ['review:decision', 'code-review-1'],
      ['review:verdict', 'story-review-1'],
    ]);
    expect(forA[0]!.commandId).not.toBeNull();
    expect(forA[1]!.commandId).toBe(forA[0]!.commandId);
    // the long key names the story too; another story's verdicts are not included
    expect((await reviewVerdicts(db, { story: '1-1-alpha' })).map((v) => v.id)).toEqual(forA.map((v) => v.id));
    expect((await reviewVerdicts(db, { story: '1-2' })).map((v) => (v.payload as { command: string }).command)).toEqual(['story-review-1', 'code-review-1']);
    expect(await reviewVerdicts(db, { story: '1-10' })).toEqual([]);
    // all of them, and paging by event id
    const all = await reviewVerdicts(db);
    expect(all).toHaveLength(4);
    expect(await reviewVerdicts(db, { after: all[2]!.id })).toEqual([all[3]]);
  });
});
