// Reading the issue lines of a code review, in the shapes real reviewers write (tags, severity sections, bold paragraphs, tables).
// The accepted shapes are listed in docs/error-pattern.md §2; keep the two in step.
import { isMarkerLine } from './review-markers.js';
import { normaliseIssueText } from './review-similarity.js';
import { MD, MAX_LINE_CHARS, SEV, rank, stripDecoration, toSeverity, trimEndWhile, type Severity } from './review-text.js';

/** The severity word of an issue listed without one (under an `Issues Found` heading): not rated, so not a verdict. */
export const UNRATED = 'UNRATED';

export interface ListedIssue {
  /** null = listed without a severity */
  severity: Severity | null;
  /** the text as written (markdown and all) */
  text: string;
}

// `(HIGH)`, `[LOW].`, and with a short qualifier inside, in bold: `**Type mismatch (CRITICAL - BLOCKING)**`.
const TRAILING_TAG = new RegExp(
  `(?:\\(|\\[)\\s*(?:severity\\s*[:=]\\s*)?${SEV}(?:\\s+(?:severity|priority))?(?:\\s+[-–—]\\s+[a-z][a-z ]{0,20}|\\s*[,;]\\s*[a-z][a-z ]{0,20})?\\s*(?:\\)|\\])[*_\\s]*[.]?$`,
  'i',
);
const SEVERITY_FIELD = new RegExp(`^(?:[-*+•]\\s+|\\d+[.)]\\s+)?${MD}*(?:severity|priority)${MD}*[:=]${MD}*${SEV}\\b`, 'i');
const FILE_FIELD = /^(?:[-*+•]\s+|\d+[.)]\s+)?[\s*_`]*(?:file|files|location|path|where)[\s*_`]*:[\s*_`]*(.+)$/i;
/**
 * A heading that opens a section of one severity: `## 🔴 CRITICAL ISSUES`, `#### HIGH Issues Fixed:`, `Fixed HIGH severity issues:`,
 * `Issues Accepted (LOW severity):`, `#### MEDIUM Issues (3 total - all fixed)`, `MEDIUM PRIORITY CLARIFICATIONS:` (story reviews).
 */
const SEVERITY_HEADING = new RegExp(
  '^(?:(?:fixed|resolved|remaining|open|accepted|found|documented|other)\\s+)?' +
    '(?:(?:issues?|findings?)\\s+(?:accepted|found|fixed|remaining|deferred)\\s*)?' +
    `\\(?(?:severity\\s*[:=-]?\\s*)?${SEV}(?:[\\s-]+(?:severity|priority))?\\)?` +
    '(?:[\\s-]+(?:issues?|findings?|problems?|concerns?|gaps?|clarifications?))?(?:[\\s-]+(?:fixed|found|resolved|remaining|accepted|identified|deferred))?' +
    '(?:\\s*\\(\\d+(?:\\s+total)?(?:\\s*[-–—,;:]\\s*[^()]{0,40})?\\))?\\s*:?$',
  'i',
);
/** A long paragraph line that ends by announcing issues of one severity: `… and documented HIGH severity issue found:`. */
const SECTION_AT_LINE_END = new RegExp(`\\b${SEV}(?:[\\s-]+severity)?[\\s-]+(?:issues?|findings?)(?:[\\s-]+(?:found|fixed|identified))?[\\s*_\`]*:[\\s*_\`]*$`, 'i');
/** A heading that lists issues without rating them: `Issues Found and Fixed:`, `### Findings`, `Remaining issues (2)`. */
const ISSUES_HEADING = /^(?:[a-z]+\s+){0,2}(?:issues?|findings?|problems?)(?:\s+(?:found|identified|remaining|fixed))?(?:\s+and\s+(?:fixed|resolved))?(?:\s*\(\d+\))?\s*:?$/i;
/** Sections that repeat what was listed (a recommendation, the fixes, a summary): their items are new only when nothing came before. */
const RESTATING_HEADING = /^(?:fix\b|fixes\b|next steps\b|decision\b|conclusion\b|resolution\b)|\b(?:recommendations?|action items?|summary)\b/i;
const NOT_RESTATING = /\bissues?\s+(?:found|fixed)\b|\bfindings\b/i;
/** `- File: …`, `- **Problem:** …`: a detail of the issue above, never an issue. */
const DETAIL_ITEM = /^[\s*_`]*(?:file|files|location|path|where|lines?|problem|impact|fix|fix applied|fixed|fix required|resolution|evidence|observation|severity|priority|status|root cause|tests?|action|recommendation|note|notes)[\s*_`]*:/i;
const LIST_ITEM = /^([ \t]*)(?:>[ \t]*)*(?:[-*+•]|\d+[.)])[ \t]+(.*)$/;
const MD_HEADING = /^[ \t]*(?:>[ \t]*)*#{1,6}[ \t]+(.*)$/;
const BOLD_LINE = /^[ \t]*(?:\*\*|__)((?:(?!\*\*|__).)+)(?:\*\*|__)[ \t]*:?[ \t]*$/;
const BOLD_LEAD = /^[ \t]*(?:\*\*|__)((?:(?!\*\*|__).)+)(?:\*\*|__)[ \t]*(.*)$/;

interface Section {
  /** null: an `Issues` heading without a severity, whose items are unrated */
  severity: Severity | null;
  itemIndent: number | null;
  /** how many issues the heading announced (`(2)`, or one for a singular `issue`), when it said */
  remaining: number | null;
  /** the issues are bold paragraphs: list items are their details */
  boldIssues: boolean;
}

interface Block {
  title: string;
  severity: Severity | null;
  files: string[];
}

/** Finds the issue lines and returns them as written, in order. */
export function listIssues(lines: readonly string[]): ListedIssue[] {
  const found: ListedIssue[] = [];
  let section: Section | null = null;
  let block: Block | null = null;
  let fence: string | null = null;
  let restating = false;

  const add = (issue: ListedIssue): void => {
    if (restating) return;
    if (section !== null && section.remaining !== null) {
      if (section.remaining <= 0) return;
      section.remaining--;
    }
    found.push(issue);
  };
  const closeBlock = () => {
    if (block?.severity) add({ severity: block.severity, text: [block.title, ...block.files].join(' ') });
    block = null;
  };
  const openSection = (severity: Severity | null, heading: string): Section => {
    // `(2)`, `(3 total - all fixed)`: how many the heading announces
    const announced = /\((\d+)(?:\s+total)?(?:\s*[-–—,;:][^()]*)?\)/.exec(heading)?.[1];
    const singular = /\b(?:issue|finding|problem)\b(?!s)/i.test(heading);
    restating = false;
    return { severity, itemIndent: null, remaining: announced !== undefined ? Number(announced) : singular ? 1 : null, boldIssues: false };
  };

  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').slice(0, MAX_LINE_CHARS);
    if (line.trim() === '') continue;

    // Fenced code (diffs, shell, source, a YAML copy of the findings) is never an issue line.
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
      if (row) add(row);
      continue;
    }

    // Under a severity heading, a bold paragraph (`**H1: Missing index**`) is an issue; a bold label ending in `:` is not.
    const currentSection: Section | null = section;
    if (currentSection?.severity && !MD_HEADING.test(line) && !LIST_ITEM.test(line)) {
      const bold = BOLD_LEAD.exec(line);
      if (bold && !/:[\s*_`]*$/.test(line) && SEVERITY_HEADING.exec(stripDecoration(bold[1] ?? '')) === null) {
        const text = `${bold[1] ?? ''} ${bold[2] ?? ''}`.trim();
        add(leadingTag(text) ?? { severity: currentSection.severity, text });
        currentSection.boldIssues = true;
        continue;
      }
    }

    const heading = headingText(line);
    if (heading !== null) {
      closeBlock();
      const cleaned = stripDecoration(heading);
      const sectionSeverity = SEVERITY_HEADING.exec(cleaned);
      if (sectionSeverity) {
        section = openSection(toSeverity(sectionSeverity[1]), cleaned);
        continue;
      }
      if (RESTATING_HEADING.test(cleaned) && !NOT_RESTATING.test(cleaned)) {
        // sticky until a heading that lists issues again: a restatement's own labels (`**File:**`) do not end it
        restating = found.length > 0;
        section = null;
        continue;
      }
      if (MD_HEADING.test(line)) restating = false;
      section = ISSUES_HEADING.test(cleaned) ? openSection(null, cleaned) : null;
      const title = stripNumbering(heading);
      const tagged = leadingTag(title);
      if (tagged) {
        restating = false;
        add(tagged);
      } else block = { title, severity: null, files: [] };
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
        // a tagged item sets the section's item level too: what is nested under it is its detail
        if (section !== null) (section as Section).itemIndent ??= indent;
        add(tagged);
        continue;
      }
      if (DETAIL_ITEM.test(content)) continue;
      // A list item that is only `**HIGH:**` opens a section for the items nested under it.
      const asHeading = SEVERITY_HEADING.exec(stripDecoration(content));
      if (asHeading) {
        section = openSection(toSeverity(asHeading[1]), content);
        continue;
      }
      const inSection: Section | null = section;
      if (inSection && !inSection.boldIssues && (block === null || (block as Block).severity === null)) {
        inSection.itemIndent ??= indent;
        if (indent <= inSection.itemIndent) {
          inSection.itemIndent = indent;
          add({ severity: inSection.severity, text: content });
        }
        // Deeper items are details of the issue above.
      }
      continue;
    }

    // A paragraph line: it may carry its own tag or announce a section; otherwise an unindented one ends a section.
    const tagged = leadingTag(line.trim());
    if (tagged) {
      add(tagged);
      continue;
    }
    const announced = SECTION_AT_LINE_END.exec(line);
    if (announced) {
      closeBlock();
      section = openSection(toSeverity(announced[1]), announced[0]);
      continue;
    }
    const indent = /^[ \t]*/.exec(line)?.[0].replace(/\t/g, '    ').length ?? 0;
    const continuation = section !== null && (section.boldIssues || (section.itemIndent !== null && indent > section.itemIndent));
    if (!continuation && block === null) section = null;
  }
  closeBlock();
  return found;
}

/** The issue lines as normalised descriptors `SEVERITY words…` (UNRATED when listed without one), sorted and deduplicated. */
export function extractIssues(lines: readonly string[]): string[] {
  const descriptors = new Set<string>();
  for (const issue of listIssues(lines)) {
    const text = normaliseIssueText(issue.text);
    if (text !== '') descriptors.add(`${issue.severity ?? UNRATED} ${text}`);
  }
  return sortDescriptors(descriptors);
}

/** Distinct descriptors, CRITICAL first (UNRATED last), then by text. */
export function sortDescriptors(descriptors: Iterable<string>): string[] {
  return [...new Set(descriptors)].sort(compareDescriptors);
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
 * Real reviewers number their findings by the severity's initial (`M1: …`, `**H2: title**`, `- L1 (LOW): …`,
 * `**M1 (MEDIUM)**: …`), often with no severity word anywhere else. Only an upper-case initial with a number,
 * directly followed by a colon or a spaced dash (after closing emphasis), is such a tag: `**H1** (Index…)`, which
 * refers back to a finding, and words like `H1N1` or `AC1:` are not.
 */
const ABBREVIATED_TAG = new RegExp(`^([CHML])\\d{1,2}(?:[ \\t]*\\(${SEV}\\))?(?=(?:\\*\\*|__|\\])*(?:[ \\t]*:|[ \\t]+[-–—][ \\t]))`, 'i');
const INITIALS: Readonly<Record<string, Severity>> = { C: 'CRITICAL', H: 'HIGH', M: 'MEDIUM', L: 'LOW' };

/**
 * A severity tag at the start of a line or item: the word must be marked as a tag by brackets, emphasis,
 * code ticks, a `Severity:` prefix or a separator (`:`, ` - `, ` — `), so prose like `High memory use in…`
 * or `Low-hanging fruit: …` is not read as one. Real reviewers number and label their tags
 * (`CRITICAL-1:`, `HIGH #2:`, `CRITICAL ISSUE #1:`, `Fixed MEDIUM severity issue: …`): those are tags too.
 */
function leadingTag(content: string): ListedIssue | null {
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
  // `Fixed HIGH severity issue: …` / `Fix HIGH severity: …`: only with the separator below
  const verb = /^(?:fixed|fix|resolved|found|documented)\s+(?=(?:critical|high|medium|low)\b)/i.exec(s);
  if (verb) s = s.slice(verb[0].length);
  const word = /^(critical|high|medium|low)\b(?:[ \t-]+(?:severity|priority)\b)?(?:[ \t-]+(?:issues?|findings?|problems?)\b)?(?:[ \t]*#\d+\b|-\d+\b|[ \t]+\d+\b(?=\s*:))?/i.exec(s);
  const abbreviated = word || verb ? null : ABBREVIATED_TAG.exec(s);
  const short = abbreviated?.[1] && /[CHML]/.test(abbreviated[1]) ? abbreviated : null; // `m1:` is no tag (the regex is case-insensitive for the word in parentheses)
  if (!word && !short) return null;
  const severity = word ? toSeverity(word[1]) : short?.[2] ? toSeverity(short[2]) : (INITIALS[short?.[1] ?? ''] ?? 'LOW');
  if (short) marked = true; // the pattern itself requires the separator that marks it
  s = s.slice((word ?? short)?.[0].length ?? 0);
  let colon = false;
  const close = /^(?:\s*:)?(?:\*\*|__|`|\]|\))*/.exec(s);
  if (close && close[0] !== '') {
    colon = close[0].includes(':');
    marked ||= /[\]):]/.test(close[0]) || open !== null;
    s = s.slice(close[0].length);
  }
  const separator = /^(?:\s*:\s*|\s+[-–—]\s+|\s*[-–—]\s+)/.exec(s);
  if (separator) {
    marked = true;
    colon ||= separator[0].includes(':');
    s = s.slice(separator[0].length);
  } else if (s !== '' && !/^\s/.test(s)) {
    return null; // `HIGHlight`, `high-level`: the word runs on
  }
  if (!marked || (verb !== null && !colon)) return null;
  const text = s.replace(/^[\s*_`:\-–—]+/, '');
  return stripDecoration(text) === '' ? null : { severity, text };
}

function trailingTag(content: string): ListedIssue | null {
  // Only the end of the item can hold the tag; looking at a short window keeps long lines linear.
  const trimmed = content.trimEnd();
  const windowStart = Math.max(0, trimmed.length - 48);
  const m = TRAILING_TAG.exec(trimmed.slice(windowStart));
  if (!m) return null;
  const text = trimmed.slice(0, windowStart + m.index);
  return stripDecoration(text) === '' ? null : { severity: toSeverity(m[1]), text };
}

function tableIssue(line: string, nextLine: string, sectionSeverity: Severity | null): ListedIssue | null {
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

function descriptorRank(descriptor: string): number {
  const r = rank(descriptor.split(' ', 1)[0] as Severity);
  return r < 0 ? 4 : r;
}

function compareDescriptors(a: string, b: string): number {
  const ra = descriptorRank(a);
  const rb = descriptorRank(b);
  if (ra !== rb) return ra - rb;
  return a < b ? -1 : a > b ? 1 : 0;
}
