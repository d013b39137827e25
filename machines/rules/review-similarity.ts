// Normalising an issue's text and deciding whether two issues, or two lists of issues, are the same.
// The rule is documented with worked examples in docs/error-pattern.md §3 and §5; keep the two in step.
import { MAX_LINE_CHARS, stripDecoration, trimEndWhile } from './review-text.js';

// ---------------------------------------------------------------------------------------------------------
// Normalisation: what an issue is, independent of wording noise.

const MAX_ISSUE_TOKENS = 32;
const MAX_TOKEN_CHARS = 120;

// Text after these is how the issue was (or should be) fixed, which changes between attempts.
const FIX_TAIL = /\s(?:→|->|=>|⇒)\s|(?:^|[\s(*_])(?:fix(?:ed)?|resolution|resolved|solution|recommendation|suggested fix|action taken)[\s*_`]*:/i;

// A token is a path when, once its `:line:col` / `#L12` suffix is gone, it ends in a file extension or has two
// slashes (`src/a.ts`, `a.ts`, `src/lib/utils`); `and/or` or `read/write` are words.
const LINE_SUFFIX = /(?:(?::\d+)+(?:-\d+)?|#l\d+(?:-l?\d+)?)$/;
const FILE_NAME = /(?:^|[/\\])[\w.-]*[a-z_][\w-]*\.[a-z][a-z0-9]{0,7}$/;
const ABBREVIATIONS = /(?:^|\s)(?:e\.g|i\.e|etc|vs|cf)\.?(?=\s|$|[,;:)])/g;

function isPathToken(token: string): boolean {
  const bare = token.replace(LINE_SUFFIX, '');
  if (!/[a-z]/.test(bare)) return false;
  return FILE_NAME.test(bare) || (bare.match(/[/\\]/g)?.length ?? 0) >= 2;
}

/**
 * Lower-cased words; digits, punctuation and quotes removed; file paths kept as one token each, without
 * line/column suffixes; a trailing "fixed: …" or "→ …" part dropped; at most 32 tokens.
 */
export function normaliseIssueText(raw: string): string {
  let text = raw.slice(0, MAX_LINE_CHARS);
  const tail = FIX_TAIL.exec(text);
  if (tail && tail.index > 0 && stripDecoration(text.slice(0, tail.index)) !== '') text = text.slice(0, tail.index);
  text = text
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1') // [label](url) -> label
    .replace(/\b(?:lines?|ln|l)\s*\d+(?:\s*(?:-|–|to)\s*\d+)?\b/gi, ' ') // `line 42`, `lines 10-20`, `L42`
    .replace(/[*_`~]{2,}|`/g, ' ')
    .replace(/['’‘"“”]/g, '')
    .toLowerCase()
    .replace(ABBREVIATIONS, ' ');

  const tokens: string[] = [];
  for (const word of text.split(/\s+/)) {
    if (word.length > MAX_TOKEN_CHARS) continue; // hashes, base64, minified code: noise, and costly to match
    const trimmed = trimEndWhile(word.replace(/^[^\w./\\~]+/, ''), (c) => !/[\w/\\]/.test(c));
    if (trimmed === '') continue;
    if (isPathToken(trimmed)) {
      tokens.push(normalisePath(trimmed));
      continue;
    }
    for (const piece of trimmed.replace(/[^a-z]+/g, ' ').split(' ')) if (piece !== '') tokens.push(piece);
  }
  return tokens.slice(0, MAX_ISSUE_TOKENS).join(' ');
}

function normalisePath(token: string): string {
  const path = token.replace(/\\/g, '/').replace(LINE_SUFFIX, '').replace(/^(?:\.\/)+/, '');
  return trimEndWhile(path, (c) => !/[\w/]/.test(c));
}

// ---------------------------------------------------------------------------------------------------------
// Similarity.

/** Two issues match when their content words overlap this much (Jaccard) and they name no disjoint files… */
export const ISSUE_MATCH_THRESHOLD = 0.5;
/** …or this much when both name the same file (rewording the same issue in one file keeps fewer words). */
export const SAME_FILE_MATCH_THRESHOLD = 0.35;
/** Two issue lists are similar when this share of the longer list is matched one-to-one in the other. */
export const ISSUE_SET_THRESHOLD = 0.6;

const STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a an the and or of in on at to for from by with without into onto over under via per is are was were be been ' +
    'being it its this that these those as not no but if when while than then so such also still there here which ' +
    'should must can could may might will would does do did has have had e g i eg ie etc line lines file files ' +
    'issue issues fixed fix resolved done now status'
  ).split(' '),
);

interface IssueTokens {
  words: Set<string>;
  paths: Set<string>;
}

function issueTokens(descriptor: string): IssueTokens {
  const words = new Set<string>();
  const paths = new Set<string>();
  // The first token is the severity: it does not decide whether two issues are the same (it is often re-rated).
  for (const token of descriptor.split(' ').slice(1)) {
    if (token.includes('/') || token.includes('.')) paths.add(token);
    else if (token.length > 1 && !STOPWORDS.has(token)) words.add(singular(token));
  }
  return { words, paths };
}

/** A plural `s` dropped (`checks` = `check`), not from `-ss` words (`class`, `access`). */
function singular(word: string): string {
  return word.length > 3 && word.endsWith('s') && !word.endsWith('ss') ? word.slice(0, -1) : word;
}

function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 0;
  let shared = 0;
  for (const x of a) if (b.has(x)) shared++;
  return shared / (a.size + b.size - shared);
}

/** How much two issue descriptors look like the same issue: 0 (not the same) to 1. */
export function issueMatchScore(a: string, b: string): number {
  // The same text is the same issue, even when it is only stopwords (`LOW it`).
  if (a.slice(a.indexOf(' ') + 1) === b.slice(b.indexOf(' ') + 1)) return 1;
  const ta = issueTokens(a);
  const tb = issueTokens(b);
  const sharedPath = [...ta.paths].some((p) => tb.paths.has(p));
  if (ta.paths.size > 0 && tb.paths.size > 0 && !sharedPath) return 0;
  if (ta.words.size === 0 && tb.words.size === 0) return sharedPath ? 1 : 0;
  const score = jaccard(ta.words, tb.words);
  return score >= (sharedPath ? SAME_FILE_MATCH_THRESHOLD : ISSUE_MATCH_THRESHOLD) ? score : 0;
}

/**
 * Whether two issue lists name substantially the same issues: a one-to-one matching (best pairs first, ties by
 * text so the result does not depend on argument order) must cover at least 60% of the longer list.
 * Empty lists are never similar: what was not named cannot be "the same issues".
 */
export function similarIssueSets(a: readonly string[], b: readonly string[]): boolean {
  const la = [...new Set(a)];
  const lb = [...new Set(b)];
  if (la.length === 0 || lb.length === 0) return false;
  const candidates: Array<{ i: number; j: number; score: number; lo: string; hi: string }> = [];
  la.forEach((x, i) =>
    lb.forEach((y, j) => {
      const score = issueMatchScore(x, y);
      if (score > 0) candidates.push({ i, j, score, lo: x < y ? x : y, hi: x < y ? y : x });
    }),
  );
  candidates.sort((p, q) => q.score - p.score || cmp(p.lo, q.lo) || cmp(p.hi, q.hi));
  const usedA = new Set<number>();
  const usedB = new Set<number>();
  let matched = 0;
  for (const c of candidates) {
    if (usedA.has(c.i) || usedB.has(c.j)) continue;
    usedA.add(c.i);
    usedB.add(c.j);
    matched++;
  }
  return matched / Math.max(la.length, lb.length) >= ISSUE_SET_THRESHOLD;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
