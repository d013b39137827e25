// Reading a code review's verdict markers: highest severity, counts lines in the shapes real reviewers write, zero and approval statements.
// The accepted shapes are listed in docs/error-pattern.md §1; keep the two in step.
import { MD, SEV, countKey, stripDecoration, toSeverity, totalOf, zeroCounts, type Severity, type SeverityCounts } from './review-text.js';

export interface MarkerReading {
  /** every `HIGHEST SEVERITY: <S>` */
  severityMarkers: Severity[];
  /** every full counts line (`Issues: 0 CRITICAL, 2 HIGH, …`, `Issues Fixed: 4 (3 HIGH, 1 MEDIUM)`), in order */
  countLines: SeverityCounts[];
  /** the counts lines that say what was found (`Issues:`, `Issues Found:`, not `Issues Fixed:` / `Remaining:`), in order */
  foundLines: SeverityCounts[];
  /** per-severity count lines (`#### CRITICAL Issues: 0`, `- HIGH: 1`) merged, or null when there are none */
  severityLines: SeverityCounts | null;
  /** partial statements (`2 MEDIUM issues found`): the largest number stated per severity */
  stated: SeverityCounts;
  /** `ZERO ISSUES`, `Zero issues found`, `Issues Found: NONE`, `No issues found` */
  zeroMarker: boolean;
  /** `APPROVED` (upper case) or `Status: Approved`: a zero verdict only when nothing else was found */
  approval: boolean;
}

const HIGHEST_MARKER = new RegExp(`highest${MD}+severity${MD}*:${MD}*${SEV}\\b`, 'gi');
const HIGHEST_ON_LINE = new RegExp(HIGHEST_MARKER.source, 'i');
// `Issues:`, `Issues Found:`, `Issues Fixed:`, `Findings:`, `8 issues found:`; the label ends at its colon.
const COUNTS_LABEL = /\b(?:issues?|findings?)(?:[\s*_`]+(found|fixed|identified|detected|remaining|total))?[\s*_`]*:/gi;
// A tally of what was fixed or remains is not the review's finding when a found-tally is there too:
// `Issues Found: 8 (2 CRITICAL, 2 HIGH, 3 MEDIUM, 1 LOW)` then `Issues Fixed: 7 (2 CRITICAL, 2 HIGH, 3 MEDIUM)`.
const AFTER_FIXES = /^(?:fixed|remaining)$/i;
// `7 (` or `4 -` before the breakdown: a total, which the pairs repeat.
const TOTAL_PREFIX = /^[\s*_`]*\d+[\s*_`]*(?:total[\s*_`]*)?[(\[:\-–—]/;
const COUNT_PAIR = new RegExp(`^(?:[\\s,;*_\`(\\[/]|and\\b)*(\\d+)[\\s*_\`]*${SEV}\\b`, 'i');
const SEVERITY_BEFORE = new RegExp(`${SEV}(?:[\\s-]+severity)?[\\s*_\`]*$`, 'i');
const NONE_AFTER_LABEL = /^[\s*_`]*(?:none|zero|0)\b(?![\s*_`]*[a-z(])/i;
// A short note after the count (`#### MEDIUM Issues: 2 (fixed)`, `HIGH Issues: 1 - resolved`) still makes a count
// line: read without it, the other severities' `: 0` lines alone would say zero issues.
const SEVERITY_COUNT_LINE = new RegExp(
  `^${SEV}(?:[\\s-]+(?:severity|priority))?(?:[\\s-]+(?:issues?|findings?))?\\s*:\\s*(\\d+|none|zero)(?:\\s*\\([^()]{0,40}\\)|\\s+[-–—]\\s+[^:]{1,40})?\\s*\\.?$`,
  'i',
);
// Count statements: `2 MEDIUM issues found`, `3 HIGH issues identified`, and the change-log form that joins several
// (`Fixed 2 MEDIUM and 2 LOW issues:`, `Fixed 1 HIGH + 1 MEDIUM issues`, `Fixed 3 HIGH issues + 3 LOW issues`). A verb
// before or after is required, and the word `issues`, so `Fix 13 critical/high/medium issues` is no count.
const STATED_PAIR = `\\d+[\\s*_\`]+(?:critical|high|medium|low)(?:[\\s-]+severity)?(?:[\\s*_\`]+(?:issues?|findings?)\\b)?`;
const STATEMENT = new RegExp(
  `(?:\\b(fixed|found|resolved|addressed)[\\s*_\`]+)?(?<![\\w.])(${STATED_PAIR}(?:[\\s*_\`]*(?:,|\\+|&|\\band\\b)[\\s*_\`]*${STATED_PAIR})*)` +
    `(?:[\\s*_\`]+(?:issues?|findings?)\\b)?(?:[\\s*_\`]+(?:were[\\s*_\`]+)?(found|identified|detected|remain(?:ing)?|fixed)\\b)?`,
  'gi',
);
const STATED_PAIR_ONE = new RegExp(`(\\d+)[\\s*_\`]+${SEV}`, 'gi');
// The mandated form is upper case anywhere; `NON-ZERO ISSUES` is not it.
const ZERO_UPPER = /(?<![A-Za-z0-9-])ZERO ISSUES(?![A-Za-z0-9])/;
// Any case, as a statement: "zero issues found", "no issues were found", "found no issues".
const ZERO_STATEMENT = /(?<![A-Za-z-])(?:zero[\s*_`]+issues[\s*_`]+found|no[\s*_`]+issues[\s*_`]+(?:were[\s*_`]+)?found|found[\s*_`]+(?:zero|no)[\s*_`]+issues)\b/i;
// Any case, but only as a whole line, so prose such as "should leave zero issues" is no marker.
const ZERO_LINE = /^(?:result\s*:\s*)?zero\s+issues(?:\s+found)?[.!]?$/i;
const APPROVED_UPPER = /(?<![A-Za-z-])(?<!NOT )APPROVED(?![A-Za-z])/;
const APPROVED_FIELD = /\b(?:status|result|outcome|verdict|decision)[\s*_`]*:[\s*_`]*approved\b/i;

/** Reads every marker of the text's lines. Never throws. */
export function readMarkers(lines: readonly string[]): MarkerReading {
  const reading: MarkerReading = { severityMarkers: [], countLines: [], foundLines: [], severityLines: null, stated: zeroCounts(), zeroMarker: false, approval: false };
  const severitiesStated = new Set<Severity>();
  for (const line of lines) {
    for (const m of line.matchAll(HIGHEST_MARKER)) reading.severityMarkers.push(toSeverity(m[1]));
    const counts = readCountsLine(line);
    if (counts === 'none') reading.zeroMarker = true;
    else if (counts) {
      reading.countLines.push(counts.counts);
      if (!counts.afterFixes) reading.foundLines.push(counts.counts);
    }
    const single = readSeverityCountLine(line);
    if (single) {
      reading.severityLines ??= zeroCounts();
      reading.severityLines[countKey(single.severity)] = single.count;
      severitiesStated.add(single.severity);
    }
    for (const m of line.matchAll(STATEMENT)) {
      if ((m[1] === undefined && m[3] === undefined) || !/\b(?:issues?|findings?)\b/i.test(m[0])) continue;
      for (const p of (m[2] ?? '').matchAll(STATED_PAIR_ONE)) {
        const key = countKey(toSeverity(p[2]));
        reading.stated[key] = Math.max(reading.stated[key], Number.parseInt(p[1] ?? '0', 10) || 0);
      }
    }
    if (!reading.zeroMarker && isZeroStatement(line)) reading.zeroMarker = true;
    if (!reading.approval && (APPROVED_UPPER.test(line) || APPROVED_FIELD.test(line))) reading.approval = true;
  }
  // `Critical issues: none` alone says nothing of the other severities: no verdict from one zero line
  if (reading.severityLines !== null && severitiesStated.size < 2 && totalOf(reading.severityLines) === 0) reading.severityLines = null;
  return reading;
}

/** A line that carries a verdict marker: never read as an issue line. */
export function isMarkerLine(line: string): boolean {
  return HIGHEST_ON_LINE.test(line) || readCountsLine(line) !== null || readSeverityCountLine(line) !== null || isZeroStatement(line);
}

function isZeroStatement(line: string): boolean {
  return ZERO_UPPER.test(line) || ZERO_STATEMENT.test(line) || ZERO_LINE.test(stripDecoration(line));
}

/** The first counts label on the line followed by `<n> <severity>` pairs (or `NONE`); null when none. */
function readCountsLine(line: string): { counts: SeverityCounts; afterFixes: boolean } | 'none' | null {
  let none = false;
  for (const label of line.matchAll(COUNTS_LABEL)) {
    // `Critical issues: none` is about one severity, not the whole review
    if (SEVERITY_BEFORE.test(line.slice(Math.max(0, label.index - 40), label.index))) continue;
    let rest = line.slice(label.index + label[0].length);
    if (NONE_AFTER_LABEL.test(rest)) none = true;
    const total = TOTAL_PREFIX.exec(rest);
    if (total) rest = rest.slice(total[0].length);
    const counts = readCountPairs(rest);
    if (counts) return { counts, afterFixes: AFTER_FIXES.test(label[1] ?? '') };
  }
  return none ? 'none' : null;
}

function readCountPairs(text: string): SeverityCounts | null {
  let rest = text;
  const counts = zeroCounts();
  let pairs = 0;
  for (let p = COUNT_PAIR.exec(rest); p; p = COUNT_PAIR.exec(rest)) {
    const n = Number.parseInt(p[1] ?? '0', 10);
    counts[countKey(toSeverity(p[2]))] += Number.isFinite(n) ? n : 0;
    pairs++;
    rest = rest.slice(p[0].length);
  }
  return pairs > 0 ? counts : null;
}

function readSeverityCountLine(line: string): { severity: Severity; count: number } | null {
  const m = SEVERITY_COUNT_LINE.exec(stripDecoration(line));
  if (!m) return null;
  const n = Number.parseInt(m[2] ?? '', 10);
  return { severity: toSeverity(m[1]), count: Number.isFinite(n) ? n : 0 };
}
