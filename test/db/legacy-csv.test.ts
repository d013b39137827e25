// Table tests of the legacy CSV parser, and the import: idempotent, tolerant of a missing file, on the demo log.
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importLegacyCsv, parseLegacyCsv, type LegacyRow } from '../../db/legacy-csv.js';
import { legacyEvents } from '../../db/legacy-reads.js';
import { useTempDatabases } from './support.js';

const ctx = useTempDatabases();
const DEMO_CSV = fileURLToPath(new URL('../../fixtures/demo-project/docs/sprint-runner.csv', import.meta.url));

type Expected = Partial<LegacyRow>;

const good: Array<[string, string, Expected[]]> = [
  [
    'a plain quoted message',
    '1795003212,1,1-1,create-story,setup,start,"Loading config"\n',
    [{ line: '1795003212,1,1-1,create-story,setup,start,"Loading config"', lineNumber: 1, epoch: 1795003212, epic: '1', story: '1-1', command: 'create-story', taskId: 'setup', status: 'start', message: 'Loading config' }],
  ],
  ['a comma inside the quotes', '1,1,1-1,c,t,end,"HIGHEST SEVERITY: MEDIUM, 1 issue fixed"', [{ message: 'HIGHEST SEVERITY: MEDIUM, 1 issue fixed' }]],
  ['doubled quotes', '1,1,1-2,c,t,end,"Story 1.2 ""Config loader"" drafted, 4 ACs"', [{ message: 'Story 1.2 "Config loader" drafted, 4 ACs' }]],
  ['only a doubled quote', '1,1,1-2,c,t,end,""""', [{ message: '"' }]],
  ['six columns, no message', '1795003220,1,1-1,create-story,generate,start', [{ status: 'start', message: null }]],
  ['an empty quoted message', '1,1,1-1,c,t,start,""', [{ message: null }]],
  ['an unquoted message', '1,2a,2a-1,c,t,end,all good', [{ epic: '2a', story: '2a-1', message: 'all good' }]],
  [
    'CRLF line ends',
    '1,1,1-1,c,t,start,"a"\r\n2,1,1-1,c,t,end\r\n',
    [
      { line: '1,1,1-1,c,t,start,"a"', lineNumber: 1, message: 'a' },
      { line: '2,1,1-1,c,t,end', lineNumber: 2, message: null },
    ],
  ],
  ['blank lines skipped, numbers kept', '\n1,1,1-1,c,t,start\n\n   \n2,1,1-1,c,t,end\n\n', [{ lineNumber: 2 }, { lineNumber: 5 }]],
  ['a byte order mark', '\uFEFF1,1,1-1,c,t,start', [{ epoch: 1 }]],
  [
    'a message over two lines',
    '1,1,1-1,c,t,start,"first\nsecond"\n2,1,1-1,c,t,end\n',
    [
      { line: '1,1,1-1,c,t,start,"first\nsecond"', lineNumber: 1, message: 'first\nsecond' },
      { lineNumber: 3, epoch: 2 },
    ],
  ],
  ['an epic with a suffix', '9,5-sr,5-sr-1,dev-story,implement,end,"x"', [{ epic: '5-sr', story: '5-sr-1' }]],
];

describe('parseLegacyCsv', () => {
  it.each(good)('reads %s', (_, text, expected) => {
    const { rows, errors } = parseLegacyCsv(text);
    expect(errors).toEqual([]);
    expect(rows).toHaveLength(expected.length);
    expected.forEach((e, i) => expect(rows[i]).toMatchObject(e));
  });

  const bad: Array<[string, string, RegExp]> = [
    ['too few fields', '1,1,1-1,c,start', /expected 6 or 7 fields, found 5/],
    ['too many fields', '1,1,1-1,c,t,start,a,b', /found 8/],
    ['an epoch that is no number', 'yesterday,1,1-1,c,t,start', /epoch/],
    ['a fractional epoch', '1.5,1,1-1,c,t,start', /epoch/],
    ['a status other than start or end', '1,1,1-1,c,t,begin', /status must be start or end, found 'begin'/],
    ['an empty story', '1,1,,c,t,start', /story is empty/],
    ['an empty task id', '1,1,1-1,c,,start', /task id is empty/],
    ['text after a closing quote', '1,1,1-1,c,t,start,"a"b', /after the closing quote/],
    ['a quote never closed', '1,1,1-1,c,t,start,"never closed', /never closed/],
    ['binary garbage', '\u0000\u0001\u0002\uFFFD\uFFFD', /expected 6 or 7 fields/],
    ['a header line', 'epoch,epic,story,command,task_id,status,message', /epoch/],
  ];

  it.each(bad)('reports %s as an error for its line, never throwing', (_, line, reason) => {
    const text = `1,1,1-1,c,t,start\n${line}\n3,1,1-1,c,t,end\n`;
    const { rows, errors } = parseLegacyCsv(text);
    expect(errors).toEqual([{ line: 2, reason: expect.stringMatching(reason) }]);
    expect(rows.map((r) => r.lineNumber)).toEqual([1, 3]);
  });

  it('lets a stray quote cost only its own line, not the lines after it', () => {
    const text = ['1,1,1-1,c,t,start,"oops', '2,1,1-1,c,t,end,"fine"', '3,1,1-1,c,t,start', '4,1,1-1,c,t,end,""', ''].join('\n');
    const { rows, errors } = parseLegacyCsv(text);
    expect(errors).toEqual([{ line: 1, reason: expect.any(String) }]);
    expect(rows.map((r) => r.epoch)).toEqual([2, 3, 4]);
  });

  it('returns nothing for an empty text', () => {
    expect(parseLegacyCsv('')).toEqual({ rows: [], errors: [] });
    expect(parseLegacyCsv('\n\r\n')).toEqual({ rows: [], errors: [] });
  });

  it('reads the demo log without errors', () => {
    const { rows, errors } = parseLegacyCsv(readFileSync(DEMO_CSV, 'utf8'));
    expect(errors).toEqual([]);
    expect(rows).toHaveLength(15);
    expect(rows.filter((r) => r.message === null).length).toBeGreaterThan(0);
    expect(rows.find((r) => r.message?.includes('"Config loader"'))).toBeDefined();
  });
});

describe('importLegacyCsv', () => {
  it('imports the demo log once; the second import adds nothing', async () => {
    const db = await ctx.fresh();
    expect(await importLegacyCsv(db, DEMO_CSV)).toEqual({ imported: 15, skipped: 0, ours: 0, duplicates: 0, errors: [] });
    expect(await importLegacyCsv(db, DEMO_CSV)).toEqual({ imported: 0, skipped: 15, ours: 0, duplicates: 0, errors: [] });
    const events = await legacyEvents(db);
    expect(events).toHaveLength(15);
    expect(events[0]).toMatchObject({ epoch: 1795003212, epic: '1', story: '1-1', command: 'create-story', taskId: 'setup', status: 'start' });
  });

  it('adds only the new lines of a grown file, whatever its line ends, and reports bad lines', async () => {
    const db = await ctx.fresh();
    const file = join(ctx.dir(), 'docs', 'sprint-runner.csv');
    mkdirSync(join(ctx.dir(), 'docs'));
    writeFileSync(file, '1,1,1-1,c,t,start,"a, b"\n');
    expect(await importLegacyCsv(db, file)).toEqual({ imported: 1, skipped: 0, ours: 0, duplicates: 0, errors: [] });
    writeFileSync(file, '1,1,1-1,c,t,start,"a, b"\r\n');
    appendFileSync(file, 'garbage\r\n2,1,1-1,c,t,end\r\n');
    expect(await importLegacyCsv(db, file)).toEqual({ imported: 1, skipped: 1, ours: 0, duplicates: 0, errors: [{ line: 2, reason: expect.any(String) }] });
    expect((await legacyEvents(db)).map((e) => [e.epoch, e.message])).toEqual([
      [1, 'a, b'],
      [2, null],
    ]);
  });

  it('imports nothing from a missing file', async () => {
    const db = await ctx.fresh();
    expect(await importLegacyCsv(db, join(ctx.dir(), 'nope.csv'))).toEqual({ imported: 0, skipped: 0, ours: 0, duplicates: 0, errors: [] });
  });
});
