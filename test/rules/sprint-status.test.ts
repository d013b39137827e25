// Table tests for sprint-status.yaml: parsing (epics, stories, aliases, errors), the in-place status edit, and the template.
import { describe, expect, it } from 'vitest';
import {
  parseSprintStatus,
  setStoryStatus,
  sprintStatusTemplate,
  type SprintStatus,
  type StoryEntry,
} from '../../machines/rules/sprint-status.js';
import { fuzzStrings } from '../support/fuzz.js';

const SAMPLE = `# generated: 2025-01-10
# project: demo
# STATUS DEFINITIONS: backlog | ready-for-dev | in-progress | review | done

generated: 2025-01-10
project: demo
project_key: DEMO
tracking_system: file-system
story_location: _bmad-output/implementation-artifacts

development_status:
  # Epic 2a: sessions
  epic-2a: in-progress
  2a-1-session-scanner: done
  2a-2-session-index: review   # picked up again
  2a-10-search: backlog
  epic-2a-retrospective: optional

  # Epic 5-sr
  epic-5-sr: contexted
  5-sr-1-folder-structure: drafted
  5-sr-2-naming: contexted
  5-sr-3-x: ""
  5-sr-4-y: 3
  5-sr-5-z:
  5-sr-6-w: { nested: map }
  5-sr-7-v: blocked
  5-sr-8-u: in-progress
  odd-key: backlog
`;

const ok = (text: string): SprintStatus => {
  const result = parseSprintStatus(text, 'sprint-status.yaml');
  if (!result.ok) throw new Error(`unexpected parse error: ${JSON.stringify(result.error)}`);
  return result.status;
};

describe('parseSprintStatus', () => {
  const status = ok(SAMPLE);

  it('reads epics, ignoring retrospectives', () => {
    expect(status.epics).toEqual([
      { key: 'epic-2a', epicId: '2a', status: 'in-progress' },
      { key: 'epic-5-sr', epicId: '5-sr', status: 'contexted' },
    ]);
    expect(status.project).toBe('demo');
  });

  it('keeps stories in file order', () => {
    expect(status.stories.map((s) => s.key)).toEqual([
      '2a-1-session-scanner',
      '2a-2-session-index',
      '2a-10-search',
      '5-sr-1-folder-structure',
      '5-sr-2-naming',
      '5-sr-3-x',
      '5-sr-4-y',
      '5-sr-5-z',
      '5-sr-6-w',
      '5-sr-7-v',
      '5-sr-8-u',
      'odd-key',
    ]);
  });

  it.each<[string, Partial<StoryEntry>]>([
    ['2a-1-session-scanner', { epicId: '2a', storyNumber: 1, shortId: '2a-1', rawStatus: 'done', status: 'done' }],
    ['2a-2-session-index', { shortId: '2a-2', rawStatus: 'review', status: 'review' }],
    ['2a-10-search', { storyNumber: 10, shortId: '2a-10', status: 'backlog' }],
    // drafted is the legacy name of ready-for-dev.
    ['5-sr-1-folder-structure', { epicId: '5-sr', shortId: '5-sr-1', rawStatus: 'drafted', status: 'ready-for-dev' }],
    // contexted is an epic status: on a story it is unexpected.
    ['5-sr-2-naming', { rawStatus: 'contexted', status: null }],
    ['5-sr-3-x', { rawStatus: '', status: null }],
    ['5-sr-4-y', { rawStatus: '3', status: null }],
    ['5-sr-5-z', { rawStatus: '', status: null }],
    ['5-sr-6-w', { rawStatus: '{ nested: map }', status: null }],
    ['5-sr-7-v', { status: 'blocked' }],
    ['5-sr-8-u', { status: 'in-progress' }],
    ['odd-key', { epicId: '', storyNumber: 0, shortId: 'odd-key', rawStatus: 'backlog', status: null, invalidKey: true }],
  ])('story %s', (key, expected) => {
    expect(status.stories.find((s) => s.key === key)).toMatchObject(expected);
  });

  it('uses declared epic ids and falls back to the part before the first number', () => {
    const s = ok('development_status:\n  epic-5: backlog\n  5-sr-1-a: backlog\n  5-2-b: backlog\n');
    expect(s.stories.map((x) => [x.epicId, x.shortId])).toEqual([
      ['5-sr', '5-sr-1'],
      ['5', '5-2'],
    ]);
  });

  it.each([
    ['an empty development_status (only comments under it)', 'project: p\ndevelopment_status:\n  # nothing yet\n'],
    ['an empty flow mapping', 'development_status: {}\n'],
    ['a null value', 'development_status: ~\n'],
  ])('accepts %s as no stories', (_label, text) => {
    expect(ok(text)).toMatchObject({ epics: [], stories: [] });
  });

  it('reads no project as null', () => {
    expect(ok('development_status: {}\n').project).toBeNull();
  });

  it('handles CRLF line endings', () => {
    const s = ok(SAMPLE.replace(/\n/g, '\r\n'));
    expect(s.stories.map((x) => x.rawStatus)).toEqual(ok(SAMPLE).stories.map((x) => x.rawStatus));
  });

  it.each<[string, string, number, number, RegExp]>([
    ['an unclosed flow sequence', 'project: p\ndevelopment_status:\n  1-1-a: [review\n  1-1-b: done\n', 4, 3, /end with a \]/],
    ['a bad indent', 'development_status:\n  1-1-a: review\n 1-1-b: done\n', 3, 1, /same column/],
    ['a duplicate key', 'development_status:\n  1-1-a: review\n  1-1-a: done\n', 3, 3, /unique/i],
    ['no development_status', 'project: p\n', 1, 1, /development_status/],
    ['an empty file', '', 1, 1, /development_status/],
    ['a list at the root', '- a\n- b\n', 1, 1, /development_status/],
    ['development_status as a list', 'project: p\ndevelopment_status:\n  - 1-1-a\n', 3, 3, /development_status is not a mapping/],
    ['development_status as a scalar', 'development_status: review\n', 1, 21, /development_status is not a mapping/],
  ])('reports %s with file, line and column', (_label, text, line, column, reason) => {
    const result = parseSprintStatus(text, 'x/sprint-status.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ file: 'x/sprint-status.yaml', line, column });
    expect(result.error.reason).toMatch(reason);
    expect(result.error.reason).not.toMatch(/\n/);
  });

  it('never throws on random input', () => {
    const inputs = fuzzStrings(0x5eed, 1000, [
      'development_status:\n',
      '  1-1-a: review\n',
      '  epic-1: done\n',
      'epic-',
      '-retrospective',
      ': ',
      '\n  ',
      '"',
      "'",
      '&a ',
      '*a',
      '!!str ',
      '{',
      '}',
      '[',
      '? ',
      '---\n',
      '%YAML 1.2\n',
      '|\n',
    ]);
    for (const input of inputs) {
      const result = parseSprintStatus(input, 'f');
      expect(typeof result.ok).toBe('boolean');
    }
  });
});

describe('setStoryStatus', () => {
  // `@@` marks the one value that changes: the input has the old text there, the expected output the new text.
  const BASE = `# Sprint status (keep this comment)
project: demo   # trailing comment stays
1-1-a: review   # a top-level key with the same name is not the story

development_status:
  # 1-1-a: review  (this comment mentions the key too)
  epic-1: in-progress
  1-1-ab: review
  1-1-a: @@   # next up
  1-1-abc: 'review'

  epic-2: backlog
  2-1-x: "backlog"
`;

  it.each<[string, string, string, 'done' | 'blocked', string, string]>([
    ['a plain value with a trailing comment', BASE, '1-1-a', 'done', 'review', 'done'],
    ['blocked', BASE, '1-1-a', 'blocked', 'in-progress', 'blocked'],
    ['a double-quoted value', BASE, '1-1-a', 'done', '"review"', '"done"'],
    ['a single-quoted value', BASE, '1-1-a', 'blocked', "'review'", "'blocked'"],
    // `key: # c` holds no value; ` done` goes right after the colon so the comment keeps its space.
    ['an empty value before a comment', BASE.replace(': @@', ':@@'), '1-1-a', 'done', ' ', ' done '],
    ['a key that is a prefix of the next key', 'development_status:\n  1-1-a: @@\n  1-1-ab: review\n', '1-1-a', 'done', 'review', 'done'],
    ['a key that extends the previous key', 'development_status:\n  1-1-a: review\n  1-1-ab: @@\n', '1-1-ab', 'done', 'review', 'done'],
    ['a quoted key', 'development_status:\n  "1-1-a": @@ # c\n', '1-1-a', 'done', 'review', 'done'],
    ['an empty value at the end of the file', 'development_status:\n  1-1-b: review\n  1-1-a:@@', '1-1-a', 'done', '', ' done'],
    ['an empty value with CRLF', 'development_status:\r\n  1-1-a:@@\r\n  1-1-b: review\r\n', '1-1-a', 'done', '', ' done'],
    ['a null value', 'development_status:\n  1-1-a: @@\n', '1-1-a', 'done', '~', 'done'],
    ['an anchored value', 'development_status:\n  1-1-a: &s @@\n  1-1-b: *s\n', '1-1-a', 'done', 'review', 'done'],
    ['a flow mapping', 'development_status: {1-1-ab: review, 1-1-a: @@, 1-1-b: done}\n', '1-1-a', 'done', 'review', 'done'],
    ['a block scalar', 'development_status:\n  1-1-a: @@  1-1-b: done\n', '1-1-a', 'done', '|\n    review\n', 'done\n'],
    ['no final newline', 'development_status:\n  1-1-a: @@', '1-1-a', 'blocked', 'review', 'blocked'],
  ])('changes only %s', (_label, template, key, status, oldText, newText) => {
    const input = template.replace('@@', oldText);
    const expected = template.replace('@@', newText);
    expect(setStoryStatus(input, key, status)).toBe(expected);
  });

  it('keeps CRLF line endings and every other byte of a commented multi-section file', () => {
    const template = BASE.replace(/\n/g, '\r\n');
    const input = template.replace('@@', 'review');
    const out = setStoryStatus(input, '1-1-a', 'done');
    expect(out).toBe(template.replace('@@', 'done'));
    expect(out.split('\r\n').length).toBe(input.split('\r\n').length);
    expect(out.replace(/\r\n/g, '')).not.toMatch(/\n/);
  });

  it('leaves the other stories readable and unchanged', () => {
    const input = BASE.replace('@@', 'review');
    const before = ok(input);
    const after = ok(setStoryStatus(input, '1-1-ab', 'done'));
    expect(after.stories.map((s) => [s.key, s.status])).toEqual(
      before.stories.map((s) => [s.key, s.key === '1-1-ab' ? 'done' : s.status]),
    );
  });

  it.each([
    ['a missing story', BASE.replace('@@', 'review'), '9-9-zz', /9-9-zz/],
    ['a key only in a comment', 'development_status:\n  # 1-1-q: review\n  1-1-a: review\n', '1-1-q', /1-1-q/],
    ['a key only outside development_status', '1-1-q: review\ndevelopment_status:\n  1-1-a: review\n', '1-1-q', /1-1-q/],
    ['a prefix of an existing key', 'development_status:\n  1-1-ab: review\n', '1-1-a', /1-1-a/],
    ['an unreadable file', 'development_status:\n  1-1-a: [review\n', '1-1-a', /1-1-a.*line 3, column 1/],
  ])('throws naming the key for %s', (_label, text, key, message) => {
    expect(() => setStoryStatus(text, key, 'done')).toThrow(message);
  });
});

describe('sprintStatusTemplate', () => {
  const opts = {
    project: 'My Project',
    projectKey: 'a: b',
    storyLocation: '{project-root}/_bmad-output/implementation-artifacts',
    generated: '2025-01-10T08:00:00.000Z',
  };
  const text = sprintStatusTemplate(opts);

  it('is a valid sprint status with no stories', () => {
    expect(ok(text)).toEqual({ epics: [], stories: [], project: 'My Project' });
  });

  it('writes the spec fields, quoting values YAML would misread', async () => {
    const { parse } = await import('yaml');
    expect(parse(text)).toEqual({
      generated: opts.generated,
      project: opts.project,
      project_key: opts.projectKey,
      tracking_system: 'file-system',
      story_location: opts.storyLocation,
      development_status: null,
    });
  });

  it('says that sprint planning must be run, in a comment header', () => {
    expect(text.split('\n')[0]).toMatch(/^# /);
    expect(text).toMatch(/^#.*sprint planning/im);
  });
});
