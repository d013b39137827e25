// sprint-status on disk: a half-written file restored after a kill (spec §4), a vanished project, writes that re-read first.
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readSprintStatusFile, SprintStatusError, writeFileAtomic, writeStoryStatusFile } from '../../machines/actors/sprint-files.js';
import { createSprintStatusKeeper } from '../../machines/actors/sprint-status-keeper.js';
import { loadProjectLayout, type ProjectLayout } from '../../machines/project/layout.js';
import { storyFileFor } from '../../machines/project/story-files.js';
import { DEMO_PROJECT, SPRINT_STATUS_REL } from '../support/scenario.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function demoCopy(): Promise<{ root: string; layout: ProjectLayout; file: string; text: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sprint-files-'));
  dirs.push(dir);
  const root = path.join(dir, 'project');
  cpSync(DEMO_PROJECT, root, { recursive: true });
  const layout = await loadProjectLayout(root);
  const file = path.join(root, SPRINT_STATUS_REL);
  return { root, layout, file, text: readFileSync(file, 'utf8') };
}

describe('a half-written sprint-status after a kill (spec §4)', () => {
  it.each([
    ['empty', ''],
    ['cut short in the middle of a line', (text: string) => text.slice(0, text.indexOf('development_status:') + 40) + '\n  "unclosed: [\n'],
  ])('is restored atomically to the last content read when %s, with a warning', async (_, damage) => {
    const { layout, file, text } = await demoCopy();
    const keeper = createSprintStatusKeeper(layout);
    const first = await keeper.read();
    expect(first.restored).toBeNull();
    keeper.noteKilled();
    writeFileSync(file, typeof damage === 'string' ? damage : damage(text));
    const second = await keeper.read();
    expect(second.restored).toMatch(/sprint-status\.yaml was (empty|unparseable) after a subagent was ended .* restored to the last content the runner read/);
    expect(second.status).toEqual(first.status);
    expect(readFileSync(file, 'utf8')).toBe(text);
    // no temp file left beside it
    expect(readdirSync(path.dirname(file)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('is not touched without a kill: an unparseable file is the error it always was', async () => {
    const { layout, file } = await demoCopy();
    const keeper = createSprintStatusKeeper(layout);
    await keeper.read();
    writeFileSync(file, 'development_status:\n  1-1-x: [\n');
    await expect(keeper.read()).rejects.toThrow(SprintStatusError);
    expect(readFileSync(file, 'utf8')).toBe('development_status:\n  1-1-x: [\n');
  });

  it('remembers across processes through its copy: a restart after a crash restores too', async () => {
    const { layout, file, text } = await demoCopy();
    const copyFile = path.join(path.dirname(layout.root), 'db.last-sprint-status.yaml');
    await createSprintStatusKeeper(layout, { copyFile }).read();
    writeFileSync(file, '');
    const afterCrash = createSprintStatusKeeper(layout, { copyFile, killedBefore: true });
    expect((await afterCrash.read()).restored).not.toBeNull();
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('a good read in between ends the suspicion: a later broken file is not overwritten', async () => {
    const { layout, file } = await demoCopy();
    const keeper = createSprintStatusKeeper(layout);
    await keeper.read();
    keeper.noteKilled();
    await keeper.read();
    writeFileSync(file, '');
    await expect(keeper.read()).rejects.toThrow(/no development_status|not a YAML mapping/);
    expect(readFileSync(file, 'utf8')).toBe('');
  });
});

describe('a vanished project', () => {
  it('stops with a clear message and recreates nothing', async () => {
    const { root, layout } = await demoCopy();
    rmSync(root, { recursive: true, force: true });
    await expect(readSprintStatusFile(layout)).rejects.toThrow(/The project is gone: .* no longer exists.*nothing was recreated/);
    await expect(writeStoryStatusFile(layout, '1-1-project-scaffold', 'done')).rejects.toThrow(/The project is gone/);
    expect(existsSync(root)).toBe(false);
  });
});

describe('writing one story status', () => {
  it('says "cannot set X to done" once', async () => {
    const { layout, file } = await demoCopy();
    writeFileSync(file, '');
    const error = await writeStoryStatusFile(layout, '2a-1-login', 'done').then(() => null, (e: Error) => e);
    expect(error?.message.match(/cannot set 2a-1-login to done/g)).toHaveLength(1);
    expect(error?.message).toMatch(/sprint-status is unreadable/);
  });

  it('abandons a write whose file changed after it was read; a hand edit of another line made before the write survives', async () => {
    const { layout, file, text } = await demoCopy();
    expect(await writeFileAtomic(file, 'replaced\n', async () => false)).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(readdirSync(path.dirname(file)).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const story = /^ {2}(1-\d-[\w-]+): (\S+)/m.exec(text)!;
    // a hand edit of another line lands while the runner writes: both survive
    const edited = text.replace('# Story Status:', '# Story Status (edited by hand):');
    writeFileSync(file, edited);
    await writeStoryStatusFile(layout, story[1]!, 'done');
    expect(readFileSync(file, 'utf8')).toBe(edited.replace(`  ${story[1]}: ${story[2]}`, `  ${story[1]}: done`));
  });
});

describe('finding a story\'s file', () => {
  const story = { key: '5-sr-1-folder-structure', shortId: '5-sr-1' };
  it.each([
    [['5-sr-1-folder-structure.md'], '5-sr-1-folder-structure.md'],
    [['story-5-sr-1.md'], 'story-5-sr-1.md'],
    [['Story-5-SR-1.md'], 'Story-5-SR-1.md'],
    [['5-sr-1-other-slug.md'], '5-sr-1-other-slug.md'],
    [['5-sr-1-discovery-story.md', 'tech-spec-5-sr-1.md', '5-sr-10-x.md', 'story-5-sr-11.md'], null],
    [['5-sr-1-other-slug.md', 'story-5-sr-1.md', '5-sr-1-folder-structure.md'], '5-sr-1-folder-structure.md'],
  ])('in %j finds %s', (files, expected) => {
    expect(storyFileFor(files, story)).toBe(expected);
  });
});
