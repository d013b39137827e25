// Table tests for the code-review loop: markers, issue lines, normalisation, pattern similarity and the exit-rule order.
import { describe, expect, it } from 'vitest';
import {
  decideReviewLoop,
  issueMatchScore,
  MAX_REVIEW_ATTEMPTS,
  normaliseIssueText,
  parseCodeReview,
  patternsSimilar,
  reviewModel,
  similarIssueSets,
  UNPARSED_PATTERN,
  type CodeReviewReport,
} from '../../machines/rules/code-review.js';
import { fuzzStrings } from '../support/fuzz.js';

const counts = (critical: number, high: number, medium: number, low: number) => ({ critical, high, medium, low });

describe('parseCodeReview: markers', () => {
  it.each<[string, string, Partial<CodeReviewReport>]>([
    ['ZERO ISSUES', 'All good.\nZERO ISSUES', { parsed: true, zeroIssues: true, highest: null, counts: null, hasCritical: false, pattern: 'zero issues' }],
    [
      'severity and counts',
      'HIGHEST SEVERITY: HIGH\nIssues: 0 CRITICAL, 2 HIGH, 1 MEDIUM, 0 LOW',
      { parsed: true, zeroIssues: false, highest: 'HIGH', counts: counts(0, 2, 1, 0), hasCritical: false },
    ],
    [
      'a non-zero counts line outweighs ZERO ISSUES',
      'ZERO ISSUES\nIssues: 0 CRITICAL, 1 HIGH, 0 MEDIUM, 0 LOW',
      { parsed: true, zeroIssues: false, highest: 'HIGH', counts: counts(0, 1, 0, 0) },
    ],
    [
      'an earlier non-zero counts line still outweighs ZERO ISSUES',
      'Issues: 0 CRITICAL, 0 HIGH, 0 MEDIUM, 2 LOW\nZERO ISSUES\nIssues: 0 CRITICAL, 0 HIGH, 0 MEDIUM, 0 LOW',
      { zeroIssues: false, highest: 'LOW', counts: counts(0, 0, 0, 0) },
    ],
    ['ZERO ISSUES with an all-zero counts line', 'ZERO ISSUES\nIssues: 0 CRITICAL, 0 HIGH, 0 MEDIUM, 0 LOW', { zeroIssues: true, counts: counts(0, 0, 0, 0), pattern: 'zero issues' }],
    ['an all-zero counts line alone', 'Issues: 0 CRITICAL, 0 HIGH, 0 MEDIUM, 0 LOW', { parsed: true, zeroIssues: true }],
    ['a severity marker outweighs ZERO ISSUES', 'HIGHEST SEVERITY: LOW\nZERO ISSUES', { zeroIssues: false, highest: 'LOW', hasCritical: false }],
    ['CRITICAL', 'HIGHEST SEVERITY: CRITICAL\nIssues: 1 CRITICAL, 0 HIGH, 0 MEDIUM, 0 LOW', { highest: 'CRITICAL', hasCritical: true }],
    ['a critical count raises a lower severity marker', 'HIGHEST SEVERITY: HIGH\nIssues: 1 CRITICAL, 1 HIGH, 0 MEDIUM, 0 LOW', { highest: 'CRITICAL', hasCritical: true }],
    ['the most severe of several severity markers', 'HIGHEST SEVERITY: LOW\nHIGHEST SEVERITY: MEDIUM', { highest: 'MEDIUM', counts: null }],
    ['counts alone give the highest severity', 'Issues: 0 CRITICAL, 0 HIGH, 3 MEDIUM, 1 LOW', { parsed: true, highest: 'MEDIUM' }],
    [
      'markdown around the markers',
      '**HIGHEST SEVERITY:** `MEDIUM`\n- **Issues:** 0 CRITICAL, 0 HIGH, 3 MEDIUM, 1 LOW',
      { highest: 'MEDIUM', counts: counts(0, 0, 3, 1) },
    ],
    ['a partial counts line in another order', 'Issues Found: 0 High, 2 Medium, 1 Low', { counts: counts(0, 0, 2, 1), highest: 'MEDIUM' }],
    ['the last counts line is the tally', 'Issues: 0 CRITICAL, 3 HIGH, 0 MEDIUM, 0 LOW\nIssues: 0 CRITICAL, 1 HIGH, 0 MEDIUM, 0 LOW', { counts: counts(0, 1, 0, 0) }],
    ['a counts label later on the line', 'Critical issues: none. Issues: 0 CRITICAL, 1 HIGH, 0 MEDIUM, 0 LOW', { counts: counts(0, 1, 0, 0) }],
    ['a statement line "Zero issues found."', 'Review complete.\n**Zero issues found.**', { parsed: true, zeroIssues: true }],
    ['CRLF', 'HIGHEST SEVERITY: LOW\r\nIssues: 0 CRITICAL, 0 HIGH, 0 MEDIUM, 1 LOW\r\n', { highest: 'LOW', counts: counts(0, 0, 0, 1) }],
    ['no marker', 'I reviewed the code and fixed two things.', { parsed: false, zeroIssues: false, highest: null, counts: null, hasCritical: true, pattern: UNPARSED_PATTERN }],
    ['prose "zero issues" is no marker', 'There should be zero issues after this change.', { parsed: false, pattern: UNPARSED_PATTERN }],
    ['NON-ZERO ISSUES is no marker', 'NON-ZERO ISSUES remain', { parsed: false }],
    ['"CRITICAL ISSUES FOUND: 2" is not a code-review counts line', 'CRITICAL ISSUES FOUND: 2', { parsed: false }],
    ['an empty text', '', { parsed: false, hasCritical: true, pattern: UNPARSED_PATTERN }],
  ])('%s', (_label, text, expected) => {
    expect(parseCodeReview(text)).toMatchObject(expected);
  });
});

describe('parseCodeReview: issue lines', () => {
  const tail = '\nHIGHEST SEVERITY: HIGH\nIssues: 0 CRITICAL, 1 HIGH, 0 MEDIUM, 0 LOW';

  it.each<[string, string, string[]]>([
    ['a bracket tag', '- [HIGH] Missing null check in src/a.ts:42', ['HIGH missing null check in src/a.ts']],
    ['a bold tag with colon, numbered', '1. **MEDIUM**: Unused import in `src/b.ts`', ['MEDIUM unused import in src/b.ts']],
    ['a bold tag with colon inside', '2) **LOW:** Typo in README.md', ['LOW typo in readme.md']],
    ['bold brackets', '* **[CRITICAL]** Secret committed in .env.example', ['CRITICAL secret committed in .env.example']],
    ['an emoji and a dash', '- 🔴 CRITICAL - SQL injection in src/db.ts:10', ['CRITICAL sql injection in src/db.ts']],
    ['a bare word with a colon', 'HIGH: Race condition in src/queue.ts', ['HIGH race condition in src/queue.ts']],
    ['parentheses', '- (medium) Magic number in src/config.ts', ['MEDIUM magic number in src/config.ts']],
    ['a severity prefix', '- **Severity: HIGH** Token not refreshed', ['HIGH token not refreshed']],
    ['"HIGH severity:"', '- High severity: Token not refreshed', ['HIGH token not refreshed']],
    ['a trailing tag', '- Token not refreshed in src/auth.ts (HIGH)', ['HIGH token not refreshed in src/auth.ts']],
    ['a checkbox', '- [x] [LOW] Rename helper', ['LOW rename helper']],
    [
      'items under a severity heading',
      '## 🔴 CRITICAL ISSUES\n- Tasks marked done but not implemented\n  - detail that is not an issue\n- AC 3 missing\n\nThat is all.\n- an unrelated list item',
      ['CRITICAL ac missing', 'CRITICAL tasks marked done but not implemented'],
    ],
    ['a bold severity heading', '**Medium:**\n- Unused import\n- Long function', ['MEDIUM long function', 'MEDIUM unused import']],
    ['a plain severity heading with a count', 'High severity issues (2):\n1. First thing\n2. Second thing', ['HIGH first thing', 'HIGH second thing']],
    ['a tag inside a severity section wins', '### HIGH\n- [LOW] Typo\n- Crash on empty input', ['HIGH crash on empty input', 'LOW typo']],
    ['a heading block with a severity field', '### Issue 1: Race condition in queue\n- **Severity**: HIGH\n- **File**: `src/q.ts:10`\n\n### Issue 2: Nothing rated', ['HIGH race condition in queue src/q.ts']],
    ['a tagged numbered heading', '### 1. [HIGH] Missing retry on network error', ['HIGH missing retry on network error']],
    [
      'a table row with a severity cell',
      '| # | Severity | Issue | File |\n|---|---|---|---|\n| 1 | 🟢 LOW | Typo in comment | src/d.ts:5 |\n| 2 | **HIGH** | Missing auth check | src/api.ts:9 |',
      ['HIGH missing auth check src/api.ts', 'LOW typo in comment src/d.ts'],
    ],
    ['a fix description is dropped', '- [HIGH] Missing null check in src/a.ts → Fixed: added a guard', ['HIGH missing null check in src/a.ts']],
    ['a bold Fix: tail is dropped', '- [HIGH] Missing null check **Fix:** added a guard', ['HIGH missing null check']],
    ['duplicates collapse', '- [HIGH] Missing null check in src/a.ts:42\n- [HIGH] Missing null check in src/a.ts:57', ['HIGH missing null check in src/a.ts']],
    ['sorted by severity, then text', '- [LOW] b\n- [CRITICAL] z\n- [LOW] a thing\n- [HIGH] y', ['CRITICAL z', 'HIGH y', 'LOW a thing', 'LOW b']],
    ['prose starting with a severity word is not a tag', '- High memory use in the loop\n- Low-hanging fruit: rename\nHigh-level summary follows.', []],
    ['count breakdown lines are not issues', '- CRITICAL: 0\n- HIGH: 1\n- Medium: 0', []],
    ['narration bullets are not issues', 'Let me check the files.\n- src/a.ts\n- src/b.ts', []],
    ['fenced code is skipped', '```bash\n# HIGH: not a heading\n- [HIGH] not an issue\n```\n- [LOW] Real one', ['LOW real one']],
    ['a heading named Issues Found is no numbering', '## Issues Found\n- **Severity**: HIGH', ['HIGH issues found']],
    ['marker lines are not issues', '- HIGHEST SEVERITY: HIGH\n- Issues: 0 CRITICAL, 1 HIGH, 0 MEDIUM, 0 LOW', []],
  ])('%s', (_label, body, issues) => {
    expect(parseCodeReview(body + tail).issues).toEqual(issues);
  });

  it('writes the pattern as the header plus one line per issue', () => {
    const text = '- [HIGH] Missing null check in src/a.ts:42\n- [LOW] Typo\nHIGHEST SEVERITY: HIGH\nIssues: 0 CRITICAL, 1 HIGH, 0 MEDIUM, 1 LOW';
    expect(parseCodeReview(text).pattern).toBe(
      'issues: 0 CRITICAL, 1 HIGH, 0 MEDIUM, 1 LOW; highest: HIGH\n- HIGH missing null check in src/a.ts\n- LOW typo',
    );
    expect(parseCodeReview('HIGHEST SEVERITY: MEDIUM').pattern).toBe('issues: not counted; highest: MEDIUM');
  });

  it('without markers, the severity tags of the listed issues are the verdict', () => {
    const r = parseCodeReview('- [HIGH] Missing null check\n- [LOW] Typo');
    expect(r).toMatchObject({ parsed: true, basis: 'issues', highest: 'HIGH', counts: counts(0, 1, 0, 1), hasCritical: false, zeroIssues: false });
    expect(r.pattern).toBe('issues: 0 CRITICAL, 1 HIGH, 0 MEDIUM, 1 LOW; highest: HIGH\n- HIGH missing null check\n- LOW typo');
  });

  it('an unparsed review keeps the issues it lists without severity, as evidence for similarity', () => {
    const r = parseCodeReview('Issues found and fixed:\n1. Missing null check in src/a.ts\n2. Typo in README.md');
    expect(r).toMatchObject({ parsed: false, basis: 'none', hasCritical: true, issues: ['UNRATED missing null check in src/a.ts', 'UNRATED typo in readme.md'] });
    expect(r.pattern).toBe(`${UNPARSED_PATTERN}\n- UNRATED missing null check in src/a.ts\n- UNRATED typo in readme.md`);
  });
});

describe('normaliseIssueText', () => {
  it.each<[string, string]>([
    ['Missing null check in src/a.ts:42', 'missing null check in src/a.ts'],
    ['Missing null-check in `./src/a.ts:42:7`', 'missing null check in src/a.ts'],
    ['See src\\win\\path.ts#L10-L20', 'see src/win/path.ts'],
    ["Don't use \"any\" on line 12 of 'types.ts'", 'dont use any on of types.ts'],
    ['Lines 10-20: 3 duplicated blocks', 'duplicated blocks'],
    ['Read/write race, e.g. when 2 workers run', 'read write race when workers run'],
    ['[docs](https://example.com/a/b) link broken', 'docs link broken'],
    ['Uses src/lib/utils helpers', 'uses src/lib/utils helpers'],
    ['Unused import → Fixed: removed', 'unused import'],
    ['Fixed: only a fix description', 'fixed only a fix description'],
    ['!!!', ''],
  ])('%s', (raw, normalised) => {
    expect(normaliseIssueText(raw)).toBe(normalised);
  });

  it('keeps at most 32 tokens', () => {
    expect(normaliseIssueText(Array.from({ length: 50 }, (_, i) => `w${String.fromCharCode(97 + (i % 26))}`).join(' ')).split(' ')).toHaveLength(32);
  });
});

/** A parsed review whose findings are the given `[SEVERITY] text` lines; counts derived from them. */
function review(...findings: string[]): string {
  const n = { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0 } as Record<string, number>;
  for (const f of findings) n[/\[(\w+)\]/.exec(f)?.[1] ?? 'LOW'] = (n[/\[(\w+)\]/.exec(f)?.[1] ?? 'LOW'] ?? 0) + 1;
  const highest = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'].find((s) => (n[s] ?? 0) > 0);
  return [
    '## Findings',
    ...findings.map((f) => `- ${f}`),
    '',
    highest ? `HIGHEST SEVERITY: ${highest}` : 'ZERO ISSUES',
    `Issues: ${n.CRITICAL} CRITICAL, ${n.HIGH} HIGH, ${n.MEDIUM} MEDIUM, ${n.LOW} LOW`,
  ].join('\n');
}
const pattern = (...findings: string[]) => parseCodeReview(review(...findings)).pattern;

describe('patternsSimilar', () => {
  const A = pattern('[HIGH] Missing null check for user.profile in src/auth/session.ts:42', '[HIGH] SQL query built by string concatenation in src/db/users.ts:88', '[MEDIUM] Test for expired token is missing (tests/auth.test.ts)');
  const A_REWORDED = pattern('[HIGH] Null check missing on user.profile — src/auth/session.ts line 45', '[HIGH] SQL string concatenation in src/db/users.ts:90 (injection risk)', '[MEDIUM] Missing test for the expired-token path in tests/auth.test.ts');
  const B = pattern('[HIGH] Race condition when two sessions refresh at once in src/auth/refresh.ts:10', '[HIGH] Password logged in plain text in src/auth/login.ts:31', '[MEDIUM] Magic number for the timeout in src/config.ts:5');
  const C_SAME_HIGHEST = pattern('[HIGH] Unbounded retry loop in src/net/client.ts');
  const ONE = pattern('[HIGH] Unbounded retry loop in src/net/client.ts');
  const ONE_OTHER_FILE = pattern('[HIGH] Unbounded retry loop in src/net/server.ts');
  const ONE_SAME_FILE_OTHER_ISSUE = pattern('[HIGH] Missing timeout on socket in src/net/client.ts');
  const RERATED = pattern('[MEDIUM] Unbounded retry loop in src/net/client.ts');
  const COUNTS_ONLY = 'HIGHEST SEVERITY: HIGH\nIssues: 0 CRITICAL, 2 HIGH, 1 MEDIUM, 0 LOW';
  const UNPARSED_LISTED = parseCodeReview('## Issues Found\n1. Missing null check in src/a.ts:42\n2. Retry loop never ends in src/net.ts').pattern;
  const UNPARSED_LISTED_REWORDED = parseCodeReview('Findings:\n- The null check is still missing (src/a.ts line 50)\n- src/net.ts: retry loop never ends').pattern;
  const UNPARSED_OTHER = parseCodeReview('## Issues Found\n1. Password logged in src/login.ts\n2. Token never expires in src/auth.ts').pattern;

  it.each<[string, string, string, boolean]>([
    ['both unparsed, nothing listed: no evidence', UNPARSED_PATTERN, UNPARSED_PATTERN, false],
    ['both unparsed, the same unrated issues listed', UNPARSED_LISTED, UNPARSED_LISTED_REWORDED, true],
    ['both unparsed, different unrated issues listed', UNPARSED_LISTED, UNPARSED_OTHER, false],
    ['unparsed and parsed', UNPARSED_PATTERN, A, false],
    ['identical issue lists', A, A, true],
    ['the same issues reworded, other line numbers', A, A_REWORDED, true],
    ['the same counts (2 HIGH, 1 MEDIUM) with different issues', A, B, false],
    ['the same highest severity alone', C_SAME_HIGHEST, B, false],
    ['one issue, the same', ONE, C_SAME_HIGHEST, true],
    ['one issue re-rated from HIGH to MEDIUM', ONE, RERATED, true],
    ['the same words in another file', ONE, ONE_OTHER_FILE, false],
    ['another issue in the same file', ONE, ONE_SAME_FILE_OTHER_ISSUE, false],
    ['counts only, identical', parseCodeReview(COUNTS_ONLY).pattern, parseCodeReview(COUNTS_ONLY).pattern, false],
    ['zero issues twice', pattern(), pattern(), false],
    [
      '2 of 3 issues shared (67% of the longer list)',
      pattern('[HIGH] Unbounded retry loop in src/net/client.ts', '[LOW] Typo in README.md', '[MEDIUM] Magic number for the timeout'),
      pattern('[HIGH] Unbounded retry loop in src/net/client.ts', '[LOW] Typo in README.md', '[MEDIUM] Dead code in the exporter'),
      true,
    ],
    [
      '1 of 2 issues shared (50%)',
      pattern('[HIGH] Unbounded retry loop in src/net/client.ts', '[LOW] Typo in README.md'),
      pattern('[HIGH] Unbounded retry loop in src/net/client.ts', '[MEDIUM] Dead code in the exporter'),
      false,
    ],
    [
      'one issue against three',
      ONE,
      pattern('[HIGH] Unbounded retry loop in src/net/client.ts', '[LOW] Typo in README.md', '[MEDIUM] Dead code in the exporter'),
      false,
    ],
  ])('%s', (_label, a, b, similar) => {
    expect(patternsSimilar(a, b)).toBe(similar);
    expect(patternsSimilar(b, a)).toBe(similar);
  });

  it('is symmetric over a mixed set of patterns', () => {
    const all = [A, A_REWORDED, B, ONE, ONE_OTHER_FILE, RERATED, UNPARSED_PATTERN, pattern(), pattern('[LOW] a b', '[LOW] a c', '[LOW] b c')];
    for (const a of all) for (const b of all) expect(patternsSimilar(a, b)).toBe(patternsSimilar(b, a));
  });

  it('matches one-to-one: one issue cannot stand for two', () => {
    expect(similarIssueSets(['HIGH unbounded retry loop'], ['HIGH unbounded retry loop', 'HIGH unbounded retry loops'])).toBe(false);
  });

  it.each<[string, string, number]>([
    ['HIGH missing null check in src/a.ts', 'MEDIUM null check missing src/a.ts', 1],
    ['HIGH missing null check in src/a.ts', 'HIGH missing null check in src/b.ts', 0],
    ['HIGH missing null check', 'HIGH missing null check in src/b.ts', 1],
    ['HIGH src/a.ts', 'LOW src/a.ts', 1],
    ['HIGH unused variable in src/a.ts', 'HIGH unused import in src/a.ts', 0],
    ['LOW it', 'HIGH it', 1],
  ])('issueMatchScore(%s, %s) = %d', (a, b, score) => {
    expect(issueMatchScore(a, b)).toBeCloseTo(score);
  });
});

describe('decideReviewLoop', () => {
  const HIGH_A = review('[HIGH] Missing null check in src/a.ts:42');
  const HIGH_B = review('[HIGH] Race condition in src/queue.ts:7');
  const HIGH_C = review('[HIGH] Password logged in src/login.ts:3');
  const CRIT_A = review('[CRITICAL] SQL injection in src/db.ts:10');
  const CRIT_B = review('[CRITICAL] Secret committed in src/keys.ts:1');
  const CRIT_C = review('[CRITICAL] Auth bypass in src/api.ts:9');
  const ZERO = 'ZERO ISSUES';
  const NONE = 'I changed some things.';
  const LISTED = 'Issues found:\n1. Missing null check in src/a.ts\n2. Retry loop never ends in src/net.ts';

  /** Decides attempt N = texts.length from the reviews of attempts 1..N. */
  const decide = (...texts: string[]) =>
    decideReviewLoop(texts.length, texts.map((t) => parseCodeReview(t).pattern), parseCodeReview(texts[texts.length - 1] ?? ''));

  it.each<[string, string[], ReturnType<typeof decideReviewLoop>]>([
    ['1: zero issues at once', [ZERO], { action: 'done', reason: 'zero-issues' }],
    ['1: HIGH retries (rule 3 needs N >= 3)', [HIGH_A], { action: 'retry', nextAttempt: 2 }],
    ['2: the same HIGH twice retries (rule 1 needs three)', [HIGH_A, HIGH_A], { action: 'retry', nextAttempt: 3 }],
    ['2: unparsed retries', [NONE, NONE], { action: 'retry', nextAttempt: 3 }],
    ['3: three identical issue lists block before rule 3 could finish', [HIGH_A, HIGH_A, HIGH_A], { action: 'blocked', reason: 'repeated-error-pattern' }],
    ['3: three HIGHs with different issues are not a repeat: done, non-critical', [HIGH_A, HIGH_B, HIGH_C], { action: 'done', reason: 'non-critical-remaining' }],
    ['3: unparsed x3 listing nothing is no evidence of a repeat: retries', [NONE, NONE, NONE], { action: 'retry', nextAttempt: 4 }],
    ['3: unparsed x3 listing the same issues blocks', [LISTED, LISTED, LISTED], { action: 'blocked', reason: 'repeated-error-pattern' }],
    ['3: unparsed after two others retries (may hold critical)', [HIGH_A, HIGH_B, NONE], { action: 'retry', nextAttempt: 4 }],
    ['3: different CRITICALs retry', [CRIT_A, CRIT_B, CRIT_C], { action: 'retry', nextAttempt: 4 }],
    ['3: the same CRITICAL three times blocks', [CRIT_A, CRIT_A, CRIT_A], { action: 'blocked', reason: 'repeated-error-pattern' }],
    ['3: zero issues after two identical reviews', [HIGH_A, HIGH_A, ZERO], { action: 'done', reason: 'zero-issues' }],
    ['4: only the last three attempts count', [CRIT_A, CRIT_A, CRIT_A, HIGH_B], { action: 'done', reason: 'non-critical-remaining' }],
    ['4: a repeat among the last three (N-2..N) blocks', [CRIT_B, CRIT_A, CRIT_A, CRIT_A], { action: 'blocked', reason: 'repeated-error-pattern' }],
    ['9: CRITICAL retries to the last attempt', [CRIT_A, CRIT_B, CRIT_C, CRIT_A, CRIT_B, CRIT_C, CRIT_A, CRIT_B, CRIT_C], { action: 'retry', nextAttempt: 10 }],
    ['10: CRITICAL at the hard limit blocks', [CRIT_A, CRIT_B, CRIT_C, CRIT_A, CRIT_B, CRIT_C, CRIT_A, CRIT_B, CRIT_C, CRIT_A], { action: 'blocked', reason: 'hard-limit' }],
    ['10: unparsed at the hard limit (not repeated) blocks', [CRIT_A, CRIT_B, CRIT_C, CRIT_A, CRIT_B, CRIT_C, CRIT_A, CRIT_B, CRIT_C, NONE], { action: 'blocked', reason: 'hard-limit' }],
  ])('%s', (_label, texts, decision) => {
    expect(decide(...texts)).toEqual(decision);
  });

  // Reports built by hand to pin the precedence where real texts cannot reach it.
  const report = (over: Partial<CodeReviewReport>): CodeReviewReport => ({
    parsed: true,
    basis: 'markers',
    zeroIssues: false,
    highest: 'HIGH',
    counts: null,
    issues: [],
    hasCritical: false,
    pattern: 'x',
    ...over,
  });
  const REPEATED = `${UNPARSED_PATTERN}\n- UNRATED missing null check in src/a.ts`;
  const SAME = [REPEATED, REPEATED, REPEATED];
  const DIFFERENT = [UNPARSED_PATTERN, 'zero issues', UNPARSED_PATTERN];

  it.each<[string, number, string[], Partial<CodeReviewReport>, ReturnType<typeof decideReviewLoop>]>([
    ['rule 1 before rule 2', 3, SAME, { zeroIssues: true, highest: null }, { action: 'blocked', reason: 'repeated-error-pattern' }],
    ['rule 1 before rule 3', 3, SAME, {}, { action: 'blocked', reason: 'repeated-error-pattern' }],
    ['rule 1 before rule 4', 10, SAME, { hasCritical: true, highest: 'CRITICAL' }, { action: 'blocked', reason: 'repeated-error-pattern' }],
    ['rule 2 before rule 4', 10, DIFFERENT, { zeroIssues: true, highest: null }, { action: 'done', reason: 'zero-issues' }],
    ['rule 3 before rule 4', 10, DIFFERENT, {}, { action: 'done', reason: 'non-critical-remaining' }],
    ['rule 1 needs N >= 3 even with three patterns', 2, SAME, { hasCritical: true }, { action: 'retry', nextAttempt: 3 }],
    ['rule 1 needs three patterns', 3, SAME.slice(0, 2), { hasCritical: true }, { action: 'retry', nextAttempt: 4 }],
    ['rule 3 at exactly N = 3', 3, DIFFERENT, { highest: 'LOW' }, { action: 'done', reason: 'non-critical-remaining' }],
    ['rule 3 does not apply to an unparsed review', 3, DIFFERENT, { parsed: false, highest: null, hasCritical: true }, { action: 'retry', nextAttempt: 4 }],
    ['rule 4 past the limit', 11, DIFFERENT, { hasCritical: true }, { action: 'blocked', reason: 'hard-limit' }],
  ])('%s', (_label, attempt, patterns, over, decision) => {
    expect(decideReviewLoop(attempt, patterns, report(over))).toEqual(decision);
  });

  it('the hard limit is 10', () => {
    expect(MAX_REVIEW_ATTEMPTS).toBe(10);
  });
});

describe('reviewModel', () => {
  it.each([
    [1, null],
    [2, 'haiku'],
    [3, 'haiku'],
    [10, 'haiku'],
  ] as const)('attempt %d -> %s', (attempt, model) => {
    expect(reviewModel(attempt)).toBe(model);
  });
});

describe('fuzz', () => {
  const fragments = [
    'ZERO ISSUES',
    'HIGHEST SEVERITY: ',
    'CRITICAL',
    'HIGH',
    'MEDIUM',
    'LOW',
    'Issues: ',
    ' CRITICAL, ',
    '\n- [HIGH] ',
    '\n## ',
    '\n| ',
    ' | ',
    '**',
    'src/a.ts:12',
    '\n1. ',
    'Severity: ',
    ' → Fixed: ',
    '\n',
  ];

  it('parseCodeReview never throws, is deterministic, and a pattern with issues is similar to itself', () => {
    for (const input of fuzzStrings(0xc0de, 1000, fragments)) {
      const r = parseCodeReview(input);
      expect(parseCodeReview(input)).toEqual(r);
      expect(typeof r.pattern).toBe('string');
      if (r.parsed) expect(patternsSimilar(r.pattern, r.pattern)).toBe(r.issues.length > 0);
      else {
        expect(r.pattern.split('\n')[0]).toBe(UNPARSED_PATTERN);
        expect(patternsSimilar(r.pattern, r.pattern)).toBe(r.issues.length > 0);
      }
    }
  });
});

describe('hostile input', () => {
  // Each of these was quadratic with a naive `[…]+$` or lazy regex; 100k characters would take tens of seconds.
  const N = 100_000;
  it.each<[string, string]>([
    ['a heading with a long run of spaces', `# ${' '.repeat(N)}x`],
    ['a heading with a long run of #', `# a${'#'.repeat(N)}x`],
    ['a long run of spaces before text', `HIGHEST${' '.repeat(N)}x`],
    ['a list item with a long run of spaces', `- x${' '.repeat(N)}y`],
    ['a long token of line suffixes', `- [HIGH] a${':1'.repeat(N)}x`],
    ['a long word', `- [HIGH] ${'ab'.repeat(N)}`],
    ['many open brackets', `- [HIGH] ${'['.repeat(N)}](`],
  ])('%s parses quickly', (_label, text) => {
    const started = performance.now();
    parseCodeReview(`${text}\nHIGHEST SEVERITY: HIGH`);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('worked examples of docs/error-pattern.md', () => {
  const attempts = [
    `Reviewed story 2a-1.

## 🔴 CRITICAL ISSUES
- Task 3 marked [x] but \`scanSessions()\` is never called (src/scanner.ts:88)

## 🟡 MEDIUM ISSUES
1. **[MEDIUM]** Unused import \`fs\` in src/index.ts:3 → Fixed: removed
2. Error from readdir swallowed in src/scanner.ts:40

HIGHEST SEVERITY: CRITICAL
Issues: 1 CRITICAL, 0 HIGH, 2 MEDIUM, 0 LOW`,
    `Second pass.
- [CRITICAL] scanSessions() still never called - task 3 is marked done (src/scanner.ts line 91)
- [MEDIUM] readdir error swallowed in src/scanner.ts:42
- [LOW] Typo in README.md

HIGHEST SEVERITY: CRITICAL
Issues: 1 CRITICAL, 0 HIGH, 1 MEDIUM, 1 LOW`,
    `| Severity | Issue | File |
|---|---|---|
| CRITICAL | Task 3 marked complete but scanSessions is never called | src/scanner.ts:95 |
| MEDIUM | Swallowed readdir error | src/scanner.ts:44 |

HIGHEST SEVERITY: CRITICAL
Issues: 1 CRITICAL, 0 HIGH, 1 MEDIUM, 0 LOW`,
  ];
  const patterns = attempts.map((t) => parseCodeReview(t).pattern);

  it('gives the documented patterns', () => {
    expect(patterns).toEqual([
      'issues: 1 CRITICAL, 0 HIGH, 2 MEDIUM, 0 LOW; highest: CRITICAL\n- CRITICAL task marked x but scansessions is never called src/scanner.ts\n- MEDIUM error from readdir swallowed in src/scanner.ts\n- MEDIUM unused import fs in src/index.ts',
      'issues: 1 CRITICAL, 0 HIGH, 1 MEDIUM, 1 LOW; highest: CRITICAL\n- CRITICAL scansessions still never called task is marked done src/scanner.ts\n- MEDIUM readdir error swallowed in src/scanner.ts\n- LOW typo in readme.md',
      'issues: 1 CRITICAL, 0 HIGH, 1 MEDIUM, 0 LOW; highest: CRITICAL\n- CRITICAL task marked complete but scansessions is never called src/scanner.ts\n- MEDIUM swallowed readdir error src/scanner.ts',
    ]);
  });

  it('blocks the third attempt as a repeated error pattern', () => {
    expect(decideReviewLoop(3, patterns, parseCodeReview(attempts[2] ?? ''))).toEqual({ action: 'blocked', reason: 'repeated-error-pattern' });
    expect(decideReviewLoop(2, patterns.slice(0, 2), parseCodeReview(attempts[1] ?? ''))).toEqual({ action: 'retry', nextAttempt: 3 });
  });
});
