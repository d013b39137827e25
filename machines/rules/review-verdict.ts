// The machine-readable verdict the runner asks the CLI for (`--json-schema`), read beside the text and checked against it.
// What the real CLI does with it is documented in docs/structured-verdict.md (seen with 2.1.197 and the contract test's mock API).
import { formatPattern, parseCodeReview, type CodeReviewReport } from './code-review.js';
import { listIssues, sortDescriptors, UNRATED } from './review-issues.js';
import { parseCriticalIssues } from './markers.js';
import { normaliseIssueText } from './review-similarity.js';
import type { StoryRef } from '../types.js';
import { SEVERITIES, countKey, mostSevere, nonZeroSeverities, splitLines, stripDecoration, totalOf, zeroCounts, type Severity, type SeverityCounts } from './review-text.js';

/** The review kinds whose verdict is asked for in a machine-readable form. */
export type VerdictKind = 'code-review' | 'story-review' | 'tech-spec-review';

const SEVERITY_ENUM = [...SEVERITIES];
const COUNT = { type: 'integer', minimum: 0 };

/*
 * Lenient on purpose: the CLI validates the model's StructuredOutput call against the schema and, after 5 invalid
 * calls, ends the run with error_max_structured_output_retries. Every constraint is one more way for a review that
 * did its work to end in that error, so only what the runner reads is required.
 */
export const CODE_REVIEW_SCHEMA = {
  type: 'object',
  properties: {
    highest: { type: 'string', enum: [...SEVERITY_ENUM, 'NONE'], description: 'The most severe issue found, NONE for zero issues' },
    counts: {
      type: 'object',
      properties: { critical: COUNT, high: COUNT, medium: COUNT, low: COUNT },
      required: ['critical', 'high', 'medium', 'low'],
    },
    issues: {
      type: 'array',
      description: 'Every issue found in this review, fixed or not',
      items: {
        type: 'object',
        properties: { severity: { type: 'string', enum: SEVERITY_ENUM }, title: { type: 'string' }, file: { type: 'string' } },
        required: ['severity', 'title'],
      },
    },
  },
  required: ['highest', 'counts', 'issues'],
} as const;

export const STORY_REVIEW_SCHEMA = {
  type: 'object',
  properties: {
    stories: {
      type: 'array',
      description: 'One entry per reviewed story',
      items: {
        type: 'object',
        properties: { story: { type: 'string', description: 'The short story id, e.g. 3a-1' }, critical_issues: COUNT },
        required: ['story', 'critical_issues'],
      },
    },
  },
  required: ['stories'],
} as const;

export function isVerdictKind(kind: string): kind is VerdictKind {
  return kind === 'code-review' || kind === 'story-review' || kind === 'tech-spec-review';
}

/** The argv that asks for the structured verdict of this command kind: `--json-schema <schema>`, or nothing. */
export function verdictSchemaArgs(kind: string): string[] {
  if (kind === 'code-review') return ['--json-schema', JSON.stringify(CODE_REVIEW_SCHEMA)];
  if (kind === 'story-review' || kind === 'tech-spec-review') return ['--json-schema', JSON.stringify(STORY_REVIEW_SCHEMA)];
  return [];
}

export type VerdictSource = 'structured' | 'text';

export interface VerdictIssue {
  severity: Severity | null;
  title: string;
  file: string | null;
}

/** One code-review attempt's verdict: what decided, from where, and whether the two readings agreed. */
export interface CodeReviewVerdict {
  report: CodeReviewReport;
  source: VerdictSource;
  /** the issues as the operator should read them (titles, not normalised descriptors) */
  issues: VerdictIssue[];
  /** why the structured answer and the text disagree, or null when they agree (or only one was there) */
  disagreement: string | null;
}

const MAX_TITLE_CHARS = 160;

/**
 * The structured answer decides when the CLI returned a valid one; the text reader decides otherwise. Why the
 * structured one wins: the CLI has validated it against the schema and it names the verdict in fields, while the
 * text reader infers it from free prose in many shapes; when they disagree, a misreading of the prose is the
 * likelier cause. The disagreement is reported (a warning event) so an operator can check.
 */
export function codeReviewVerdict(text: string, structuredOutput: unknown): CodeReviewVerdict {
  const fromText = parseCodeReview(text);
  const structured = readStructuredCodeReview(structuredOutput);
  if (structured === null) {
    const issues = listIssues(splitLines(text)).map((i) => ({ severity: i.severity, title: clip(stripDecoration(i.text)), file: null }));
    return { report: fromText, source: 'text', issues, disagreement: null };
  }
  return { report: structured.report, source: 'structured', issues: structured.issues, disagreement: compareReports(structured.report, fromText) };
}

function readStructuredCodeReview(value: unknown): { report: CodeReviewReport; issues: VerdictIssue[] } | null {
  if (!isObject(value)) return null;
  const issues: VerdictIssue[] = [];
  const rawIssues = value['issues'];
  if (!Array.isArray(rawIssues)) return null;
  for (const raw of rawIssues) {
    if (!isObject(raw) || typeof raw['title'] !== 'string') continue;
    const severity = typeof raw['severity'] === 'string' && (SEVERITIES as readonly string[]).includes(raw['severity'].toUpperCase()) ? (raw['severity'].toUpperCase() as Severity) : null;
    issues.push({ severity, title: clip(raw['title']), file: typeof raw['file'] === 'string' && raw['file'] !== '' ? raw['file'] : null });
  }
  const rawCounts = isObject(value['counts']) ? value['counts'] : null;
  const counts = zeroCounts();
  if (rawCounts) for (const key of Object.keys(counts) as (keyof SeverityCounts)[]) counts[key] = nonNegativeInt(rawCounts[key]);
  else for (const issue of issues) if (issue.severity) counts[countKey(issue.severity)]++;
  const named = typeof value['highest'] === 'string' ? value['highest'].toUpperCase() : 'NONE';
  const highest = mostSevere([
    ...((SEVERITIES as readonly string[]).includes(named) ? [named as Severity] : []),
    ...nonZeroSeverities(counts),
    ...issues.flatMap((i) => (i.severity ? [i.severity] : [])),
  ]);
  const zeroIssues = highest === null && totalOf(counts) === 0 && issues.length === 0;
  const descriptors = sortDescriptors(issues.map((i) => `${i.severity ?? UNRATED} ${normaliseIssueText([i.title, i.file ?? ''].join(' '))}`));
  const verdict = { parsed: true, basis: 'markers' as const, zeroIssues, highest, counts, issues: descriptors, hasCritical: highest === 'CRITICAL' };
  const report: CodeReviewReport = { ...verdict, pattern: formatPattern(verdict) };
  return { report, issues };
}

/** What differs between the two readings that could change the loop's decision, or null. */
function compareReports(structured: CodeReviewReport, text: CodeReviewReport): string | null {
  if (!text.parsed) return null; // nothing to compare with: the text gave no verdict
  const show = (r: CodeReviewReport) =>
    r.zeroIssues ? 'zero issues' : `${r.highest ?? 'no severity'}${r.counts ? ` (${r.counts.critical}/${r.counts.high}/${r.counts.medium}/${r.counts.low})` : ''}`;
  const sameCounts = text.counts === null || (structured.counts !== null && (Object.keys(text.counts) as (keyof SeverityCounts)[]).every((k) => text.counts![k] === structured.counts![k]));
  if (structured.zeroIssues === text.zeroIssues && structured.highest === text.highest && sameCounts) return null;
  return `the structured verdict says ${show(structured)}, the text says ${show(text)}`;
}

/** Story-review / tech-spec-review: critical issues per story, and whether the cycle has any. */
export interface StoryReviewVerdict {
  critical: boolean;
  /** false when neither the structured answer nor a text marker was there (the caller treats it as critical and warns) */
  markerFound: boolean;
  source: VerdictSource;
  /** short id -> critical issues, when the structured answer named the story */
  perStory: Record<string, number>;
  disagreement: string | null;
}

export function storyReviewVerdict(text: string, structuredOutput: unknown, shortIds: readonly string[]): StoryReviewVerdict {
  const fromText = parseCriticalIssues(text);
  const perStory = readStructuredStoryReview(structuredOutput, shortIds);
  if (perStory === null) return { critical: fromText.critical, markerFound: fromText.markerFound, source: 'text', perStory: {}, disagreement: null };
  const critical = Object.values(perStory).some((n) => n > 0);
  const disagreement =
    fromText.markerFound && fromText.critical !== critical
      ? `the structured verdict says ${critical ? 'critical issues' : 'no critical issues'}, the text says ${fromText.critical ? `CRITICAL ISSUES FOUND: ${fromText.count}` : 'no critical issues'}`
      : null;
  return { critical, markerFound: true, source: 'structured', perStory, disagreement };
}

function readStructuredStoryReview(value: unknown, shortIds: readonly string[]): Record<string, number> | null {
  if (!isObject(value) || !Array.isArray(value['stories'])) return null;
  const perStory: Record<string, number> = {};
  for (const entry of value['stories']) {
    if (!isObject(entry) || typeof entry['story'] !== 'string') continue;
    const named = entry['story'].trim().toLowerCase();
    // `3a-1` or the long key `3a-1-slug`: either names the story
    const id = shortIds.find((s) => named === s.toLowerCase() || named.startsWith(`${s.toLowerCase()}-`)) ?? entry['story'];
    perStory[id] = Math.max(perStory[id] ?? 0, nonNegativeInt(entry['critical_issues']));
  }
  // an answer that names none of the cycle's stories says nothing about them
  return shortIds.some((s) => s in perStory) || (shortIds.length === 0 && Object.keys(perStory).length > 0) ? perStory : null;
}

function nonNegativeInt(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

function clip(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > MAX_TITLE_CHARS ? `${one.slice(0, MAX_TITLE_CHARS - 1)}…` : one;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `review:verdict` event: one review attempt's verdict, where it came from, and why it may be doubted. */
export type ReviewVerdictPayload =
  | {
      kind: 'code-review';
      story: StoryRef;
      command: string;
      runId: string;
      attempt: number;
      source: VerdictSource;
      basis: CodeReviewReport['basis'];
      highest: Severity | null;
      counts: SeverityCounts | null;
      zeroIssues: boolean;
      hasCritical: boolean;
      issues: VerdictIssue[];
      /** the error pattern rule 1 compares */
      pattern: string;
      disagreement: string | null;
    }
  | {
      kind: 'story-review' | 'tech-spec-review';
      stories: StoryRef[];
      command: string;
      runId: string;
      source: VerdictSource;
      critical: boolean;
      markerFound: boolean;
      perStory: Record<string, number>;
      disagreement: string | null;
    };

/** The `review:decision` event: what the code-review loop did after an attempt, and why, in one line. */
export interface ReviewDecisionPayload {
  story: StoryRef;
  command: string;
  runId: string;
  attempt: number;
  action: 'done' | 'blocked' | 'retry';
  reason: string;
  message: string;
}
