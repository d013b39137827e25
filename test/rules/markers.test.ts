// Table tests for the tech-spec decision markers (Step 2) and story-review critical-issue markers (Step 2b/3b).
import { describe, expect, it } from 'vitest';
import { idPositions, parseCriticalIssues, parseTechSpecDecisions } from '../../machines/rules/markers.js';
import { fuzzStrings } from '../support/fuzz.js';

const R = '[TECH-SPEC-DECISION: REQUIRED]';
const S = '[TECH-SPEC-DECISION: SKIP]';

describe('parseTechSpecDecisions', () => {
  it.each<[string, string, string[], Record<string, 'REQUIRED' | 'SKIP'>, string[], boolean]>([
    ['a lone marker in a one-story cycle', `Story created.\n${S}\n`, ['2a-1'], { '2a-1': 'SKIP' }, [], false],
    ['a lone REQUIRED marker in a one-story cycle', `${R}`, ['2a-1'], { '2a-1': 'REQUIRED' }, [], true],
    ['case-insensitive markers', '[tech-spec-decision: skip]', ['2a-1'], { '2a-1': 'SKIP' }, [], false],
    ['loose spacing inside the marker', '[ TECH-SPEC-DECISION :SKIP ]', ['2a-1'], { '2a-1': 'SKIP' }, [], false],
    ['no marker: REQUIRED and missing', 'Story created.', ['2a-1'], { '2a-1': 'REQUIRED' }, ['2a-1'], true],
    ['both markers for one story: REQUIRED wins', `${S}\nlater: ${R}`, ['2a-1'], { '2a-1': 'REQUIRED' }, [], true],
    ['a one-story marker on a line naming the story', `2a-1: ${S}`, ['2a-1'], { '2a-1': 'SKIP' }, [], false],
    ['a pair, one line each', `3a-1: ${S}\n3a-2: ${R}`, ['3a-1', '3a-2'], { '3a-1': 'SKIP', '3a-2': 'REQUIRED' }, [], true],
    ['a pair, both SKIP', `- **3a-1** ${S}\n- **3a-2** ${S}`, ['3a-1', '3a-2'], { '3a-1': 'SKIP', '3a-2': 'SKIP' }, [], false],
    ['a lone marker in a pair is ignored', `${S}\n3a-2: ${S}`, ['3a-1', '3a-2'], { '3a-1': 'REQUIRED', '3a-2': 'SKIP' }, ['3a-1'], true],
    ['a marker naming no story of the pair is ignored', `3a-3: ${S}\n3a-1: ${S}\n3a-2: ${S}`, ['3a-1', '3a-2'], { '3a-1': 'SKIP', '3a-2': 'SKIP' }, [], false],
    ['3a-10 does not name 3a-1', `3a-10: ${S}\n3a-1: ${R}`, ['3a-1'], { '3a-1': 'REQUIRED' }, [], true],
    ['3a-10 alone does not name 3a-1 in a pair', `3a-10: ${S}\n3a-2: ${S}`, ['3a-1', '3a-2'], { '3a-1': 'REQUIRED', '3a-2': 'SKIP' }, ['3a-1'], true],
    ['13a-1 does not name 3a-1', `13a-1: ${S}\n3a-2: ${S}`, ['3a-1', '3a-2'], { '3a-1': 'REQUIRED', '3a-2': 'SKIP' }, ['3a-1'], true],
    ['the long key names its short id', `3a-1-session-scanner.md ${S}\n3a-2-index: ${S}`, ['3a-1', '3a-2'], { '3a-1': 'SKIP', '3a-2': 'SKIP' }, [], false],
    ['a line naming both stories with one marker', `3a-1 and 3a-2: ${S}`, ['3a-1', '3a-2'], { '3a-1': 'SKIP', '3a-2': 'SKIP' }, [], false],
    ['two markers on one line, ids first', `3a-1: ${S}, 3a-2: ${R}`, ['3a-1', '3a-2'], { '3a-1': 'SKIP', '3a-2': 'REQUIRED' }, [], true],
    ['two markers on one line, ids after', `${R} for 3a-1; ${S} for 3a-2`, ['3a-1', '3a-2'], { '3a-1': 'REQUIRED', '3a-2': 'SKIP' }, [], true],
    ['both markers for one story of a pair', `3a-1: ${S}\n3a-1: ${R}\n3a-2: ${S}`, ['3a-1', '3a-2'], { '3a-1': 'REQUIRED', '3a-2': 'SKIP' }, [], true],
    ['ids are matched case-insensitively', `3A-1: ${S}`, ['3a-1'], { '3a-1': 'SKIP' }, [], false],
    ['5-sr short ids', `5-sr-1 ${S}\n5-sr-2 ${S}`, ['5-sr-1', '5-sr-2'], { '5-sr-1': 'SKIP', '5-sr-2': 'SKIP' }, [], false],
    ['CRLF text', `3a-1: ${S}\r\n3a-2: ${S}\r\n`, ['3a-1', '3a-2'], { '3a-1': 'SKIP', '3a-2': 'SKIP' }, [], false],
    ['a table row', `| 3a-1 | ${S} |\n| 3a-2 | ${R} |`, ['3a-1', '3a-2'], { '3a-1': 'SKIP', '3a-2': 'REQUIRED' }, [], true],
    ['an id on the line above does not count in a pair', `### 3a-1\n${S}\n### 3a-2\n${S}`, ['3a-1', '3a-2'], { '3a-1': 'REQUIRED', '3a-2': 'REQUIRED' }, ['3a-1', '3a-2'], true],
    ['a one-story marker about another story is not lone', `3a-2 will need ${R}\n${S}`, ['3a-1'], { '3a-1': 'SKIP' }, [], false],
    ['a date on the line does not make a marker non-lone', `2025-01-10: ${S}`, ['3a-1'], { '3a-1': 'SKIP' }, [], false],
    ['a malformed marker is no marker', '[TECH-SPEC-DECISION: MAYBE] TECH-SPEC-DECISION: SKIP', ['2a-1'], { '2a-1': 'REQUIRED' }, ['2a-1'], true],
  ])('%s', (_label, text, ids, decisions, missing, needed) => {
    expect(parseTechSpecDecisions(text, ids)).toEqual({ decisions, missing, needed });
  });

  it('never throws on random input', () => {
    const inputs = fuzzStrings(0xdec1, 1000, [S, R, '[TECH-SPEC-DECISION:', ']', '3a-1', '3a-10', '3a-2', '\n', '|', '-']);
    for (const input of inputs) {
      for (const ids of [['3a-1'], ['3a-1', '3a-2'], []]) {
        const r = parseTechSpecDecisions(input, ids);
        expect(Object.keys(r.decisions).sort()).toEqual([...ids].sort());
      }
    }
  });
});

describe('idPositions', () => {
  it.each<[string, string, number[]]>([
    ['3a-1 and 3a-10', '3a-1', [0]],
    ['x3a-1 13a-1 3a-1a 3a-1-slug (3a-1)', '3a-1', [18, 29]],
    ['`3a-1`', '3a-1', [1]],
    ['3a-10', '3a-1', []],
    ['anything', '', []],
  ])('%s / %s', (line, id, positions) => {
    expect(idPositions(line, id)).toEqual(positions);
  });
});

describe('parseCriticalIssues', () => {
  it.each<[string, string, { critical: boolean; count: number; markerFound: boolean }]>([
    ['a positive count', 'Review done.\nCRITICAL ISSUES FOUND: 2\n', { critical: true, count: 2, markerFound: true }],
    ['the NO marker', 'NO CRITICAL ISSUES FOUND', { critical: false, count: 0, markerFound: true }],
    ['only zeros', 'CRITICAL ISSUES FOUND: 0\ncritical issues found: 0', { critical: false, count: 0, markerFound: true }],
    ['any positive count among zeros', 'CRITICAL ISSUES FOUND: 0\nCRITICAL ISSUES FOUND: 3', { critical: true, count: 3, markerFound: true }],
    ['a positive count wins over the NO marker', 'NO CRITICAL ISSUES FOUND\nCRITICAL ISSUES FOUND: 1', { critical: true, count: 1, markerFound: true }],
    ['markdown emphasis', '**CRITICAL ISSUES FOUND:** **4**', { critical: true, count: 4, markerFound: true }],
    ['lower case', 'critical issues found: 1', { critical: true, count: 1, markerFound: true }],
    ['no marker: critical', 'Looks fine to me.', { critical: true, count: 0, markerFound: false }],
    ['a count without a number is no marker', 'CRITICAL ISSUES FOUND: none', { critical: true, count: 0, markerFound: false }],
    ['NO marker with a zero', 'NO CRITICAL ISSUES FOUND: 0', { critical: false, count: 0, markerFound: true }],
  ])('%s', (_label, text, expected) => {
    expect(parseCriticalIssues(text)).toEqual(expected);
  });
});
