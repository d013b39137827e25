// Table tests for Step 5's consecutive-error streaks.
import { describe, expect, it } from 'vitest';
import { MAX_CONSECUTIVE_ERRORS, recordFailure, recordSuccess, type ErrorStreaks } from '../../machines/rules/errors.js';

const streak = (count: number, command: string | null = 'dev-story') => ({ count, command });

describe('recordFailure', () => {
  it('blocks on the third consecutive error', () => {
    expect(MAX_CONSECUTIVE_ERRORS).toBe(3);
  });

  it.each<[string, ErrorStreaks, string[], string, ErrorStreaks, string[]]>([
    ['a first failure', {}, ['1-1'], 'dev-story', { '1-1': streak(1) }, []],
    ['a second failure', { '1-1': streak(1) }, ['1-1'], 'dev-story', { '1-1': streak(2) }, []],
    ['the third failure blocks', { '1-1': streak(2) }, ['1-1'], 'dev-story', { '1-1': streak(3) }, ['1-1']],
    ['past the limit is not newly blocked', { '1-1': streak(3) }, ['1-1'], 'dev-story', { '1-1': streak(4) }, []],
    ['another command continues the streak and takes it over', { '1-1': streak(2, 'dev-story') }, ['1-1'], 'code-review-1', { '1-1': streak(3, 'code-review-1') }, ['1-1']],
    ['a multi-story failure counts once per story', { '1-1': streak(2), '1-2': streak(0, null) }, ['1-1', '1-2'], 'dev-story', { '1-1': streak(3), '1-2': streak(1) }, ['1-1']],
    ['a story listed twice counts once', {}, ['1-1', '1-1'], 'dev-story', { '1-1': streak(1) }, []],
    ['both stories of a pair can block together', { '1-1': streak(2), '1-2': streak(2) }, ['1-1', '1-2'], 'dev-story', { '1-1': streak(3), '1-2': streak(3) }, ['1-1', '1-2']],
    ['other stories are untouched', { '2-1': streak(2) }, ['1-1'], 'dev-story', { '1-1': streak(1), '2-1': streak(2) }, []],
  ])('%s', (_label, streaks, ids, command, expected, newlyBlocked) => {
    const frozen = Object.freeze({ ...streaks });
    const result = recordFailure(frozen, ids, command);
    expect(result).toEqual({ streaks: expected, newlyBlocked });
    expect(frozen).toEqual(streaks);
  });
});

describe('recordSuccess', () => {
  it.each<[string, ErrorStreaks, string[], string, ErrorStreaks]>([
    ['the failed command succeeding resets', { '1-1': streak(2, 'dev-story') }, ['1-1'], 'dev-story', { '1-1': streak(0, null) }],
    ['another command succeeding does not reset', { '1-1': streak(2, 'code-review-1') }, ['1-1'], 'dev-story', { '1-1': streak(2, 'code-review-1') }],
    ['a parallel sibling succeeding does not reset', { '1-1': streak(1, 'create-story') }, ['1-1'], 'story-discovery', { '1-1': streak(1, 'create-story') }],
    ['a multi-story success resets each of its stories', { '1-1': streak(2, 'create-story'), '1-2': streak(2, 'create-story'), '2-1': streak(2, 'create-story') }, ['1-1', '1-2'], 'create-story', { '1-1': streak(0, null), '1-2': streak(0, null), '2-1': streak(2, 'create-story') }],
    ['no streak stays no streak', {}, ['1-1'], 'dev-story', {}],
  ])('%s', (_label, streaks, ids, command, expected) => {
    const frozen = Object.freeze({ ...streaks });
    expect(recordSuccess(frozen, ids, command)).toEqual(expected);
    expect(frozen).toEqual(streaks);
  });

  it('a success of the failing step between failures starts the count again', () => {
    let streaks: ErrorStreaks = {};
    const blocked: string[] = [];
    for (const ok of [false, false, true, false, false, false]) {
      if (ok) streaks = recordSuccess(streaks, ['1-1'], 'dev-story');
      else {
        const r = recordFailure(streaks, ['1-1'], 'dev-story');
        streaks = r.streaks;
        blocked.push(...r.newlyBlocked);
      }
    }
    expect(streaks['1-1']!.count).toBe(3);
    expect(blocked).toEqual(['1-1']);
  });

  it('an earlier step that keeps succeeding cannot hold off a later step that keeps failing', () => {
    let streaks: ErrorStreaks = {};
    const blocked: string[] = [];
    for (let cycle = 0; cycle < 3; cycle++) {
      streaks = recordSuccess(streaks, ['1-1'], 'dev-story');
      const r = recordFailure(streaks, ['1-1'], 'code-review-1');
      streaks = r.streaks;
      blocked.push(...r.newlyBlocked);
    }
    expect(blocked).toEqual(['1-1']);
  });
});
