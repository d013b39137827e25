// Table tests for Step 5's consecutive-error counters.
import { describe, expect, it } from 'vitest';
import { MAX_CONSECUTIVE_ERRORS, recordCommandResult } from '../../machines/rules/errors.js';

describe('recordCommandResult', () => {
  it('blocks on the third consecutive error', () => {
    expect(MAX_CONSECUTIVE_ERRORS).toBe(3);
  });

  it.each<[string, Record<string, number>, string[], boolean, Record<string, number>, string[]]>([
    ['a first failure', {}, ['1-1'], false, { '1-1': 1 }, []],
    ['a second failure', { '1-1': 1 }, ['1-1'], false, { '1-1': 2 }, []],
    ['the third failure blocks', { '1-1': 2 }, ['1-1'], false, { '1-1': 3 }, ['1-1']],
    ['past the limit is not newly blocked', { '1-1': 3 }, ['1-1'], false, { '1-1': 4 }, []],
    ['a success resets', { '1-1': 2, '1-2': 1 }, ['1-1'], true, { '1-1': 0, '1-2': 1 }, []],
    ['a multi-story failure counts once per story', { '1-1': 2, '1-2': 0 }, ['1-1', '1-2'], false, { '1-1': 3, '1-2': 1 }, ['1-1']],
    ['a story listed twice counts once', {}, ['1-1', '1-1'], false, { '1-1': 1 }, []],
    ['a multi-story success resets each', { '1-1': 2, '1-2': 2, '2-1': 2 }, ['1-1', '1-2'], true, { '1-1': 0, '1-2': 0, '2-1': 2 }, []],
    ['both stories of a pair can block together', { '1-1': 2, '1-2': 2 }, ['1-1', '1-2'], false, { '1-1': 3, '1-2': 3 }, ['1-1', '1-2']],
  ])('%s', (_label, counters, ids, ok, expected, newlyBlocked) => {
    const frozen = Object.freeze({ ...counters });
    const result = recordCommandResult(frozen, ids, ok);
    expect(result).toEqual({ counters: expected, newlyBlocked });
    expect(frozen).toEqual(counters);
    expect(result.counters).not.toBe(frozen);
  });

  it('a success between failures starts the count again', () => {
    let counters: Record<string, number> = {};
    const blocked: string[] = [];
    for (const ok of [false, false, true, false, false, false]) {
      const r = recordCommandResult(counters, ['1-1'], ok);
      counters = r.counters;
      blocked.push(...r.newlyBlocked);
    }
    expect(counters['1-1']).toBe(3);
    expect(blocked).toEqual(['1-1']);
  });
});
