// The code-review loop of Step 4.2: a review's verdict read from its text, its error pattern, and the exit rules.
// The readers live beside it (review-markers, review-issues, review-similarity); docs/error-pattern.md documents
// the whole rule with worked examples: keep the two in step.
import { extractIssues, UNRATED } from './review-issues.js';
import { readMarkers } from './review-markers.js';
import { similarIssueSets } from './review-similarity.js';
import { countKey, mostSevere, nonZeroSeverities, splitLines, totalOf, zeroCounts, type Severity, type SeverityCounts } from './review-text.js';

export { SEVERITIES, type Severity, type SeverityCounts } from './review-text.js';
export { extractIssues, listIssues, UNRATED, type ListedIssue } from './review-issues.js';
export { issueMatchScore, normaliseIssueText, similarIssueSets, ISSUE_MATCH_THRESHOLD, ISSUE_SET_THRESHOLD, SAME_FILE_MATCH_THRESHOLD } from './review-similarity.js';

export const MAX_REVIEW_ATTEMPTS = 10;

/** How many consecutive attempts must repeat the same issues before the story is blocked. */
export const REPEATED_PATTERN_WINDOW = 3;

/**
 * What the verdict was read from: verdict markers (`HIGHEST SEVERITY`, a counts line, `ZERO ISSUES`…), the
 * severity tags of the listed issues when there is no marker, an `APPROVED` alone, or nothing at all.
 */
export type VerdictBasis = 'markers' | 'issues' | 'approval' | 'none';

export interface CodeReviewReport {
  /** A verdict was found (basis is not `none`). */
  parsed: boolean;
  basis: VerdictBasis;
  zeroIssues: boolean;
  /** The most severe reported severity; null when zero or unparsed. */
  highest: Severity | null;
  /** The last counts line (the final tally), else the counts of the listed issues, or null when there is neither. */
  counts: SeverityCounts | null;
  /** Normalised issue descriptors `SEVERITY words…` (UNRATED without a severity), sorted and deduplicated. */
  issues: string[];
  /** True for CRITICAL and for an unparsed review (it may hold critical issues). */
  hasCritical: boolean;
  /** The error pattern: a header line (`unparsed`, `zero issues` or the counts), then one `- <descriptor>` line per issue. */
  pattern: string;
}

export const UNPARSED_PATTERN = 'unparsed';

/** Reads the review's whole assistant text. Never throws. */
export function parseCodeReview(text: string): CodeReviewReport {
  const lines = splitLines(text);
  const read = readMarkers(lines);
  const issues = extractIssues(lines);
  const rated = issues.map((d) => d.split(' ', 1)[0] as string).filter((s): s is Severity => s !== UNRATED);
  // Per-severity lines that all say 0 are a weak verdict: the one severity that had issues may be written in a shape
  // not read as a count, and the others' `: 0` lines alone would then say zero. With no other marker, tagged issues
  // outweigh them (stopping early is the costly mistake).
  const weakZero =
    read.severityMarkers.length === 0 && read.countLines.length === 0 && !read.zeroMarker && read.severityLines !== null && totalOf(read.severityLines) === 0 && rated.length > 0;
  const m = weakZero ? { ...read, severityLines: null } : read;

  const markersFound = m.severityMarkers.length > 0 || m.countLines.length > 0 || m.severityLines !== null || m.zeroMarker;
  const statedAny = totalOf(m.stated) > 0;
  const basis: VerdictBasis = markersFound ? 'markers' : rated.length > 0 || statedAny ? 'issues' : m.approval ? 'approval' : 'none';
  const allCounts = [...m.countLines, ...(m.severityLines ? [m.severityLines] : [])];
  const anyNonZero = allCounts.some((c) => totalOf(c) > 0);
  // The last found-tally is the final one; a fixed-tally only stands in when there is no found-tally.
  const countLine = m.foundLines[m.foundLines.length - 1] ?? m.countLines[m.countLines.length - 1] ?? m.severityLines;

  let zeroIssues = basis === 'approval';
  // A reported severity or a non-zero count outweighs `ZERO ISSUES`: stopping early is the costly mistake.
  if (basis === 'markers') zeroIssues = (m.zeroMarker || countLine !== null) && !anyNonZero && m.severityMarkers.length === 0;

  let highest: Severity | null = null;
  if (basis !== 'none' && !zeroIssues) {
    // Issue tags decide only without markers: the markers are the reviewer's verdict.
    highest = mostSevere([...m.severityMarkers, ...allCounts.flatMap(nonZeroSeverities), ...(basis === 'issues' ? [...rated, ...nonZeroSeverities(m.stated)] : [])]);
  }
  let counts: SeverityCounts | null = countLine;
  if (counts === null && (rated.length > 0 || statedAny) && !zeroIssues) {
    counts = zeroCounts();
    for (const s of rated) counts[countKey(s)]++;
    // `2 MEDIUM issues found` counts what the list may show only in part
    for (const key of Object.keys(counts) as (keyof SeverityCounts)[]) counts[key] = Math.max(counts[key], m.stated[key]);
  }
  const report = { parsed: basis !== 'none', basis, zeroIssues, highest, counts, issues, hasCritical: basis === 'none' || highest === 'CRITICAL' };
  return { ...report, pattern: formatPattern(report) };
}

/** The error pattern of a report: its header line, then one `- <descriptor>` line per issue. */
export function formatPattern(r: Omit<CodeReviewReport, 'pattern'>): string {
  const counted = r.counts
    ? `${r.counts.critical} CRITICAL, ${r.counts.high} HIGH, ${r.counts.medium} MEDIUM, ${r.counts.low} LOW`
    : 'not counted';
  const header = !r.parsed ? UNPARSED_PATTERN : r.zeroIssues ? 'zero issues' : `issues: ${counted}; highest: ${r.highest ?? 'none'}`;
  return [header, ...r.issues.map((i) => `- ${i}`)].join('\n');
}

/** The issue descriptors of a pattern string (its `- ` lines). */
export function patternIssues(pattern: string): string[] {
  return pattern
    .split('\n')
    .filter((l) => l.startsWith('- '))
    .map((l) => l.slice(2));
}

/**
 * Two attempts' patterns are similar when both list issues and those lists are similar (see similarIssueSets),
 * whatever their headers. Counts, the highest severity and being `unparsed` are deliberately ignored: equal
 * counts with different issues is progress, and a pattern without issue lines can never be shown to repeat,
 * so it never blocks (the loop then ends by rule 3 or 4). Two unparsed attempts are similar only when the
 * issues they list (unrated) are.
 */
export function patternsSimilar(a: string, b: string): boolean {
  return similarIssueSets(patternIssues(a), patternIssues(b));
}

// ---------------------------------------------------------------------------------------------------------
// Exit rules.

export type ReviewLoopDecision =
  | { action: 'blocked'; reason: 'repeated-error-pattern' | 'hard-limit' }
  /** `reviewer-set-done`: the reviewer set the story `done` in sprint-status itself (spec Step 4.2), whatever the text said */
  | { action: 'done'; reason: 'zero-issues' | 'non-critical-remaining' | 'reviewer-set-done' }
  | { action: 'retry'; nextAttempt: number };

/** The exit rules after a parsed attempt N, in the spec's order; the first that applies decides. */
export function decideReviewLoop(
  attempt: number,
  patterns: readonly string[],
  report: CodeReviewReport,
): ReviewLoopDecision {
  if (attempt >= REPEATED_PATTERN_WINDOW && patterns.length >= REPEATED_PATTERN_WINDOW) {
    const [older, previous, current] = patterns.slice(-REPEATED_PATTERN_WINDOW) as [string, string, string];
    if (patternsSimilar(older, previous) && patternsSimilar(previous, current) && patternsSimilar(older, current)) {
      return { action: 'blocked', reason: 'repeated-error-pattern' };
    }
  }
  if (report.zeroIssues) return { action: 'done', reason: 'zero-issues' };
  if (attempt >= 3 && !report.hasCritical) return { action: 'done', reason: 'non-critical-remaining' };
  if (attempt >= MAX_REVIEW_ATTEMPTS) return { action: 'blocked', reason: 'hard-limit' };
  return { action: 'retry', nextAttempt: attempt + 1 };
}

/** Null = the default model (attempt 1); `haiku` from attempt 2 on. */
export function reviewModel(attempt: number): 'haiku' | null {
  return attempt >= 2 ? 'haiku' : null;
}

/** One line an operator reads to see why the loop did what it did after attempt N. */
export function explainDecision(attempt: number, decision: ReviewLoopDecision, report: CodeReviewReport): string {
  const verdict = !report.parsed ? 'no verdict (unparsed)' : report.zeroIssues ? 'zero issues' : `highest ${report.highest ?? 'not named'}`;
  if (decision.action === 'retry') {
    const why = report.hasCritical ? (report.parsed ? 'CRITICAL remains' : 'no verdict, may hold CRITICAL') : 'rule 3 needs attempt 3';
    return `attempt ${attempt}: ${verdict}; ${why}: code-review-${decision.nextAttempt} next`;
  }
  switch (decision.reason) {
    case 'repeated-error-pattern':
      return `attempt ${attempt} similar to ${attempt - 1} and ${attempt - 2}: blocked (repeated error pattern)`;
    case 'hard-limit':
      return `attempt ${attempt}: ${verdict}; the hard limit of ${MAX_REVIEW_ATTEMPTS} attempts: blocked`;
    case 'zero-issues':
      return `attempt ${attempt}: zero issues: done`;
    case 'non-critical-remaining':
      return `attempt ${attempt}: ${verdict}, no CRITICAL after 3 attempts: done (non-critical issues may remain)`;
    case 'reviewer-set-done':
      return `attempt ${attempt}: the reviewer set the story done in sprint-status (${verdict}): done`;
  }
}
