// sprint-status.yaml: reading it (spec §2), changing one story's status in place, and the template for a missing file.
import { isAlias, isMap, isScalar, parseDocument, stringify, type Document, type YAMLMap } from 'yaml';
import { parseStoryKey, type StoryKeyInfo } from './story-keys.js';

export type StoryStatus = 'backlog' | 'ready-for-dev' | 'in-progress' | 'review' | 'done' | 'blocked';

export interface StoryEntry extends StoryKeyInfo {
  /** The value as written (`''` for an empty value, `String(value)` for a non-string one). */
  rawStatus: string;
  /** Null = unexpected: the story is passed over with an error event, the file is not changed. */
  status: StoryStatus | null;
  /**
   * Set when the key has no `-<number>` segment: epicId is then `''`, storyNumber 0 and shortId the key,
   * and status is always null, so the story is reported and passed over rather than run.
   */
  invalidKey?: true;
}

export interface EpicEntry {
  /** `epic-2a` */
  key: string;
  /** `2a` */
  epicId: string;
  /** As written; epics are informational, their status decides nothing. */
  status: string;
}

export interface SprintStatus {
  epics: EpicEntry[];
  /** In file order; selection sorts them. */
  stories: StoryEntry[];
  project: string | null;
}

export interface SprintStatusError {
  file: string;
  /** 1-based */
  line: number;
  /** 1-based */
  column: number;
  reason: string;
}

export type ParseSprintStatusResult = { ok: true; status: SprintStatus } | { ok: false; error: SprintStatusError };

const STORY_STATUSES: ReadonlyMap<string, StoryStatus> = new Map<string, StoryStatus>([
  ['backlog', 'backlog'],
  ['ready-for-dev', 'ready-for-dev'],
  ['in-progress', 'in-progress'],
  ['review', 'review'],
  ['done', 'done'],
  ['blocked', 'blocked'],
  // Legacy alias. `contexted` is an epic status only, so on a story it is unexpected.
  ['drafted', 'ready-for-dev'],
]);

const RETROSPECTIVE_KEY = /^epic-.+-retrospective$/;
const EPIC_KEY = /^epic-(.+)$/;

/** Maps a story's value to its status; null = unexpected. Exported for callers that read single values. */
export function storyStatusOf(value: unknown): StoryStatus | null {
  return typeof value === 'string' ? (STORY_STATUSES.get(value) ?? null) : null;
}

/** Parses the file text; never throws. `file` only labels errors. */
export function parseSprintStatus(text: string, file: string): ParseSprintStatusResult {
  try {
    return parseUnsafe(text, file);
  } catch (cause) {
    // The yaml library is not expected to throw on any input, but a broken batch is worse than a clear error.
    const reason = cause instanceof Error ? cause.message : String(cause);
    return { ok: false, error: { file, line: 1, column: 1, reason: `cannot read the file: ${reason}` } };
  }
}

function parseUnsafe(text: string, file: string): ParseSprintStatusResult {
  const located = loadStatusMap(text);
  if (!located.ok) return { ok: false, error: { file, ...located.error } };
  const { doc, map } = located;

  const pairs: Array<{ key: string; value: unknown }> = [];
  for (const pair of map?.items ?? []) {
    // An alias (`*x`) stands for the node it names; a cyclic or dangling one resolves to undefined.
    const node = isAlias(pair.value) ? pair.value.resolve(doc) : pair.value;
    pairs.push({ key: scalarText(pair.key), value: isScalar(node) ? node.value : node });
  }

  const epics: EpicEntry[] = [];
  for (const { key, value } of pairs) {
    if (RETROSPECTIVE_KEY.test(key)) continue;
    const epic = EPIC_KEY.exec(key);
    if (epic) epics.push({ key, epicId: epic[1] ?? '', status: valueText(value) });
  }
  const declared = epics.map((e) => e.epicId);

  const stories: StoryEntry[] = [];
  for (const { key, value } of pairs) {
    if (RETROSPECTIVE_KEY.test(key) || EPIC_KEY.test(key)) continue;
    const rawStatus = valueText(value);
    const info = parseStoryKey(key, declared);
    if (info === null) {
      stories.push({ key, epicId: '', storyNumber: 0, shortId: key, rawStatus, status: null, invalidKey: true });
    } else {
      stories.push({ ...info, rawStatus, status: storyStatusOf(value) });
    }
  }

  const projectNode = doc.get('project', true);
  const project = isScalar(projectNode) && projectNode.value !== null ? String(projectNode.value) : null;
  return { ok: true, status: { epics, stories, project } };
}

type Located =
  | { ok: true; doc: Document.Parsed; map: YAMLMap<unknown, unknown> | null }
  | { ok: false; error: Omit<SprintStatusError, 'file'> };

/**
 * Parses the text and finds `development_status`. An empty value (only comments below the key, as the
 * BMAD template leaves it) is an empty mapping; a missing key or any other kind of value is an error.
 */
function loadStatusMap(text: string): Located {
  const doc = parseDocument(text);
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0] ?? lineColumnOf(text, first.pos[0]);
    return { ok: false, error: { line: pos.line, column: pos.col, reason: firstLineOf(first.message) } };
  }
  if (!isMap(doc.contents)) {
    const at = lineColumnOf(text, doc.contents?.range?.[0] ?? 0);
    return {
      ok: false,
      error: { line: at.line, column: at.col, reason: 'the file is not a YAML mapping: no development_status mapping' },
    };
  }
  const pair = doc.contents.items.find((p) => scalarText(p.key) === 'development_status') ?? null;
  if (pair === null) {
    return { ok: false, error: { line: 1, column: 1, reason: 'no development_status mapping in the file' } };
  }
  if (isMap(pair.value)) return { ok: true, doc, map: pair.value };
  if (pair.value === null || (isScalar(pair.value) && pair.value.value === null)) return { ok: true, doc, map: null };
  const valueNode = pair.value as { range?: [number, number, number] | null };
  const at = lineColumnOf(text, valueNode.range?.[0] ?? 0);
  return { ok: false, error: { line: at.line, column: at.col, reason: 'development_status is not a mapping' } };
}

function scalarText(node: unknown): string {
  if (isScalar(node)) return node.value === null ? '' : String(node.value);
  return String(node);
}

function valueText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  // A nested collection: show it as YAML so the error event names what is there.
  try {
    return stringify(value, { lineWidth: 0 }).trim();
  } catch {
    return String(value);
  }
}

/** yaml's messages repeat the position and a source excerpt after the first line; the reason is the first line. */
function firstLineOf(message: string): string {
  const line = message.split('\n', 1)[0] ?? message;
  return line.replace(/ at line \d+, column \d+:?$/, '');
}

function lineColumnOf(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(offset, 0), text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: end - lineStart + 1 };
}

/**
 * Returns the text with the one story's value replaced by `status`; every other byte is unchanged
 * (comments, key order, line endings, the quoting style of that value, a trailing comment on its line).
 * Throws when the text cannot be parsed or the story key is absent.
 */
export function setStoryStatus(text: string, key: string, status: 'done' | 'blocked'): string {
  const located = loadStatusMap(text);
  if (!located.ok) {
    throw new Error(
      `cannot set ${key} to ${status}: sprint-status is unreadable at line ${located.error.line}, column ${located.error.column}: ${located.error.reason}`,
    );
  }
  const pair = located.map?.items.find((p) => scalarText(p.key) === key);
  if (pair === undefined) throw new Error(`cannot set ${key} to ${status}: story ${key} is not in development_status`);

  const value = pair.value;
  const range = (value as { range?: [number, number, number] | null } | null)?.range ?? null;
  if (value === null || range === null || range[0] === range[1]) {
    // `key:` or `key: # comment`: write ` done` right after the colon, so a comment keeps its separating space.
    const keyEnd = (pair.key as { range?: [number, number, number] | null } | null)?.range?.[1];
    const colon = keyEnd === undefined ? -1 : findColon(text, keyEnd);
    if (colon < 0) throw new Error(`cannot set ${key} to ${status}: cannot locate its value`);
    return `${text.slice(0, colon + 1)} ${status}${text.slice(colon + 1)}`;
  }

  const [start, end] = range;
  const old = text.slice(start, end);
  let replacement: string;
  if (isScalar(value) && value.type === 'QUOTE_DOUBLE') replacement = `"${status}"`;
  else if (isScalar(value) && value.type === 'QUOTE_SINGLE') replacement = `'${status}'`;
  // A block scalar's (or nested block's) source runs to the end of its last line; keep that line break.
  else replacement = status + (/(\r?\n)+$/.exec(old)?.[0] ?? '');
  return text.slice(0, start) + replacement + text.slice(end);
}

/** The offset of the `:` after a key's source (only blanks may come between); -1 when there is none. */
function findColon(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === ':') return i;
    if (c !== ' ' && c !== '\t') return -1;
  }
  return -1;
}

export interface SprintStatusTemplateOptions {
  project: string;
  projectKey: string;
  storyLocation: string;
  /** Written as given (an ISO date or timestamp). */
  generated: string;
}

/** The file written when sprint-status.yaml is missing: valid, with no stories, telling the reader what to run. */
export function sprintStatusTemplate(opts: SprintStatusTemplateOptions): string {
  return [
    '# Sprint status: written by sprint-runner because this file was missing.',
    '# Run sprint planning first (/bmad:bmm:workflows:sprint-planning): it lists the epics and',
    '# stories under development_status. Until it has run, every batch ends with an error.',
    '#',
    '# Story statuses: backlog | ready-for-dev | in-progress | review | done | blocked',
    '# Epic statuses: backlog | in-progress | done',
    '',
    `generated: ${yamlScalar(opts.generated)}`,
    `project: ${yamlScalar(opts.project)}`,
    `project_key: ${yamlScalar(opts.projectKey)}`,
    'tracking_system: file-system',
    `story_location: ${yamlScalar(opts.storyLocation)}`,
    '',
    'development_status:',
    '  # Filled in by sprint planning: epic-<id>, then its stories <id>-<n>-<slug>, in order.',
    '',
  ].join('\n');
}

/** One scalar as YAML on one line, quoted only when a plain scalar would be read differently. */
function yamlScalar(value: string): string {
  return stringify(value, { lineWidth: 0 }).replace(/\n$/, '');
}
