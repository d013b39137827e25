// Table tests for story keys: epic id / short id extraction and the natural epic and story order.
import { describe, expect, it } from 'vitest';
import { compareEpicIds, compareStories, parseStoryKey, type StoryKeyInfo } from '../../machines/rules/story-keys.js';

describe('parseStoryKey', () => {
  it.each<[string, string[], [string, number, string] | null]>([
    ['2a-1-session-scanner', ['2a'], ['2a', 1, '2a-1']],
    ['2a-1-session-scanner', [], ['2a', 1, '2a-1']],
    ['5-sr-1-folder-structure', ['5-sr'], ['5-sr', 1, '5-sr-1']],
    // `5-sr-1…` does not start with `5-<number>`, so the declared `5` does not match.
    ['5-sr-1-folder-structure', ['5'], ['5-sr', 1, '5-sr-1']],
    ['5-sr-1-folder-structure', [], ['5-sr', 1, '5-sr-1']],
    ['10-2-x', ['10'], ['10', 2, '10-2']],
    ['10-2-x', ['1'], ['10', 2, '10-2']],
    ['10-2-x', [], ['10', 2, '10-2']],
    // The number must be a whole segment: `2a-10` is story 10, not story 1 of a longer id.
    ['2a-10-search', ['2a'], ['2a', 10, '2a-10']],
    ['3a-1', ['3a'], ['3a', 1, '3a-1']],
    // Longest declared id wins.
    ['1-2-3-x', ['1', '1-2'], ['1-2', 3, '1-2-3']],
    ['1-2-3-x', ['1'], ['1', 2, '1-2']],
    ['1-2-3-x', [], ['1', 2, '1-2']],
    // A declared id whose next segment is not a number is skipped for a shorter one that fits.
    ['7-ab-2-y', ['7-ab', '7'], ['7-ab', 2, '7-ab-2']],
    ['2b-03-padded', [], ['2b', 3, '2b-03']],
    ['2b-1-slug-with-9-digits', [], ['2b', 1, '2b-1']],
    ['session-scanner', [], null],
    ['2a', ['2a'], null],
    ['-1-x', [], null],
    ['', [], null],
  ])('%s with declared %j', (key, declared, expected) => {
    const info = parseStoryKey(key, declared);
    if (expected === null) expect(info).toBeNull();
    else expect(info).toEqual({ key, epicId: expected[0], storyNumber: expected[1], shortId: expected[2] });
  });
});

describe('compareEpicIds', () => {
  // spec §2: the suffix by character code, so an empty suffix first and `-` before letters (5 < 5-sr < 5a)
  const ordered = ['1', '2', '2a', '2b', '5', '5-sr', '5a', '5b', '9', '10', '10a', '100', 'misc'];

  it('sorts a shuffled list into natural order', () => {
    const shuffled = [...ordered].reverse();
    shuffled.push(shuffled.shift() as string);
    expect(shuffled.sort(compareEpicIds)).toEqual(ordered);
  });

  it.each(ordered.flatMap((a, i) => ordered.map((b, j) => [a, b, Math.sign(i - j)] as const)))(
    'compare(%s, %s) = %d',
    (a, b, sign) => {
      expect(Math.sign(compareEpicIds(a, b))).toBe(sign);
    },
  );

  it.each([
    ['2', '02'],
    ['5-a', '5a'],
  ])('breaks ties by raw text so distinct ids never compare equal: %s vs %s', (a, b) => {
    expect(compareEpicIds(a, b)).not.toBe(0);
    expect(Math.sign(compareEpicIds(a, b))).toBe(-Math.sign(compareEpicIds(b, a)));
  });
});

describe('compareStories', () => {
  const story = (key: string): StoryKeyInfo => {
    const info = parseStoryKey(key, ['5-sr']);
    if (!info) throw new Error(key);
    return info;
  };

  it('orders by epic, then story number, then key', () => {
    const keys = ['10-1-a', '2b-1-a', '2a-10-a', '2a-2-a', '2a-1-b', '2a-1-a', '5-sr-1-a', '5-2-a', '1-3-a'];
    const sorted = keys.map(story).sort(compareStories).map((s) => s.key);
    expect(sorted).toEqual(['1-3-a', '2a-1-a', '2a-1-b', '2a-2-a', '2a-10-a', '2b-1-a', '5-2-a', '5-sr-1-a', '10-1-a']);
  });

  it('is 0 only for the same key', () => {
    expect(compareStories(story('2a-1-a'), story('2a-1-a'))).toBe(0);
  });
});
