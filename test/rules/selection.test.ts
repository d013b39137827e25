// Table tests for Step 1: eligibility, order, entry steps, pairing, completion, and the command variables.
import { describe, expect, it } from 'vitest';
import { commandVariables, entryStepOf, selectCycle } from '../../machines/rules/selection.js';
import { parseSprintStatus, type SprintStatus } from '../../machines/rules/sprint-status.js';
import { parseStoryKey } from '../../machines/rules/story-keys.js';

/** Builds a sprint status from `key: value` lines, in the given (file) order. */
function sprint(...entries: string[]): SprintStatus {
  const text = `development_status:\n${entries.map((e) => `  ${e}\n`).join('')}`;
  const result = parseSprintStatus(text, 'sprint-status.yaml');
  if (!result.ok) throw new Error(result.error.reason);
  return result.status;
}

describe('entryStepOf', () => {
  it.each([
    ['backlog', 'create'],
    ['ready-for-dev', 'tech-spec'],
    ['in-progress', 'dev'],
    ['review', 'dev'],
    ['done', null],
    ['blocked', null],
    [null, null],
  ] as const)('%s -> %s', (status, step) => {
    expect(entryStepOf(status)).toBe(step);
  });
});

describe('selectCycle', () => {
  it.each<[string, string[], string[], string]>([
    ['first backlog story alone when it is the only eligible one', ['epic-1: in-progress', '1-1-a: done', '1-2-b: backlog'], ['1-2'], 'create'],
    ['a pair of backlog stories of one epic', ['1-1-a: backlog', '1-2-b: backlog', '1-3-c: backlog'], ['1-1', '1-2'], 'create'],
    ['a pair of ready-for-dev stories (drafted is an alias)', ['1-1-a: ready-for-dev', '1-2-b: drafted'], ['1-1', '1-2'], 'tech-spec'],
    ['in-progress and review pair: both enter at dev', ['1-1-a: in-progress', '1-2-b: review'], ['1-1', '1-2'], 'dev'],
    ['no pair across entry steps (review with backlog)', ['1-1-a: review', '1-2-b: backlog'], ['1-1'], 'dev'],
    ['no pair across entry steps (backlog with ready-for-dev)', ['1-1-a: backlog', '1-2-b: ready-for-dev', '1-3-c: backlog'], ['1-1'], 'create'],
    ['no pair across epics', ['1-1-a: backlog', '2-1-b: backlog'], ['1-1'], 'create'],
    ['done, blocked and unexpected stories are passed over for the candidate', ['1-1-a: backlog', '1-2-b: done', '1-3-c: blocked', '1-4-d: weird', '1-5-e: backlog'], ['1-1', '1-5'], 'create'],
    ['order is by epic and number, not by file order', ['2-1-z: backlog', '1-10-b: backlog', '1-2-a: backlog'], ['1-2', '1-10'], 'create'],
    ['2a comes before 2b and 10', ['10-1-a: backlog', '2b-1-a: backlog', '2a-1-a: review', '2a-2-b: review'], ['2a-1', '2a-2'], 'dev'],
    ['5-sr keys keep their epic', ['epic-5-sr: in-progress', '5-sr-2-b: backlog', '5-sr-1-a: backlog'], ['5-sr-1', '5-sr-2'], 'create'],
    ['3a-1 and 3a-10 are different stories', ['3a-10-b: backlog', '3a-1-a: backlog'], ['3a-1', '3a-10'], 'create'],
    ['a story whose key has no number is unexpected', ['odd-key: backlog', '1-1-a: backlog'], ['1-1'], 'create'],
  ])('%s', (_label, entries, shortIds, entryStep) => {
    const result = selectCycle(sprint(...entries));
    expect(result.kind).toBe('cycle');
    if (result.kind !== 'cycle') return;
    expect(result.stories.map((s) => s.shortId)).toEqual(shortIds);
    expect(result.entryStep).toBe(entryStep);
  });

  it('searches no further than the next eligible story of the same epic', () => {
    // 1-2 is eligible but enters elsewhere: the cycle is [1-1], 1-3 is not considered.
    const result = selectCycle(sprint('1-1-a: backlog', '1-2-b: review', '1-3-c: backlog'));
    expect(result).toMatchObject({ kind: 'cycle', entryStep: 'create' });
    if (result.kind === 'cycle') expect(result.stories.map((s) => s.shortId)).toEqual(['1-1']);
  });

  it('lists unexpected statuses in story order, with the cycle', () => {
    const result = selectCycle(sprint('2-1-a: contexted', '1-2-b: ""', '1-1-a: backlog', '1-3-c: 7'));
    expect(result.unexpected.map((s) => [s.shortId, s.rawStatus])).toEqual([
      ['1-2', ''],
      ['1-3', '7'],
      ['2-1', 'contexted'],
    ]);
  });

  it.each<[string, string[], number, number, number]>([
    ['all done', ['1-1-a: done', '1-2-b: done'], 2, 0, 0],
    ['done and blocked', ['1-1-a: done', '1-2-b: blocked', '2-1-c: blocked'], 1, 2, 0],
    ['only unexpected left', ['1-1-a: done', '1-2-b: drafting'], 1, 0, 1],
    ['an empty sprint', [], 0, 0, 0],
  ])('completes when nothing is eligible: %s', (_label, entries, done, blocked, unexpected) => {
    const result = selectCycle(entries.length ? sprint(...entries) : { epics: [], stories: [], project: null });
    expect(result).toMatchObject({ kind: 'complete', done, blocked });
    expect(result.unexpected).toHaveLength(unexpected);
  });

  it('does not mutate the story list', () => {
    const status = sprint('2-1-a: backlog', '1-1-a: backlog');
    const before = status.stories.map((s) => s.key);
    selectCycle(status);
    expect(status.stories.map((s) => s.key)).toEqual(before);
  });
});

describe('commandVariables', () => {
  const story = (key: string) => parseStoryKey(key, ['5-sr']) ?? (null as never);

  it.each<[string, string[], string, Parameters<typeof commandVariables>[3], Record<string, string>]>([
    [
      'one story',
      ['3a-1-scanner'],
      'create-story',
      undefined,
      { story_key: '3a-1', story_id: '3a-1', epic_id: '3a', command: 'create-story', implementation_artifacts: 'out/impl' },
    ],
    [
      'a pair: comma-joined short ids, the epic once',
      ['3a-1-scanner', '3a-2-index'],
      'story-review-1',
      { reviewAttempt: 1 },
      {
        story_key: '3a-1,3a-2',
        story_id: '3a-1,3a-2',
        epic_id: '3a',
        command: 'story-review-1',
        implementation_artifacts: 'out/impl',
        review_attempt: '1',
      },
    ],
    [
      'distinct epics in story order',
      ['5-sr-1-a', '2-1-b', '5-sr-2-c'],
      'batch-commit',
      undefined,
      { story_key: '5-sr-1,2-1,5-sr-2', story_id: '5-sr-1,2-1,5-sr-2', epic_id: '5-sr,2', command: 'batch-commit', implementation_artifacts: 'out/impl' },
    ],
    [
      'the background chain',
      ['1-1-a', '1-2-b'],
      'background-review-chain',
      { reviewType: 'story-review', storyKeys: '1-1,1-2', promptFile: 'prompts/story-review.md' },
      {
        story_key: '1-1,1-2',
        story_id: '1-1,1-2',
        epic_id: '1',
        command: 'background-review-chain',
        implementation_artifacts: 'out/impl',
        review_type: 'story-review',
        story_keys: '1-1,1-2',
        prompt_file: 'prompts/story-review.md',
      },
    ],
  ])('%s', (_label, keys, command, extra, expected) => {
    expect(commandVariables(keys.map(story), command, 'out/impl', extra)).toEqual(expected);
  });
});
