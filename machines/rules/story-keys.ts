// Story keys of sprint-status.yaml: epic id, story number and short id (spec §2), and their natural order.

export interface StoryKeyInfo {
  /** The long key as written in the file, e.g. `2a-1-session-scanner`; kept for display. */
  key: string;
  /** `2a`, `5-sr`, `10`. */
  epicId: string;
  storyNumber: number;
  /** `<epic id>-<number>` as written in the key (`2a-1`, `5-sr-1`): what prompts, logs and the dashboard use. */
  shortId: string;
}

const DIGITS = /^\d+$/;

/**
 * Reads a story key. The epic id is the longest declared epic id `E` such that the key starts with
 * `E-<number>` (the number being a whole `-`-separated segment, so `2a-10-x` never matches through `2a-1`);
 * with no declared match it is the part before the first `-<number>` segment. Null when the key has no
 * `-<number>` segment at all (or nothing before it).
 */
export function parseStoryKey(key: string, declaredEpicIds: readonly string[]): StoryKeyInfo | null {
  let best: { epicId: string; digits: string } | null = null;
  for (const epicId of declaredEpicIds) {
    if (epicId === '' || !key.startsWith(`${epicId}-`)) continue;
    const rest = key.slice(epicId.length + 1);
    const digits = rest.split('-', 1)[0] ?? '';
    if (!DIGITS.test(digits)) continue;
    if (best === null || epicId.length > best.epicId.length) best = { epicId, digits };
  }
  if (best !== null) return build(key, best.epicId, best.digits);

  const segments = key.split('-');
  // Index 0 is never a story number: a key starts with its epic id.
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i] ?? '';
    if (!DIGITS.test(segment)) continue;
    const epicId = segments.slice(0, i).join('-');
    return epicId === '' ? null : build(key, epicId, segment);
  }
  return null;
}

function build(key: string, epicId: string, digits: string): StoryKeyInfo {
  return { key, epicId, storyNumber: Number.parseInt(digits, 10), shortId: `${epicId}-${digits}` };
}

/**
 * Natural order of epic ids (spec §2): the leading integer first (1 < 2 < 10), then the suffix compared by
 * character code, so an empty suffix comes first and `-` (45) comes before digits and letters:
 * `5 < 5-sr < 5a < 5b < 6`. That is the order real projects write their sprint-status in and the order
 * of the project's previous orchestrator. Ids without a leading integer come after all numbered ones,
 * by character code. Only equal ids compare 0.
 */
export function compareEpicIds(a: string, b: string): number {
  if (a === b) return 0;
  const ma = /^(\d+)(.*)$/s.exec(a);
  const mb = /^(\d+)(.*)$/s.exec(b);
  if (ma && !mb) return -1;
  if (!ma && mb) return 1;
  if (ma && mb) {
    const byNumber = compareDigitRuns(ma[1] ?? '', mb[1] ?? '');
    if (byNumber !== 0) return byNumber;
    const bySuffix = compareCodes(ma[2] ?? '', mb[2] ?? '');
    if (bySuffix !== 0) return bySuffix;
  }
  // `05` and `5`: equal by value, told apart by their text so the order stays total
  return compareCodes(a, b);
}

/** Epic, then story number, then the long key (only equal keys compare 0). */
export function compareStories(a: StoryKeyInfo, b: StoryKeyInfo): number {
  const byEpic = compareEpicIds(a.epicId, b.epicId);
  if (byEpic !== 0) return byEpic;
  if (a.storyNumber !== b.storyNumber) return a.storyNumber < b.storyNumber ? -1 : 1;
  if (a.key === b.key) return 0;
  return a.key < b.key ? -1 : 1;
}

/** Compares digit strings by value without overflowing (`007` equals `7`). */
function compareDigitRuns(a: string, b: string): number {
  const ta = a.replace(/^0+(?=\d)/, '');
  const tb = b.replace(/^0+(?=\d)/, '');
  if (ta.length !== tb.length) return ta.length < tb.length ? -1 : 1;
  return ta === tb ? 0 : ta < tb ? -1 : 1;
}

/** By UTF-16 code unit, a prefix first: plain `<` on strings, as a comparator. */
function compareCodes(a: string, b: string): number {
  return a === b ? 0 : a < b ? -1 : 1;
}
