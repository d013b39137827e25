// Table tests for the shapes real reviewers write (see ../shared/real-world/README.md); every text here is our own, in those shapes.
import { describe, expect, it } from 'vitest';
import { decideReviewLoop, parseCodeReview, type CodeReviewReport } from '../../machines/rules/code-review.js';

const counts = (critical: number, high: number, medium: number, low: number) => ({ critical, high, medium, low });

describe('markers in the shapes real reviewers write', () => {
  it.each<[string, string, Partial<CodeReviewReport>]>([
    ['a total before the breakdown', '**Issues Found:** 5 (0 CRITICAL, 3 HIGH, 2 MEDIUM, 0 LOW)', { basis: 'markers', counts: counts(0, 3, 2, 0), highest: 'HIGH', zeroIssues: false }],
    ['issues fixed, a partial breakdown', 'Issues Fixed: 3 (2 HIGH, 1 LOW)', { counts: counts(0, 2, 0, 1), highest: 'HIGH' }],
    ['title-case severities', '**Issues Found:** 0 Critical, 0 High, 1 Medium, 2 Low', { counts: counts(0, 0, 1, 2), highest: 'MEDIUM' }],
    ['a total in prose before the label', '- Recorded 4 issues found: 1 CRITICAL, 1 HIGH, 2 MEDIUM, 0 LOW', { counts: counts(1, 1, 2, 0), highest: 'CRITICAL', hasCritical: true }],
    ['one heading per severity', '#### CRITICAL Issues: 0\n#### HIGH Issues: 1\n#### MEDIUM Issues: 2\n#### LOW Issues: 0', { counts: counts(0, 1, 2, 0), highest: 'HIGH' }],
    ['one heading per severity, all zero', '### CRITICAL Issues: 0\n### HIGH Issues: 0', { zeroIssues: true, highest: null, hasCritical: false }],
    ['ZERO in capitals, issues in lower case', 'Review result: ZERO issues found', { parsed: true, zeroIssues: true }],
    ['title case "Zero Issues Found" in a status', '**Status:** APPROVED - Zero Issues Found', { zeroIssues: true }],
    ['Issues Found: **NONE**', 'Issues Found: **NONE**\n\nThe story is complete.', { basis: 'markers', zeroIssues: true, hasCritical: false }],
    ['"No issues were found"', 'I checked every task. No issues were found.', { zeroIssues: true }],
    ['APPROVED alone', 'Result: APPROVED - story marked done in sprint-status.', { basis: 'approval', parsed: true, zeroIssues: true, hasCritical: false }],
    ['Status: Approved', '**Status:** Approved', { basis: 'approval', zeroIssues: true }],
    ['NOT APPROVED is no approval', 'Status: NOT APPROVED, changes requested', { parsed: false, hasCritical: true }],
    ['APPROVED does not outweigh listed issues', 'APPROVED with notes\n- [LOW] Rename the helper', { basis: 'issues', zeroIssues: false, highest: 'LOW' }],
    ['a count statement without a list', '**Result:** 3 HIGH issues found and fixed', { basis: 'issues', counts: counts(0, 3, 0, 0), highest: 'HIGH', hasCritical: false }],
    ['"Critical issues: none" is about one severity only', 'Critical issues: none', { parsed: false }],
    ['a word count is no count', 'Fix 13 critical/high/medium issues in the parser', { parsed: false }],
  ])('%s', (_label, text, expected) => {
    expect(parseCodeReview(text)).toMatchObject(expected);
  });
});

describe('issue lines in the shapes real reviewers write', () => {
  it.each<[string, string, string[]]>([
    ['a numbered tag `CRITICAL-1:`', 'CRITICAL-1: Token leaked in logs (src/log.ts)', ['CRITICAL token leaked in logs src/log.ts']],
    ['`HIGH #2:`', '- HIGH #2: Retry storm on reconnect', ['HIGH retry storm on reconnect']],
    ['a bold numbered tag', '**MEDIUM-1: Magic timeout value (FIXED)**', ['MEDIUM magic timeout value fixed']],
    ['a bold tag and a dash', '1. **HIGH - Unvalidated input in parser**', ['HIGH unvalidated input in parser']],
    ['a heading `CRITICAL ISSUE #1:`', '#### 🔴 CRITICAL ISSUE #1: Secrets written to disk\n\n**Severity:** CRITICAL\n**File:** `src/store.ts`', ['CRITICAL secrets written to disk']],
    ['`Fixed MEDIUM severity issue: …` in a commit body', 'Fixed MEDIUM severity issue: Counter resets on reload\n\n1. The counter lived in memory\n2. Now it is persisted', ['MEDIUM counter resets on reload']],
    ['`Fix HIGH severity: …` as a subject line', 'Fix HIGH severity: Lost writes when two tabs save', ['HIGH lost writes when two tabs save']],
    [
      'a severity heading with extra words, numbered bold items and details',
      '#### HIGH Issues Fixed:\n\n1. **Race in queue drain**\n   - Location: `src/q.ts:4`\n   - Fix: drained under the lock\n\n2. **Listener never removed**\n   - Location: `src/ui.ts:90`',
      ['HIGH listener never removed', 'HIGH race in queue drain'],
    ],
    ['`Fixed LOW severity issues:`', 'Fixed LOW severity issues:\n- Renamed a confusing helper\n- Dropped a stale comment\n\nTest coverage:\n- Added two tests', ['LOW dropped a stale comment', 'LOW renamed a confusing helper']],
    [
      'bold paragraphs under a severity heading, their fields as list items',
      '#### MEDIUM Severity Issues\n\n**M1: Unbounded cache growth**\n- File: `src/cache.ts`\n- Problem: entries are never evicted\n\n**M2: Stale closure in the hook** (same cause as M1)\n- File: `src/hook.ts`\n\n### Files Modified\n- src/cache.ts',
      // `M1:` is read as the tag itself (see the numbered-initial shapes below), so it is not part of the text
      ['MEDIUM stale closure in the hook same cause as m', 'MEDIUM unbounded cache growth'],
    ],
    ['a severity named in parentheses', '**Issues Accepted (LOW severity):**\n1. Log level too verbose\n2. Long render function', ['LOW log level too verbose', 'LOW long render function']],
    [
      'a sentence announcing one issue takes one item, not the notes after it',
      'Moved the story to done after the third pass and recorded the HIGH severity issue found:\n- Cache never invalidated on logout\n- Fixed by adding a TTL\n- All 300 tests pass',
      ['HIGH cache never invalidated on logout'],
    ],
    ['a heading announcing two takes two', '#### HIGH Issues (2)\n1. First problem\n2. Second problem\n3. Not announced', ['HIGH first problem', 'HIGH second problem']],
    [
      'a recommendation repeating the issues adds none',
      '#### 🔴 CRITICAL ISSUE #1: Migrations run twice\n\n### Recommendation\n1. **CRITICAL:** Guard the migration runner\n2. **HIGH:** Add a test\n\n### Fixes Applied\n#### Fix #1: Runner guarded (CRITICAL)\n- [HIGH] not a new issue either',
      ['CRITICAL migrations run twice'],
    ],
    ['a fixes section is read when nothing came before it', '**Fixes Applied:**\n1. [MEDIUM] Removed a dead prop\n\n**Issues Accepted (LOW severity):**\n1. Naming is inconsistent', ['MEDIUM removed a dead prop', 'LOW naming is inconsistent']],
    ['a YAML copy of the findings in a fence is skipped', '- [HIGH] Real one\n```yaml\nfindings:\n  - severity: "HIGH"\n    title: "Real one again"\n```', ['HIGH real one']],
    ['a tagged item under "Issues Found and Fixed" keeps its details out', '**Issues Found and Fixed:**\n1. [HIGH] Data loss on reorder\n   - Results before their tool call were dropped\n   - **Fix Applied:**\n     - Buffered them', ['HIGH data loss on reorder']],
  ])('%s', (_label, body, issues) => {
    expect(parseCodeReview(body).issues).toEqual(issues);
  });

  it('closing lines of the template and a real-shaped body read the same', () => {
    const body = '### Issues Found: 0 CRITICAL, 1 HIGH, 1 MEDIUM, 0 LOW\n\n#### HIGH Issues (1)\n1. **Unbounded retry** - src/net.ts\n\n#### MEDIUM Issues (1)\n1. **Magic number** - src/config.ts';
    const withClosing = `${body}\n\nHIGHEST SEVERITY: HIGH\nIssues: 0 CRITICAL, 1 HIGH, 1 MEDIUM, 0 LOW`;
    const a = parseCodeReview(body);
    const b = parseCodeReview(withClosing);
    expect(a).toMatchObject({ highest: 'HIGH', counts: counts(0, 1, 1, 0), issues: ['HIGH unbounded retry src/net.ts', 'MEDIUM magic number src/config.ts'] });
    expect(b.pattern).toBe(a.pattern);
  });
});

// Shapes seen in more real reviews of the same project (story-file change logs, per-pass review sections); our own words.
describe('change-log and per-pass review shapes', () => {
  it.each<[string, string, Partial<CodeReviewReport>]>([
    [
      'findings numbered by the severity initial, with no severity word',
      '- 2026-02-01: Code Review (Attempt 1) - Fixed 1 MEDIUM and 2 LOW issues:\n  - M1: Scroll jumps when the list reloads\n  - L1: Missing label on the close icon\n  - L2: Comment refers to a removed prop',
      { basis: 'issues', highest: 'MEDIUM', counts: counts(0, 0, 1, 2), issues: ['MEDIUM scroll jumps when the list reloads', 'LOW comment refers to a removed prop', 'LOW missing label on the close icon'] },
    ],
    [
      'initials only, in a "Fixes Applied" entry with a note after',
      '- Code Review Pass 1 - Fixes Applied\n  - H1: Added the missing reducer tests\n  - M1: Hid the composer on read-only tabs - FIXED\n  - Total: 120 tests passing',
      { highest: 'HIGH', counts: counts(0, 1, 1, 0), issues: ['HIGH added the missing reducer tests', 'MEDIUM hid the composer on read only tabs fixed'] },
    ],
    [
      'the severity named in parentheses after the initial wins',
      '- **M1 (MEDIUM)**: Animation never plays on open\n- **L1 (LOW)**: Long globs are not shortened',
      { highest: 'MEDIUM', counts: counts(0, 0, 1, 1) },
    ],
    [
      'bold initial paragraphs under headings that announce "(n total - all fixed)"',
      '#### CRITICAL Issues (1 total - all fixed)\n\n**C1: Timestamps typed as strings**\n- Fix: numbers everywhere\n\n#### LOW Issues (2 total - all fixed)\n\n**L1: No JSDoc on the hook** - added\n**L2: Import missing in the example** - added',
      { highest: 'CRITICAL', counts: counts(1, 0, 0, 2), hasCritical: true },
    ],
    [
      'a bold initial that refers back to an earlier finding is no new issue',
      '### Issues Found: 0 CRITICAL, 0 HIGH, 0 MEDIUM, 0 LOW\n- **H1** (Index on the sessions table): VERIFIED\n- AC1: the list renders',
      { zeroIssues: true, issues: [] },
    ],
    [
      'a count heading with a note is still a count, so the zero lines beside it do not make it zero',
      '#### CRITICAL Issues: 0\n#### HIGH Issues: 0\n#### MEDIUM Issues: 2 (fixed)\n#### LOW Issues: 0\n\n| 2026-02-01 | Pass 3: APPROVED - Zero issues found | bot |',
      { zeroIssues: false, highest: 'MEDIUM', counts: counts(0, 0, 2, 0) },
    ],
    ['a count heading with a dash note', 'CRITICAL Issues: 0\nHIGH Issues: 1 - resolved in place', { zeroIssues: false, highest: 'HIGH', counts: counts(0, 1, 0, 0) }],
    [
      'zero per-severity lines do not outweigh a tagged issue when nothing else is a marker',
      '### CRITICAL Issues: 0\n### HIGH Issues: 0\n### MEDIUM Issues: two, see below\n\n**M1: Unused prop kept on the bubble**',
      { zeroIssues: false, basis: 'issues', highest: 'MEDIUM' },
    ],
    [
      'the found tally, not the fixed one, is the count',
      '**Issues Found:** 6 (1 CRITICAL, 2 HIGH, 2 MEDIUM, 1 LOW)\n**Issues Fixed:** 5 (1 CRITICAL, 2 HIGH, 2 MEDIUM)',
      { counts: counts(1, 2, 2, 1), highest: 'CRITICAL' },
    ],
    ['a fixed tally alone still counts', '**Issues Fixed:** 2 (1 HIGH, 1 MEDIUM)', { counts: counts(0, 1, 1, 0), highest: 'HIGH' }],
    ['joined count statements: "and"', 'Review Pass 2 - Fixed 2 MEDIUM and 1 LOW issues', { basis: 'issues', counts: counts(0, 0, 2, 1), highest: 'MEDIUM' }],
    ['joined count statements: "+"', 'Review Pass 4 - Fixed 0 CRITICAL + 1 HIGH + 2 MEDIUM issues:', { counts: counts(0, 1, 2, 0), highest: 'HIGH' }],
    ['joined count statements: "issues +"', 'Fixed 2 HIGH issues + 1 LOW issues', { counts: counts(0, 2, 0, 1), highest: 'HIGH' }],
    ['a list of severity words is still no count', 'Fix 4 high/medium issues in the store', { parsed: false }],
    [
      'story-review sections headed by severity and priority',
      'CRITICAL ISSUES FIXED:\n1. **Task 2 - store action undocumented**: now documented\n\nMEDIUM PRIORITY CLARIFICATIONS:\n2. **Task 3 - handler placement**: clarified\n3. **Task 5 - schema note**: added',
      { basis: 'issues', highest: 'CRITICAL', counts: counts(1, 0, 2, 0) },
    ],
  ])('%s', (_label, text, expected) => {
    expect(parseCodeReview(text)).toMatchObject(expected);
  });

  it.each<[string, string, string[]]>([
    ['a bold title ending in a severity with a qualifier', '1. **Store action missing (CRITICAL - BLOCKING)**\n   - Impact: the hook throws', ['CRITICAL store action missing']],
    ['a qualifier after a comma', '- Preload lacks the cancel method (high, blocking)', ['HIGH preload lacks the cancel method']],
    ['a lower-case initial is no tag', '- m1: not a finding', []],
    ['an initial run into a word is no tag', '- H1N1: not a finding', []],
  ])('%s', (_label, body, issues) => {
    expect(parseCodeReview(body).issues).toEqual(issues);
  });

  it('three change-log passes with different findings end by rule 3; the same findings three times block', () => {
    const passes = [
      '- Code Review (Attempt 1) - Fixed 2 MEDIUM issues:\n  - M1: Scroll jumps when the list reloads\n  - M2: Empty state missing',
      '- Code Review (Attempt 2) - Fixed 1 MEDIUM and 1 LOW issues:\n  - M1: Debounce the scroll save\n  - L1: Clarify the mock comment',
      '- Code Review (Attempt 3 - FINAL) - Fixed 1 LOW issue:\n  - L1: Cancel the debounce on unmount',
    ].map(parseCodeReview);
    const patterns = passes.map((r) => r.pattern);
    expect(decideReviewLoop(3, patterns, passes[2] as CodeReviewReport)).toEqual({ action: 'done', reason: 'non-critical-remaining' });
    const same = passes[0] as CodeReviewReport;
    expect(decideReviewLoop(3, [same.pattern, same.pattern, same.pattern], same)).toEqual({ action: 'blocked', reason: 'repeated-error-pattern' });
  });
});
