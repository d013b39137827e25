// Markers read from a subagent's whole assistant text: the tech-spec decision (Step 2) and story-review critical issues (Step 2b/3b).

export type TechSpecDecision = 'REQUIRED' | 'SKIP';

export interface TechSpecDecisions {
  /** One entry per short id of the cycle. */
  decisions: Record<string, TechSpecDecision>;
  /** Short ids with no marker of their own (REQUIRED by default; the caller warns). */
  missing: string[];
  /** `tech_spec_needed`: any story REQUIRED. */
  needed: boolean;
}

// Something shaped like a short id (`3a-2`, `5-sr-1`); at most three digits up front so dates are not ids.
const OTHER_STORY_ID = /(?<![A-Za-z0-9-])\d{1,3}[a-z]*(?:-[a-z]+)*-\d+(?![0-9])/i;

const DECISION_MARKER = /\[\s*TECH[-_ ]SPEC[-_ ]DECISION\s*:\s*(REQUIRED|SKIP)\s*\]/gi;

/**
 * Reads the tech-spec decisions, line by line:
 * - a marker on a line that names a short id of the cycle (as a whole token: `3a-1` is not named by `3a-10`,
 *   but is by the long key `3a-1-slug`) belongs to the stories named there;
 * - with several markers on one line, each belongs to the ids between it and the previous marker (ids written
 *   before their markers) or between it and the next marker (ids written after), whichever the line's first
 *   marker shows;
 * - a lone marker (on a line naming no story id at all) belongs to the story of a one-story cycle; any marker
 *   naming no story of the cycle is ignored otherwise;
 * - a story with both markers is REQUIRED; a story with none is REQUIRED and listed in `missing`.
 */
export function parseTechSpecDecisions(assistantText: string, shortIds: readonly string[]): TechSpecDecisions {
  const ids = [...new Set(shortIds)];
  const seen = new Map<string, Set<TechSpecDecision>>();
  const note = (id: string, d: TechSpecDecision) => {
    const set = seen.get(id) ?? new Set<TechSpecDecision>();
    set.add(d);
    seen.set(id, set);
  };

  for (const line of assistantText.split(/\r?\n|\r/)) {
    const markers = [...line.matchAll(DECISION_MARKER)].map((m) => ({
      start: m.index,
      end: m.index + m[0].length,
      decision: (m[1] ?? '').toUpperCase() as TechSpecDecision,
    }));
    if (markers.length === 0) continue;
    const named = ids.flatMap((id) => idPositions(line, id).map((at) => ({ id, at })));

    if (named.length === 0) {
      // Lone = naming no story at all; a marker about some other story is not this one's.
      if (ids.length === 1 && !OTHER_STORY_ID.test(line)) for (const m of markers) note(ids[0] as string, m.decision);
      continue;
    }
    if (markers.length === 1) {
      const only = markers[0] as (typeof markers)[number];
      for (const { id } of named) note(id, only.decision);
      continue;
    }
    const firstMarker = markers[0] as (typeof markers)[number];
    const idsLead = named.some((n) => n.at < firstMarker.start);
    markers.forEach((m, i) => {
      const from = idsLead ? (markers[i - 1]?.end ?? 0) : m.end;
      const to = idsLead ? m.start : (markers[i + 1]?.start ?? line.length);
      for (const n of named) if (n.at >= from && n.at < to) note(n.id, m.decision);
    });
  }

  const decisions: Record<string, TechSpecDecision> = {};
  const missing: string[] = [];
  for (const id of ids) {
    const set = seen.get(id);
    if (set === undefined) missing.push(id);
    decisions[id] = set === undefined || set.has('REQUIRED') ? 'REQUIRED' : 'SKIP';
  }
  return { decisions, missing, needed: ids.some((id) => decisions[id] === 'REQUIRED') };
}

/**
 * Where a short id is named as a whole token (case-insensitive): not preceded by a letter or digit and not
 * followed by one, so `3a-1` is found in `3a-1:`, `**3a-1**`, `3a-1-slug.md`, but not in `3a-10` or `13a-1`.
 */
export function idPositions(line: string, shortId: string): number[] {
  if (shortId === '') return [];
  const haystack = line.toLowerCase();
  const needle = shortId.toLowerCase();
  const found: number[] = [];
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) {
    const before = at === 0 ? '' : (haystack[at - 1] ?? '');
    const after = haystack[at + needle.length] ?? '';
    if (!/[a-z0-9]/.test(before) && !/[a-z0-9]/.test(after)) found.push(at);
  }
  return found;
}

export interface CriticalIssues {
  critical: boolean;
  /** The largest `<n>` reported (0 when none or only the NO marker). */
  count: number;
  /** False when neither marker form is in the text: that counts as critical (the caller warns). */
  markerFound: boolean;
}

/**
 * `CRITICAL ISSUES FOUND: <n>` with any n > 0 is critical; `NO CRITICAL ISSUES FOUND` or only zeros is not;
 * no marker at all is critical. Case-insensitive; markdown emphasis around the colon or number is tolerated.
 */
export function parseCriticalIssues(text: string): CriticalIssues {
  let count = 0;
  let markerFound = false;
  for (const m of text.matchAll(/critical[\s*_`]+issues[\s*_`]+found[\s*_`]*:[\s*_`]*(\d+)/gi)) {
    markerFound = true;
    const n = Number.parseInt(m[1] ?? '0', 10);
    if (n > count) count = n;
  }
  if (/\bno[\s*_`]+critical[\s*_`]+issues[\s*_`]+found\b/i.test(text)) markerFound = true;
  return { critical: !markerFound || count > 0, count, markerFound };
}
