// The code-review loop of Step 4.2: reading a review's markers and issues, its error pattern, and the exit rules.
// The error-pattern rule is documented with worked examples in docs/error-pattern.md; keep the two in step.

export type Severity = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW';

/** Most severe first; the index is the rank. */
export const SEVERITIES: readonly Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'];

export const MAX_REVIEW_ATTEMPTS = 10;

/** How many consecutive attempts must repeat the same issues before the story is blocked. */
export const REPEATED_PATTERN_WINDOW = 3;

export interface SeverityCounts {
  critical: number;
  high: number;
  medium: number;
  low: number;
}

export interface CodeReviewReport {
  /** Any of the three markers was found. */
  parsed: boolean;
  zeroIssues: boolean;
  /** The most severe of every `HIGHEST SEVERITY:` marker and every non-zero count; null when zero or unparsed. */
  highest: Severity | null;
  /** The last counts line (the final tally), or null when there is none. */
  counts: SeverityCounts | null;
  /** Normalised issue descriptors `SEVERITY words…`, sorted (severity, then text) and deduplicated. */
  issues: string[];
  /** True for CRITICAL and for an unparsed review (it may hold critical issues). */
  hasCritical: boolean;
  /** The error pattern: `unparsed`, or a header line plus one `- <descriptor>` line per issue. */
  pattern: string;
}

export const UNPARSED_PATTERN = 'unparsed';

const SEV = '(critical|high|medium|low)';
const MD = '[\\s*_`"\']'; // markdown emphasis, code ticks and quotes tolerated around marker parts

const HIGHEST_MARKER = new RegExp(`highest${MD}+severity${MD}*:${MD}*${SEV}\\b`, 'gi');
const COUNTS_LABEL = /\bissues(?:[\s*_`]+found)?[\s*_`]*:/gi;
const COUNT_PAIR = new RegExp(`^(?:[\\s,;*_\`]|and\\b)*(\\d+)[\\s*_\`]*${SEV}\\b`, 'i');
// The mandated form is upper case; `NON-ZERO ISSUES` is not it.
const ZERO_UPPER = /(?<![A-Za-z0-9-])ZERO ISSUES(?![A-Za-z0-9])/;
// Any case, but only as a whole statement on its own line, so prose such as "should leave zero issues" is no marker.
const ZERO_LINE = /^(?:result\s*:\s*)?zero\s+issues(?:\s+found)?[.!]?$/i;

/** Reads the review's whole assistant text. Never throws. */
export function parseCodeReview(text: string): CodeReviewReport {
  const lines = text.split(/\r\n|\r|\n/);

  const severityMarkers: Severity[] = [];
  for (const m of text.matchAll(HIGHEST_MARKER)) severityMarkers.push(toSeverity(m[1]));

  const countLines: SeverityCounts[] = [];
  let zeroMarker = ZERO_UPPER.test(text);
  for (const line of lines) {
    const counts = readCountsLine(line);
    if (counts) countLines.push(counts);
    if (!zeroMarker && ZERO_LINE.test(stripDecoration(line))) zeroMarker = true;
  }

  const parsed = zeroMarker || severityMarkers.length > 0 || countLines.length > 0;
  const anyNonZero = countLines.some((c) => total(c) > 0);
  // A reported severity or a non-zero count outweighs `ZERO ISSUES`: stopping early is the costly mistake.
  const zeroIssues = (zeroMarker || countLines.length > 0) && !anyNonZero && severityMarkers.length === 0;

  let highest: Severity | null = null;
  if (parsed && !zeroIssues) {
    const seen = [...severityMarkers, ...countLines.flatMap(nonZeroSeverities)];
    highest = seen.reduce<Severity | null>((best, s) => (best === null || rank(s) < rank(best) ? s : best), null);
  }
  const counts = countLines[countLines.length - 1] ?? null;
  const issues = extractIssues(lines);
  const report = {
    parsed,
    zeroIssues,
    highest,
    counts,
    issues,
    hasCritical: !parsed || highest === 'CRITICAL',
  };
  return { ...report, pattern: parsed ? formatPattern(report) : UNPARSED_PATTERN };
}

/** The first `Issues: <n> CRITICAL, <n> HIGH, …` on the line (any subset, any order); null when none. */
function readCountsLine(line: string): SeverityCounts | null {
  for (const label of line.matchAll(COUNTS_LABEL)) {
    const counts = readCountPairs(line.slice(label.index + label[0].length));
    if (counts) return counts;
  }
  return null;
}

function readCountPairs(text: string): SeverityCounts | null {
  let rest = text;
  const counts: SeverityCounts = { critical: 0, high: 0, medium: 0, low: 0 };
  let pairs = 0;
  for (let p = COUNT_PAIR.exec(rest); p; p = COUNT_PAIR.exec(rest)) {
    const n = Number.parseInt(p[1] ?? '0', 10);
    const key = toSeverity(p[2]).toLowerCase() as keyof SeverityCounts;
    counts[key] += Number.isFinite(n) ? n : 0;
    pairs++;
    rest = rest.slice(p[0].length);
  }
  return pairs > 0 ? counts : null;
}

function total(c: SeverityCounts): number {
  return c.critical + c.high + c.medium + c.low;
}

function nonZeroSeverities(c: SeverityCounts): Severity[] {
  return SEVERITIES.filter((s) => c[s.toLowerCase() as keyof SeverityCounts] > 0);
}

function toSeverity(word: string | undefined): Severity {
  return (word ?? 'LOW').toUpperCase() as Severity;
}

function rank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

function formatPattern(r: Omit<CodeReviewReport, 'pattern'>): string {
  const counted = r.counts
    ? `${r.counts.critical} CRITICAL, ${r.counts.high} HIGH, ${r.counts.medium} MEDIUM, ${r.counts.low} LOW`
    : 'not counted';
  const header = r.zeroIssues ? 'zero issues' : `issues: ${counted}; highest: ${r.highest ?? 'none'}`;
  return [header, ...r.issues.map((i) => `- ${i}`)].join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// Issue lines. Accepted shapes (see docs/error-pattern.md):
//   tagged:   `- [HIGH] text`, `1. **HIGH**: text`, `* 🔴 CRITICAL - text`, `HIGH: text`, `(MEDIUM) text`,
//             `- **Severity: HIGH** text`, and a trailing tag `- text (HIGH)`;
//   sections: list items under a heading that names one severity (`## 🔴 CRITICAL ISSUES`, `**Medium:**`);
//   blocks:   a heading (`### Issue 1: text`) whose block has a `Severity: HIGH` line (and maybe `File: path`);
//   tables:   a row with a cell that is exactly a severity; the other cells are the text.
// Anything else (narration, plans, fenced code) is not an issue.

const TRAILING_TAG = new RegExp(`(?:\\(|\\[)\\s*(?:severity\\s*[:=]\\s*)?${SEV}(?:\\s+(?:severity|priority))?\\s*(?:\\)|\\])\\s*[.]?$`, 'i');
const SEVERITY_FIELD = new RegExp(`^(?:[-*+•]\\s+|\\d+[.)]\\s+)?${MD}*(?:severity|priority)${MD}*[:=]${MD}*${SEV}\\b`, 'i');
const FILE_FIELD = /^(?:[-*+•]\s+|\d+[.)]\s+)?[\s*_`]*(?:file|files|location|path|where)[\s*_`]*:[\s*_`]*(.+)$/i;
const SEVERITY_HEADING = new RegExp(
  `^(?:severity\\s*[:=-]?\\s*)?${SEV}(?:[\\s-]+(?:severity|priority))?(?:[\\s-]+(?:issues?|findings?|problems?))?(?:\\s*\\(\\d+\\))?\\s*:?$`,
  'i',
);
const LIST_ITEM = /^([ \t]*)(?:>[ \t]*)*(?:[-*+•]|\d+[.)])[ \t]+(.*)$/;
const MD_HEADING = /^[ \t]*(?:>[ \t]*)*#{1,6}[ \t]+(.*)$/;
const BOLD_LINE = /^[ \t]*(?:\*\*|__)((?:(?!\*\*|__).)+)(?:\*\*|__)[ \t]*:?[ \t]*$/;

const MAX_LINE_CHARS = 2000;

interface RawIssue {
  severity: Severity;
  text: string;
}

interface Block {
  title: string;
  severity: Severity | null;
  files: string[];
}

/** Finds the issue lines and returns their normalised descriptors, sorted and deduplicated. */
export function extractIssues(lines: readonly string[]): string[] {
  const raw: RawIssue[] = [];
  let section: { severity: Severity; itemIndent: number | null } | null = null;
  let block: Block | null = null;
  let fence: string | null = null;
  const closeBlock = () => {
    if (block?.severity) raw.push({ severity: block.severity, text: [block.title, ...block.files].join(' ') });
    block = null;
  };

  for (let i = 0; i < lines.length; i++) {
    // Issue lines are short; the cap bounds the work on pathological text without changing real reviews.
    const line = (lines[i] ?? '').slice(0, MAX_LINE_CHARS);
    if (line.trim() === '') continue;

    // Fenced code (diffs, shell, source) is never an issue line, and its `# comments` are no headings.
    const fenceMark = /^[ \t]*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence !== null) {
      if (fenceMark !== undefined && fenceMark[0] === fence[0] && fenceMark.length >= fence.length) fence = null;
      continue;
    }
    if (fenceMark !== undefined) {
      fence = fenceMark;
      continue;
    }

    if (isMarkerLine(line)) {
      closeBlock();
      section = null;
      continue;
    }

    if (/^[ \t]*\|/.test(line)) {
      const row = tableIssue(line, (lines[i + 1] ?? '').slice(0, MAX_LINE_CHARS), section?.severity ?? null);
      if (row) raw.push(row);
      continue;
    }

    const heading = headingText(line);
    if (heading !== null) {
      closeBlock();
      const cleaned = stripDecoration(heading);
      const sectionSeverity = SEVERITY_HEADING.exec(cleaned);
      if (sectionSeverity) {
        section = { severity: toSeverity(sectionSeverity[1]), itemIndent: null };
        continue;
      }
      section = null;
      const title = stripNumbering(heading);
      const tagged = leadingTag(title);
      if (tagged) raw.push(tagged);
      else block = { title, severity: null, files: [] };
      continue;
    }

    const currentBlock: Block | null = block;
    if (currentBlock !== null) {
      const field = SEVERITY_FIELD.exec(line.trim());
      if (field) {
        currentBlock.severity ??= toSeverity(field[1]);
        continue;
      }
      const file = FILE_FIELD.exec(line.trim());
      if (file) {
        currentBlock.files.push(file[1] ?? '');
        continue;
      }
    }

    const item = LIST_ITEM.exec(line);
    if (item) {
      const indent = (item[1] ?? '').replace(/\t/g, '    ').length;
      const content = (item[2] ?? '').replace(/^\[[ xX]\]\s+/, '');
      const tagged = leadingTag(content) ?? trailingTag(content);
      if (tagged) {
        raw.push(tagged);
        continue;
      }
      // A list item that is only `**HIGH:**` opens a section for the items nested under it.
      const asHeading = SEVERITY_HEADING.exec(stripDecoration(content));
      if (asHeading) {
        section = { severity: toSeverity(asHeading[1]), itemIndent: null };
        continue;
      }
      if (section && block === null) {
        section.itemIndent ??= indent;
        if (indent <= section.itemIndent) {
          section.itemIndent = indent;
          raw.push({ severity: section.severity, text: content });
        }
        // Deeper items are details of the issue above.
      }
      continue;
    }

    // A paragraph line: it may carry its own tag; otherwise an unindented one ends a severity section.
    const tagged = leadingTag(line.trim());
    if (tagged) {
      raw.push(tagged);
      continue;
    }
    const indent = /^[ \t]*/.exec(line)?.[0].replace(/\t/g, '    ').length ?? 0;
    const continuation = section !== null && section.itemIndent !== null && indent > section.itemIndent;
    if (!continuation && block === null) section = null;
  }
  closeBlock();

  const descriptors = new Set<string>();
  for (const issue of raw) {
    const text = normaliseIssueText(issue.text);
    if (text !== '') descriptors.add(`${issue.severity} ${text}`);
  }
  return [...descriptors].sort(compareDescriptors);
}

const HIGHEST_ON_LINE = new RegExp(HIGHEST_MARKER.source, 'i');

function isMarkerLine(line: string): boolean {
  return HIGHEST_ON_LINE.test(line) || readCountsLine(line) !== null || ZERO_UPPER.test(line) || ZERO_LINE.test(stripDecoration(line));
}

function headingText(line: string): string | null {
  const md = MD_HEADING.exec(line);
  if (md) return trimEndWhile(md[1] ?? '', (c) => c === ' ' || c === '\t' || c === '#');
  const bold = BOLD_LINE.exec(line);
  if (bold && !LIST_ITEM.test(line)) return bold[1] ?? '';
  // A plain short line ending in a colon ("High severity:") introduces what follows.
  if (!LIST_ITEM.test(line) && /^[ \t]*[^\s|].{0,60}:[ \t]*$/.test(line)) return line.trim().replace(/:$/, '');
  return null;
}

/** Drops `1.`, `#3`, `Issue 2:`, `Finding 4 -` in front of a heading's text. */
function stripNumbering(text: string): string {
  return text
    .replace(/^[\s*_`]*(?:\d+[.)]|#\d+)\s*/, '')
    .replace(/^[\s*_`]*(?:issue|finding|problem)\b\s*#?\d*\s*[:.)\-–—]?\s*/i, '')
    .trim();
}

/**
 * A severity tag at the start of a line or item: the word must be marked as a tag by brackets, emphasis,
 * code ticks, a `Severity:` prefix or a separator (`:`, ` - `, ` — `), so prose like `High memory use in…`
 * or `Low-hanging fruit: …` is not read as one.
 */
function leadingTag(content: string): RawIssue | null {
  let s = content.replace(/^[^\w\s[(*_`]{1,4}\s*/u, ''); // an emoji or symbol before the tag
  let marked = false;
  const open = /^(?:\*\*|__|`|\[|\()+/.exec(s);
  if (open) {
    marked = true;
    s = s.slice(open[0].length);
  }
  const prefix = /^severity\s*[:=]\s*/i.exec(s);
  if (prefix) {
    marked = true;
    s = s.slice(prefix[0].length);
  }
  const word = /^(critical|high|medium|low)\b(?:[ \t-]+(?:severity|priority)\b)?/i.exec(s);
  if (!word) return null;
  s = s.slice(word[0].length);
  const close = /^(?:\s*:)?(?:\*\*|__|`|\]|\))*/.exec(s);
  if (close && close[0] !== '') {
    marked ||= /[\]):]/.test(close[0]) || open !== null;
    s = s.slice(close[0].length);
  }
  const separator = /^(?:\s*:\s*|\s+[-–—]\s+|\s*[-–—]\s+)/.exec(s);
  if (separator) {
    marked = true;
    s = s.slice(separator[0].length);
  } else if (s !== '' && !/^\s/.test(s)) {
    return null; // `HIGHlight`, `high-level`: the word runs on
  }
  if (!marked) return null;
  const text = s.replace(/^[\s*_`:\-–—]+/, '');
  return stripDecoration(text) === '' ? null : { severity: toSeverity(word[1]), text };
}

function trailingTag(content: string): RawIssue | null {
  // Only the end of the item can hold the tag; looking at a short window keeps long lines linear.
  const trimmed = content.trimEnd();
  const windowStart = Math.max(0, trimmed.length - 48);
  const m = TRAILING_TAG.exec(trimmed.slice(windowStart));
  if (!m) return null;
  const text = trimmed.slice(0, windowStart + m.index);
  return stripDecoration(text) === '' ? null : { severity: toSeverity(m[1]), text };
}

function tableIssue(line: string, nextLine: string, sectionSeverity: Severity | null): RawIssue | null {
  if (/^[\s|:-]+$/.test(line)) return null; // separator row
  if (/^[ \t]*\|[\s|:-]+$/.test(nextLine) && /-/.test(nextLine)) return null; // header row
  const cells = line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
  let severity: Severity | null = null;
  const rest: string[] = [];
  for (const cell of cells) {
    const cleaned = stripDecoration(cell);
    const sev = new RegExp(`^${SEV}$`, 'i').exec(cleaned);
    if (sev && severity === null) severity = toSeverity(sev[1]);
    else if (!/^[#\d.\s]*$/.test(cleaned)) rest.push(cell);
  }
  severity ??= sectionSeverity;
  return severity && rest.length > 0 ? { severity, text: rest.join(' ') } : null;
}

/** Markdown emphasis, quotes, list/heading punctuation and symbols at the ends removed. */
function stripDecoration(text: string): string {
  const bare = text.replace(/[*_`~]+/g, '').replace(/^[^A-Za-z0-9(]+/, '');
  return trimEndWhile(bare, (c) => !/[A-Za-z0-9).:!?]/.test(c)).trim();
}

/**
 * Drops trailing characters while `drop` holds. A loop, not a `[…]+$` regex: such a regex retries from every
 * position of a long run that is followed by something else, which is quadratic on hostile input.
 */
function trimEndWhile(text: string, drop: (c: string) => boolean): string {
  let end = text.length;
  while (end > 0 && drop(text[end - 1] as string)) end--;
  return text.slice(0, end);
}

function compareDescriptors(a: string, b: string): number {
  const ra = rank(a.split(' ', 1)[0] as Severity);
  const rb = rank(b.split(' ', 1)[0] as Severity);
  if (ra !== rb) return ra - rb;
  return a < b ? -1 : a > b ? 1 : 0;
}

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

/** The issue descriptors of a pattern string (its `- ` lines). */
export function patternIssues(pattern: string): string[] {
  return pattern
    .split('\n')
    .filter((l) => l.startsWith('- '))
    .map((l) => l.slice(2));
}

/**
 * Two attempts' patterns are similar when both are `unparsed` (the reviewer keeps ignoring the output
 * contract), or when both list issues and those lists are similar (see similarIssueSets). Counts and the
 * highest severity are deliberately ignored: equal counts with different issues is progress, and patterns
 * without issue lines can never be shown to repeat, so they never block (the loop then ends by rule 3 or 4).
 */
export function patternsSimilar(a: string, b: string): boolean {
  if (a === UNPARSED_PATTERN || b === UNPARSED_PATTERN) return a === b;
  return similarIssueSets(patternIssues(a), patternIssues(b));
}

// ---------------------------------------------------------------------------------------------------------
// Exit rules.

export type ReviewLoopDecision =
  | { action: 'blocked'; reason: 'repeated-error-pattern' | 'hard-limit' }
  | { action: 'done'; reason: 'zero-issues' | 'non-critical-remaining' }
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
