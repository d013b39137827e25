// The legacy CSV as real projects have it: lines our own runs appended, interleaved parallel steps, long keys, duplicates.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeLegacyImport, importLegacyCsv } from '../../db/legacy-csv.js';
import { groupLegacyRuns, legacyEvents } from '../../db/legacy-reads.js';
import { insertBatch } from '../../db/batches.js';
import { insertCommand, updateCommand } from '../../db/commands.js';
import { useTempDatabases } from './support.js';

const ctx = useTempDatabases();

const T0 = 1_700_000_000;
const iso = (epoch: number) => new Date(epoch * 1000).toISOString();
const story = (key: string, shortId: string, epicId: string) => ({ key, shortId, epicId });

describe('lines our own runs produced', () => {
  it('are recognised by story, command and time, left out (and removed if imported before), so a restart changes nothing', async () => {
    const db = await ctx.fresh();
    const csv = join(ctx.dir(), 'sprint-runner.csv');
    // history from before the tool, then a line a subagent of ours appended while our dev-story ran
    const before = [`${T0},2a,2a-1,dev-story,implement,start,"old run"`, `${T0 + 60},2a,2a-1,dev-story,implement,end,"old run done"`];
    const ours = [`${T0 + 1000},2a,2a-1,dev-story,implement,start,"ours"`, `${T0 + 1500},2a,2a-1,dev-story,implement,end,"ours done"`];
    const chain = `${T0 + 1200},2a,2a-1,story-review-2,workflow,start,"Starting background review-2"`;
    writeFileSync(csv, [...before, ...ours].join('\n') + '\n');
    // an older version imported everything, our lines included
    expect((await importLegacyCsv(db, csv)).imported).toBe(4);

    const batchId = insertBatch(db, { startedAt: iso(T0 + 990), maxCycles: 2, status: 'running', projectRoot: '/p' });
    const dev = insertCommand(db, {
      batchId, runId: 'c1/dev-story/2a-1', command: 'dev-story', kind: 'dev-story', stories: [story('2a-1-login', '2a-1', '2a')],
      attempt: 1, reviewAttempt: null, model: null, background: false, startedAt: iso(T0 + 999),
    });
    updateCommand(db, dev, { status: 'ok', ended_at: iso(T0 + 1501) });
    // the background chain logs the reviews it runs under their own names
    insertCommand(db, {
      batchId, runId: 'c1/background-review-chain/2a-1', command: 'background-review-chain', kind: 'background-review-chain',
      stories: [story('2a-1-login', '2a-1', '2a')], attempt: 1, reviewAttempt: null, model: 'haiku', background: true, startedAt: iso(T0 + 1100),
    });
    writeFileSync(csv, [...before, ...ours, chain].join('\n') + '\n');

    const report = await importLegacyCsv(db, csv);
    expect(report).toEqual({ imported: 0, skipped: 2, ours: 3, duplicates: 0, errors: [] });
    const history = await legacyEvents(db);
    expect(history.map((e) => e.message)).toEqual(['old run', 'old run done']);
    // a restart imports the same file again: the same history
    expect(await importLegacyCsv(db, csv)).toEqual(report);
    expect(await legacyEvents(db)).toEqual(history);
  });
});

describe('duplicates, rejected lines and long keys', () => {
  it('counts duplicate and rejected lines and says which; a long key shows as its short id', async () => {
    const db = await ctx.fresh();
    const csv = join(ctx.dir(), 'sprint-runner.csv');
    const line = `${T0},2b,2b-6-sub-agent-tab-read-only,create-story,workflow,start`;
    writeFileSync(csv, [line, line, `${T0 + 5},2b,2b-6,create-story,workflow,end,"done"`, 'not,a,line', `x,2b,2b-6,c,t,start`].join('\n'));
    const report = await importLegacyCsv(db, csv);
    expect(report).toMatchObject({ imported: 2, duplicates: 1, errors: [{ line: 4 }, { line: 5 }] });
    expect(describeLegacyImport('docs/sprint-runner.csv', report)).toMatch(
      /^docs\/sprint-runner\.csv: 2 line\(s\) rejected \(line 4: expected 6 or 7 fields, found 3; line 5: the epoch is not .*\), 1 duplicate line\(s\) stored once\.$/,
    );
    const events = await legacyEvents(db);
    expect(events.map((e) => e.story)).toEqual(['2b-6', '2b-6']);
    expect(new Set(events.map((e) => e.run)).size).toBe(1);
    expect(describeLegacyImport('x', { imported: 1, skipped: 0, ours: 0, duplicates: 0, errors: [] })).toBeNull();
  });
});

describe('grouping legacy lines into the runs that wrote them', () => {
  const row = (id: number, epoch: number, story: string, command: string, taskId: string, status: 'start' | 'end') => ({
    id, epoch, source: 'csv', story, command, taskId, status,
  });

  it('pairs interleaved parallel steps by story, command and task, not by adjacency', () => {
    const rows = [
      row(1, 0, '4-1', 'create-story', 'setup', 'start'),
      row(2, 1, '4-1', 'story-discovery', 'setup', 'start'),
      row(3, 2, '4-2', 'story-discovery', 'setup', 'start'),
      row(4, 3, '4-1', 'story-discovery', 'setup', 'end'),
      row(5, 4, '4-1', 'create-story', 'setup', 'end'),
      row(6, 5, '4-2', 'story-discovery', 'setup', 'end'),
      row(7, 6, '4-1', 'create-story', 'write', 'start'),
      row(8, 7, '4-1', 'create-story', 'write', 'end'),
    ];
    const runs = groupLegacyRuns(rows).map((r) => r.run);
    expect(runs).toEqual(['legacy:1', 'legacy:2', 'legacy:3', 'legacy:2', 'legacy:1', 'legacy:3', 'legacy:1', 'legacy:1']);
  });

  it('starts a new run when a finished task starts again minutes later (a new attempt), not seconds later', () => {
    const rows = [
      row(1, 0, '1-1', 'dev-story', 'setup', 'start'),
      row(2, 10, '1-1', 'dev-story', 'setup', 'end'),
      row(3, 40, '1-1', 'dev-story', 'setup', 'start'),
      row(4, 50, '1-1', 'dev-story', 'setup', 'end'),
      row(5, 900, '1-1', 'dev-story', 'setup', 'start'),
    ];
    expect(groupLegacyRuns(rows).map((r) => r.run)).toEqual(['legacy:1', 'legacy:1', 'legacy:1', 'legacy:1', 'legacy:5']);
  });
});
