// Scenario tests (real simulated-CLI children) with reviews in the shapes real reviewers write, with and without the
// template's closing lines: the loop's exits, the reviewer's own done, and the structured verdict beside the text.
import { afterEach, describe, expect, it } from 'vitest';
import type { ReviewDecisionPayload, ReviewVerdictPayload } from '../../machines/rules/review-verdict.js';
import { mainFlow, runBatch, type BatchRun, type ScenarioRun } from '../support/scenario.js';

let run: BatchRun | null = null;
afterEach(async () => {
  await run?.cleanup();
  run = null;
});

const ONE_IN_REVIEW = '  epic-1: in-progress\n  1-1-alpha: review\n';
const CLOSING_HIGH = '\n\nHIGHEST SEVERITY: HIGH\nIssues: 0 CRITICAL, 1 HIGH, 1 MEDIUM, 0 LOW';

// Our own review texts, written in the shapes of ../shared/real-world/reviews (never copied from them).
const SECTIONS_REVIEW = `## Senior Developer Review (AI)

**Status:** CHANGES REQUESTED

### Issues Found: 0 CRITICAL, 1 HIGH, 1 MEDIUM, 0 LOW

#### HIGH Severity Issues

**H1: Parser drops the last line when the file has no trailing newline**
- File: \`src/log-parser.ts\`
- Problem: the final buffer is never flushed

#### MEDIUM Severity Issues

**M1: Magic number for the batch size**
- File: \`src/config.ts\`

### Recommendation
Keeping the story in review.`;

const SECTIONS_REWORDED = `### Review Attempt 2

**Issues Found:** 2 (0 CRITICAL, 1 HIGH, 1 MEDIUM, 0 LOW)

#### HIGH Issues Fixed:

1. **The last line is still dropped when there is no trailing newline** - \`src/log-parser.ts\`
   - Fix: flush the remaining buffer on end

#### MEDIUM Issues Fixed:

1. **Batch size is a magic number** - \`src/config.ts\``;

const COMMIT_STYLE = (flaw: string, file: string) => `code-review: 1-1 attempt, 1 issue fixed

Fixed HIGH severity issues:
- ${flaw} in ${file}

All 120 tests pass.`;

const APPROVAL = `## Code Review Pass 2

**Reviewer:** Claude
**Result:** APPROVED - story marked as done

### Issues Found: **NONE**

- AC1: verified
- AC2: verified`;

const verdicts = (r: ScenarioRun) =>
  r.events.flatMap((e) => (e.type === 'review:verdict' && e.payload.kind === 'code-review' ? [e.payload as Extract<ReviewVerdictPayload, { kind: 'code-review' }>] : []));
const decisions = (r: ScenarioRun): ReviewDecisionPayload[] => r.events.flatMap((e) => (e.type === 'review:decision' ? [e.payload] : []));
const warnings = (r: ScenarioRun) => r.events.flatMap((e) => (e.type === 'warning' ? [e.payload.message] : []));

describe('real-shaped reviews through the code-review loop', () => {
  it.each([
    ['without the closing lines', SECTIONS_REVIEW],
    ['with the closing lines', SECTIONS_REVIEW + CLOSING_HIGH],
  ])('the same review three times blocks at attempt 3 (%s)', async (_label, text) => {
    run = await runBatch({ developmentStatus: ONE_IN_REVIEW, scenario: { stories: { '1-1': { codeReview: [{ text }] } } } }, 1);
    expect(mainFlow(run)).toEqual(['code-review-1 1-1', 'code-review-2 1-1 [haiku]', 'code-review-3 1-1 [haiku]']);
    expect(run.statusOf('1-1-alpha')).toBe('blocked');
    expect(verdicts(run).map((v) => [v.source, v.highest, v.issues.length])).toEqual([
      ['text', 'HIGH', 2],
      ['text', 'HIGH', 2],
      ['text', 'HIGH', 2],
    ]);
    expect(decisions(run).map((d) => d.message)).toEqual([
      'attempt 1: highest HIGH; rule 3 needs attempt 3: code-review-2 next',
      'attempt 2: highest HIGH; rule 3 needs attempt 3: code-review-3 next',
      'attempt 3 similar to 2 and 1: blocked (repeated error pattern)',
    ]);
  });

  it('the same issues reworded and laid out anew are still the same review: blocked at attempt 3', async () => {
    run = await runBatch(
      { developmentStatus: ONE_IN_REVIEW, scenario: { stories: { '1-1': { codeReview: [{ text: SECTIONS_REVIEW }, { text: SECTIONS_REWORDED }, { text: SECTIONS_REVIEW + CLOSING_HIGH }] } } } },
      1,
    );
    expect(run.statusOf('1-1-alpha')).toBe('blocked');
    expect(decisions(run).at(-1)).toMatchObject({ attempt: 3, action: 'blocked', reason: 'repeated-error-pattern' });
  });

  it('a real sequence that ends with an approval is done at that attempt', async () => {
    run = await runBatch({ developmentStatus: ONE_IN_REVIEW, scenario: { stories: { '1-1': { codeReview: [{ text: SECTIONS_REVIEW }, { text: APPROVAL }] } } } }, 1);
    expect(mainFlow(run)).toEqual(['code-review-1 1-1', 'code-review-2 1-1 [haiku]', 'batch-commit 1-1']);
    expect(run.statusOf('1-1-alpha')).toBe('done');
    expect(decisions(run).at(-1)).toMatchObject({ attempt: 2, action: 'done', reason: 'zero-issues' });
  });

  it.each([
    ['without the closing lines', ''],
    ['with the closing lines', '\n\nHIGHEST SEVERITY: HIGH\nIssues: 0 CRITICAL, 1 HIGH, 0 MEDIUM, 0 LOW'],
  ])('three different reviews with the same counts are not blocked by rule 1: done at 3 by rule 3 (%s)', async (_label, closing) => {
    const texts = [
      COMMIT_STYLE('Race condition when two tabs save the same session', 'src/session-store.ts'),
      COMMIT_STYLE('Password written to the debug log', 'src/auth/login.ts'),
      COMMIT_STYLE('Token refresh never retried after a timeout', 'src/auth/refresh.ts'),
    ].map((text) => ({ text: text + closing }));
    run = await runBatch({ developmentStatus: ONE_IN_REVIEW, scenario: { stories: { '1-1': { codeReview: texts } } } }, 1);
    expect(mainFlow(run)).toEqual(['code-review-1 1-1', 'code-review-2 1-1 [haiku]', 'code-review-3 1-1 [haiku]', 'batch-commit 1-1']);
    expect(run.statusOf('1-1-alpha')).toBe('done');
    expect(verdicts(run).map((v) => v.counts)).toEqual(Array.from({ length: 3 }, () => ({ critical: 0, high: 1, medium: 0, low: 0 })));
    expect(decisions(run).at(-1)).toMatchObject({ attempt: 3, action: 'done', reason: 'non-critical-remaining' });
  });

  it('a reviewer that sets done itself ends the loop done, even when its text listed an issue; the runner does not write over it', async () => {
    run = await runBatch({ developmentStatus: ONE_IN_REVIEW, scenario: { stories: { '1-1': { codeReview: [{ text: COMMIT_STYLE('Unbounded cache', 'src/cache.ts'), setsDone: true }] } } } }, 1);
    expect(mainFlow(run)).toEqual(['code-review-1 1-1', 'batch-commit 1-1']);
    expect(run.statusOf('1-1-alpha')).toBe('done');
    expect(decisions(run)).toMatchObject([{ attempt: 1, action: 'done', reason: 'reviewer-set-done' }]);
    expect(warnings(run)).toContainEqual(expect.stringContaining('the reviewer set the story done in sprint-status but its review reported HIGH; done stands'));
    expect(run.events.find((e) => e.type === 'story:status')?.payload).toMatchObject({ status: 'done', reason: 'reviewer-set-done' });
  });
});

describe('the structured verdict beside the text', () => {
  it('a compliant model: the verdict comes from structured_output, with the issues named', async () => {
    run = await runBatch(
      { developmentStatus: ONE_IN_REVIEW, scenario: { stories: { '1-1': { codeReview: [{ high: 1, issues: ['HIGH Missing null check in src/a.ts:42'] }, 'zero'] } } } },
      1,
    );
    expect(verdicts(run).map((v) => [v.source, v.highest, v.zeroIssues, v.disagreement])).toEqual([
      ['structured', 'HIGH', false, null],
      ['structured', null, true, null],
    ]);
    expect(verdicts(run)[0]!.issues).toEqual([{ severity: 'HIGH', title: 'Missing null check', file: 'src/a.ts:42' }]);
    expect(run.statusOf('1-1-alpha')).toBe('done');
  });

  it('a model that ignores the tool: the text decides', async () => {
    run = await runBatch(
      { developmentStatus: ONE_IN_REVIEW, scenario: { structuredOutput: 'ignore', stories: { '1-1': { codeReview: [{ high: 1, issues: ['HIGH Missing null check in src/a.ts:42'] }, 'zero'] } } } },
      1,
    );
    expect(verdicts(run).map((v) => [v.source, v.highest, v.zeroIssues])).toEqual([
      ['text', 'HIGH', false],
      ['text', null, true],
    ]);
    expect(run.statusOf('1-1-alpha')).toBe('done');
  });

  it('five invalid StructuredOutput calls (error_max_structured_output_retries) are no failure: the text decides', async () => {
    run = await runBatch({ developmentStatus: ONE_IN_REVIEW, scenario: { structuredOutput: 'invalid', stories: { '1-1': { codeReview: ['zero'] } } } }, 1);
    expect(mainFlow(run)).toEqual(['code-review-1 1-1', 'batch-commit 1-1']);
    expect(verdicts(run)).toMatchObject([{ source: 'text', zeroIssues: true }]);
    expect(run.events.filter((e) => e.type === 'error')).toEqual([]);
  });

  it('when the structured answer and the text disagree, the structured one decides and a warning says so', async () => {
    const text = SECTIONS_REVIEW + CLOSING_HIGH;
    const structured = { highest: 'NONE', counts: { critical: 0, high: 0, medium: 0, low: 0 }, issues: [] };
    run = await runBatch({ developmentStatus: ONE_IN_REVIEW, scenario: { stories: { '1-1': { codeReview: [{ text, structured }] } } } }, 1);
    expect(run.statusOf('1-1-alpha')).toBe('done');
    expect(verdicts(run)).toMatchObject([{ source: 'structured', zeroIssues: true, disagreement: 'the structured verdict says zero issues, the text says HIGH (0/1/1/0)' }]);
    expect(warnings(run)).toContainEqual('code-review-1 1-1: the structured verdict says zero issues, the text says HIGH (0/1/1/0); the structured verdict decides');
  });

  it('story-review-1: critical issues per story from the structured answer', async () => {
    run = await runBatch({ developmentStatus: '  epic-1: backlog\n  1-1-alpha: backlog\n', scenario: { stories: { '1-1': { storyReview: [2], techSpec: 'SKIP' } } } }, 1);
    const review = run.events.find((e) => e.type === 'review:verdict' && e.payload.kind === 'story-review');
    expect(review?.payload).toMatchObject({ kind: 'story-review', command: 'story-review-1', source: 'structured', critical: true, perStory: { '1-1': 2 }, disagreement: null });
  });
});
