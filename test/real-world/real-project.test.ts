// The tool on the real BMAD project it was written for (../shared/real-world, copied): files, prompts, history, old database.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { importLegacyCsv } from '../../db/legacy-csv.js';
import { legacyEvents } from '../../db/legacy-reads.js';
import { renderCommandPrompt } from '../../machines/actors/claude-command.js';
import { buildCommandSpec } from '../../machines/command-spec.js';
import { checkProjectFiles, loadProjectLayout, TEMPLATE_FOR_COMMAND, type TemplateCommand } from '../../machines/project/layout.js';
import { storyFileFor } from '../../machines/project/story-files.js';
import { parseSprintStatus, type StoryEntry } from '../../machines/rules/sprint-status.js';
import { compareStories } from '../../machines/rules/story-keys.js';
import { serve, type Serving } from '../../server/main.js';
import { OWN_DB_BESIDE_PREVIOUS } from '../../server/history.js';
import { useTempDatabases } from '../db/support.js';
import { SIM_CLAUDE } from '../support/scenario.js';
import {
  csvLineCount,
  csvStoryCommands,
  inTree,
  IS_DEFAULT_TREE,
  LEGACY_CSV_REL,
  OLDER_CSV_REL,
  PREVIOUS_DB_REL,
  REAL_PROJECT,
  SPRINT_STATUS_REL,
  sha256,
  treeHas,
  treeHashes,
  useRealProjectCopies,
} from './support.js';

const projects = useRealProjectCopies();
const dbs = useTempDatabases();
const servings: Serving[] = [];
afterEach(async () => {
  for (const s of servings.splice(0)) await s.close();
});

async function start(root: string): Promise<Serving> {
  const serving = await serve({ projectRoot: root, port: 0, claudeBin: SIM_CLAUDE, env: { IS_SANDBOX: '1', SPRINT_SIM_PACE_MS: '0' } });
  servings.push(serving);
  return serving;
}

async function api<T>(serving: Serving, route: string): Promise<T> {
  // auth is on by default: a script sends the token as a bearer token
  const response = await fetch(`${serving.url}${route}`, { headers: serving.token ? { authorization: `Bearer ${serving.token}` } : {} });
  expect(response.status, route).toBe(200);
  return (await response.json()) as T;
}

/** The keys of development_status in the file's own order, read line by line (not through our parser). */
function fileKeys(text: string): string[] {
  const body = text.slice(text.indexOf('development_status:'));
  return [...body.matchAll(/^ {2}([A-Za-z0-9][\w.-]*):/gm)].map((m) => m[1]!);
}

function realSprintStatus(): { text: string; stories: StoryEntry[] } {
  const file = path.join(REAL_PROJECT, SPRINT_STATUS_REL);
  const text = readFileSync(file, 'utf8');
  const parsed = parseSprintStatus(text, file);
  if (!parsed.ok) throw new Error(`${parsed.error.reason} at line ${parsed.error.line}`);
  return { text, stories: parsed.status.stories };
}

describe('the real project tree', () => {
  it('passes the preflight: every template, the taxonomy and the folders', async () => {
    const root = projects.copy();
    const layout = await loadProjectLayout(root);
    const taxonomy = await checkProjectFiles(layout);
    expect(Object.keys(taxonomy)).toEqual(expect.arrayContaining(['create-story', 'dev-story', 'code-review']));
    expect(layout.implementationArtifactsRelative).toBe('_bmad-output/implementation-artifacts');
  });

  it('orders its stories as the file does (5 < 5-sr < 5a), epic by epic', () => {
    const { text, stories } = realSprintStatus();
    const storyKeys = fileKeys(text).filter((k) => !k.startsWith('epic-'));
    expect(stories.map((s) => s.key)).toEqual(storyKeys);
    expect([...stories].sort(compareStories).map((s) => s.key)).toEqual(storyKeys);
  });

  it('serves /api/sprint-status as the file says, key for key and status for status', async () => {
    const root = projects.copy();
    const serving = await start(root);
    const status = await api<{ epics: { key: string; status: string }[]; stories: { key: string; rawStatus: string }[] }>(serving, '/api/sprint-status');
    const text = readFileSync(path.join(root, SPRINT_STATUS_REL), 'utf8');
    const keys = fileKeys(text);
    expect(status.epics.map((e) => e.key)).toEqual(keys.filter((k) => /^epic-/.test(k) && !/-retrospective$/.test(k)));
    expect(status.stories.map((s) => s.key)).toEqual(keys.filter((k) => !k.startsWith('epic-')));
    for (const story of status.stories) {
      expect(new RegExp(`^ {2}${story.key}: *${story.rawStatus}\\b`, 'm').test(text), story.key).toBe(true);
    }
  });

  it.runIf(IS_DEFAULT_TREE)('finds the story file of a story whose file is story-<short id>.md, and shows its description', async () => {
    const root = projects.copy();
    const files = ['story-5-sr-1.md', 'story-5-sr-2.md', '5-sr-1-discovery-story.md'];
    expect(storyFileFor(files, { key: '5-sr-1-folder-structure-and-file-relocation', shortId: '5-sr-1' })).toBe('story-5-sr-1.md');
    const serving = await start(root);
    const descriptions = await api<Record<string, string>>(serving, '/api/story-descriptions');
    expect(descriptions['5-sr-1-folder-structure-and-file-relocation']).toMatch(/^As a \*\*developer\*\*/);
    expect(descriptions['5-sr-2-sqlite-database-schema-and-operations']).toBeTruthy();
  });

  it('finds every story file the folder holds, however it is named, and shows the user story it states', async () => {
    const root = projects.copy();
    const folder = path.join(root, path.dirname(SPRINT_STATUS_REL));
    const files = readdirSync(folder);
    const { stories } = realSprintStatus();
    // what a reader takes for a story's file: `<long key>.md` or `story-<short id>.md`
    const withFile = stories.flatMap((s) => {
      const file = files.find((f) => f === `${s.key}.md` || f === `story-${s.shortId}.md`);
      return file ? [[s, file] as const] : [];
    });
    for (const [story, file] of withFile) expect(storyFileFor(files, story), story.key).toBe(file);
    const serving = await start(root);
    const descriptions = await api<Record<string, string>>(serving, '/api/story-descriptions');
    for (const [story, file] of withFile) {
      // every real story file states its user story ("As a ..., I want ..., So that ..."), in one of several layouts
      expect(readFileSync(path.join(folder, file), 'utf8'), file).toMatch(/\bAs an?\b/);
      expect(descriptions[story.key], file).toMatch(/\bAs an?\b/);
      expect(descriptions[story.key], file).toMatch(/I want/);
    }
  });
});

describe('the 8 real prompt templates', () => {
  const { stories } = realSprintStatus();
  // two stories of one epic, as a cycle has them: the epic with a dash in its id where the file has one (5-sr:
  // the hardest to split), else the first epic with two stories
  const epicOf = (wanted: (epicId: string) => boolean) => stories.find((s) => wanted(s.epicId) && stories.filter((t) => t.epicId === s.epicId).length >= 2)?.epicId;
  const pairEpic = epicOf((e) => e.includes('-')) ?? epicOf(() => true)!;
  const pair = stories.filter((s) => s.epicId === pairEpic).slice(0, 2);
  const pairIds = pair.map((s) => s.shortId).join(',');
  if (IS_DEFAULT_TREE) expect(pairIds).toBe('5-sr-1,5-sr-2');

  /** What the spec (§1) lets the orchestrator substitute, and nothing else. */
  function expected(template: string, vars: Record<string, string>): string {
    let out = template;
    for (const [name, value] of Object.entries(vars)) out = out.split(`{{${name}}}`).join(value);
    return out;
  }

  const cases: Array<[TemplateCommand, number | undefined, Record<string, string>]> = [
    ['create-story', undefined, { command: 'create-story' }],
    ['story-discovery', undefined, { command: 'story-discovery' }],
    ['story-review', 1, { command: 'story-review-1', review_attempt: '1' }],
    ['create-tech-spec', undefined, { command: 'create-tech-spec' }],
    ['tech-spec-review', 1, { command: 'tech-spec-review-1', review_attempt: '1' }],
    ['dev-story', undefined, { command: 'dev-story' }],
    ['code-review', 2, { command: 'code-review-2', review_attempt: '2' }],
  ];

  it.each(cases)('%s gets story_key, story_id, epic_id, command, review_attempt and implementation_artifacts only', async (kind, reviewAttempt, own) => {
    const root = projects.copy();
    const layout = await loadProjectLayout(root);
    const spec = buildCommandSpec({ kind, stories: pair, implementationArtifacts: layout.implementationArtifactsRelative, ...(reviewAttempt ? { reviewAttempt } : {}) });
    const template = readFileSync(path.join(layout.promptsDir, TEMPLATE_FOR_COMMAND[kind]), 'utf8');
    const prompt = await renderCommandPrompt(layout, spec);
    expect(prompt).toBe(
      expected(template, {
        story_key: pairIds,
        story_id: pairIds,
        epic_id: pairEpic,
        implementation_artifacts: '_bmad-output/implementation-artifacts',
        ...own,
      }),
    );
    expect(prompt).not.toMatch(/\{\{(story_key|story_id|epic_id|implementation_artifacts)\}\}/);
  });

  it('background-review-chain gets review_type, story_keys and prompt_file only: {{story_key}} reaches the chain agent as written', async () => {
    const root = projects.copy();
    const layout = await loadProjectLayout(root);
    const spec = buildCommandSpec({
      kind: 'background-review-chain',
      stories: pair,
      implementationArtifacts: layout.implementationArtifactsRelative,
      model: 'haiku',
      background: true,
      chain: { reviewType: 'story-review', promptFile: 'prompts/story-review.md' },
    });
    const template = readFileSync(path.join(layout.promptsDir, 'background-review-chain.md'), 'utf8');
    const prompt = await renderCommandPrompt(layout, spec);
    expect(prompt).toBe(expected(template, { review_type: 'story-review', story_keys: pairIds, prompt_file: 'prompts/story-review.md' }));
    expect(prompt).toContain(`Substitute \`{{story_key}}\` = ${pairIds}`);
    expect(prompt).toContain('Substitute `{{review_attempt}}` = 2');
  });
});

describe('the real legacy logs', () => {
  // fec9fe7's counts as a reader took them; on another commit, the log's own lines (the older log is fec9fe7's only)
  const logs: Array<[string, number]> = IS_DEFAULT_TREE
    ? [
        [LEGACY_CSV_REL, 151],
        [OLDER_CSV_REL, 233],
      ]
    : [LEGACY_CSV_REL, OLDER_CSV_REL].filter(treeHas).map((rel) => [rel, csvLineCount(inTree(rel))]);
  if (IS_DEFAULT_TREE) for (const [rel, rows] of logs) expect(csvLineCount(inTree(rel))).toBe(rows);

  it.each(logs)('%s imports completely (%i rows, 6-column lines included), and again adds nothing', async (rel, rows) => {
    const db = await dbs.fresh();
    const file = path.join(REAL_PROJECT, rel);
    expect(await importLegacyCsv(db, file)).toEqual({ imported: rows, skipped: 0, ours: 0, duplicates: 0, errors: [] });
    const before = await legacyEvents(db);
    expect(before).toHaveLength(rows);
    expect(await importLegacyCsv(db, file)).toEqual({ imported: 0, skipped: rows, ours: 0, duplicates: 0, errors: [] });
    expect(await legacyEvents(db)).toEqual(before);
  });

  it.runIf(treeHas(LEGACY_CSV_REL))('groups the interleaved lines of parallel steps into the commands that really ran (17 at fec9fe7)', async () => {
    const db = await dbs.fresh();
    await importLegacyCsv(db, path.join(REAL_PROJECT, LEGACY_CSV_REL));
    const events = await legacyEvents(db);
    const runs = new Map<string, Set<string>>();
    for (const e of events) runs.set(e.run, (runs.get(e.run) ?? new Set()).add(`${e.story} ${e.command}`));
    // one story and one command per run: create-story, story-discovery, the reviews, dev-story... of 4-1 and 4-2
    expect([...runs.values()].every((s) => s.size === 1)).toBe(true);
    const distinct = new Set([...runs.values()].map((s) => [...s][0]));
    expect(runs.size).toBe(distinct.size);
    // fec9fe7: 17, counted by a reader; elsewhere the log's distinct `story command` pairs
    const ran = csvStoryCommands(inTree(LEGACY_CSV_REL)).size;
    if (IS_DEFAULT_TREE) expect(ran).toBe(17);
    expect(runs.size).toBe(ran);
  });
});

describe('a tree without the previous orchestrator\'s database (before its story 5-SR-2, or a copy with it removed)', () => {
  it('keeps our database at the default path, imports the legacy log only, and writes nothing into the real tree', async () => {
    const root = projects.copy();
    // the copy, never the real tree: a tree that has the file stands for one from before it existed
    rmSync(path.join(root, PREVIOUS_DB_REL), { force: true });
    const realTree = treeHashes(REAL_PROJECT);
    const serving = await start(root);
    expect(serving.dbFile).toBe(path.join(root, PREVIOUS_DB_REL));
    expect(serving.notices.join('\n')).not.toMatch(/previous orchestrator/);
    const lines = treeHas(LEGACY_CSV_REL) ? csvLineCount(inTree(LEGACY_CSV_REL)) : 0;
    expect(await api<unknown[]>(serving, '/api/legacy-events')).toHaveLength(lines);
    await serving.close();
    servings.splice(0);
    expect(treeHashes(REAL_PROJECT)).toEqual(realTree);
  });
});

// the previous orchestrator's database is in the project from its story 5-SR-2 on; the index we rebuild other
// commits from holds no binaries, so a rebuilt tree may lack it: then these tests have nothing to hold
describe.runIf(treeHas(PREVIOUS_DB_REL))("the previous orchestrator's database at the default path", () => {
  it('stays byte-identical; ours is kept beside it, said once at start-up; a restart changes nothing', async () => {
    const root = projects.copy();
    const previous = path.join(root, PREVIOUS_DB_REL);
    const hash = sha256(previous);
    const realTree = treeHashes(REAL_PROJECT);

    const first = await start(root);
    expect(first.dbFile).toBe(path.join(path.dirname(previous), OWN_DB_BESIDE_PREVIOUS));
    expect(first.notices.join('\n')).toMatch(/previous orchestrator.*left exactly as it is/);
    const legacyBefore = await api<unknown[]>(first, '/api/legacy-events');
    expect(legacyBefore).toHaveLength(IS_DEFAULT_TREE ? 151 : csvLineCount(inTree(LEGACY_CSV_REL)));
    const records = await api<{ imports: { source: string; file: string }[] }>(first, '/api/legacy-records');
    expect(records.imports).toEqual([expect.objectContaining({ source: 'previous-db', file: previous })]);
    await first.close();
    servings.splice(0);

    const second = await start(root);
    expect(second.notices.join('\n')).toMatch(/imported before/);
    expect(await api<unknown[]>(second, '/api/legacy-events')).toEqual(legacyBefore);
    await second.close();
    servings.splice(0);

    expect(sha256(previous)).toBe(hash);
    expect(treeHashes(REAL_PROJECT)).toEqual(realTree);
  });

  it('shows its history through the API: batches, stories, commands, events and background tasks', async () => {
    const root = projects.copy();
    const previous = path.join(root, PREVIOUS_DB_REL);
    // rows in the real file's own schema (its CREATE statements, read from it), written by this test
    const schema = new BetterSqlite3(path.join(REAL_PROJECT, PREVIOUS_DB_REL), { readonly: true });
    const ddl = schema.prepare(`SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'`).pluck().all() as string[];
    schema.close();
    const { rmSync } = await import('node:fs');
    rmSync(previous);
    const old = new BetterSqlite3(previous);
    for (const statement of ddl) old.exec(statement);
    old.exec(`INSERT INTO batches (id, started_at, ended_at, max_cycles, cycles_completed, status) VALUES (1, 1769210000, 1769220000, 2, 2, 'completed')`);
    old.exec(`INSERT INTO stories (id, batch_id, story_key, epic_id, status, started_at, ended_at) VALUES (1, 1, '5-sr-1', '5-sr', 'done', 1769210010, 1769215000)`);
    old.exec(`INSERT INTO commands (id, story_id, command, task_id, started_at, ended_at, status, output_summary) VALUES (1, 1, 'dev-story', 'implement', 1769210100, 1769210900, 'completed', 'All tests pass')`);
    old.exec(`INSERT INTO commands (id, story_id, command, task_id, started_at, ended_at, status, output_summary) VALUES (2, 1, 'code-review-1', 'analyze', 1769211000, 1769211500, 'completed', 'ZERO ISSUES')`);
    old.exec(`INSERT INTO events (id, batch_id, story_id, command_id, timestamp, epic_id, story_key, command, task_id, status, message) VALUES (1, 1, 1, 1, 1769210100, '5-sr', '5-sr-1', 'dev-story', 'implement', 'start', 'Implementing')`);
    old.exec(`INSERT INTO events (id, batch_id, story_id, command_id, timestamp, epic_id, story_key, command, task_id, status, message) VALUES (2, 1, 1, 1, 1769210900, '5-sr', '5-sr-1', 'dev-story', 'implement', 'end', 'Done')`);
    old.exec(`INSERT INTO background_tasks (id, batch_id, story_key, task_type, spawned_at, completed_at, status) VALUES (1, 1, '5-sr-1', 'story-review-chain', 1769210050, 1769210400, 'completed')`);
    old.close();
    const hash = sha256(previous);

    const serving = await start(root);
    expect(serving.notices.join('\n')).toMatch(/1 batches, 1 stories, 2 commands, 2 events, 1 background tasks/);
    const legacy = await api<Array<{ source: string; story: string; command: string; status: string; run: string }>>(serving, '/api/legacy-events');
    const fromDb = legacy.filter((e) => e.source === 'previous-db');
    expect(fromDb.map((e) => `${e.story} ${e.command} ${e.status}`)).toEqual([
      '5-sr-1 dev-story start',
      '5-sr-1 dev-story end',
      '5-sr-1 code-review-1 start',
      '5-sr-1 code-review-1 end',
    ]);
    const records = await api<{ records: Array<{ kind: string; story: string | null; label: string | null; status: string | null }> }>(serving, '/api/legacy-records');
    expect(records.records.map((r) => `${r.kind} ${r.story ?? '-'} ${r.label ?? '-'} ${r.status}`).sort()).toEqual([
      'background-task 5-sr-1 story-review-chain completed',
      'batch - 2 completed',
      'story 5-sr-1 - done',
    ]);
    await serving.close();
    servings.splice(0);
    expect(sha256(previous)).toBe(hash);
  });
});
