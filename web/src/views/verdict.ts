// Beside each review attempt on the dashboard: its verdict (structured or text; highest, counts, issue titles) and the
// loop's decision, from GET /api/verdicts and the live `review:verdict` / `review:decision` events.
import { getJson } from '../api.js';
import { h, setAttr, setText } from '../dom.js';
import type { Store } from '../store.js';

/*
 * What this view reads of the `review:verdict` / `review:decision` payloads (machines/rules/review-verdict.ts is the
 * full shape; importing it would pull the node-side machine types into the browser bundle's type check).
 */
type Counts = { critical: number; high: number; medium: number; low: number };
type ReviewVerdictPayload =
  | {
      kind: 'code-review';
      source: 'structured' | 'text';
      basis: string;
      highest: string | null;
      counts: Counts | null;
      zeroIssues: boolean;
      issues: { severity: string | null; title: string; file: string | null }[];
      disagreement: string | null;
    }
  | { kind: 'story-review' | 'tech-spec-review'; source: 'structured' | 'text'; critical: boolean; markerFound: boolean; perStory: Record<string, number>; disagreement: string | null };
type ReviewDecisionPayload = { action: 'done' | 'blocked' | 'retry'; reason: string; message: string };

interface VerdictRow {
  id: number;
  type: 'review:verdict' | 'review:decision';
  payload: unknown;
}

interface RunVerdict {
  verdict: ReviewVerdictPayload | null;
  decision: ReviewDecisionPayload | null;
}

/** review run id -> its verdict and decision; a rerun of the same N replaces them */
const byRun = new Map<string, RunVerdict>();
const MAX_TITLES = 5;

function note(type: string, payload: unknown): string | null {
  const runId = (payload as { runId?: unknown } | null)?.runId;
  if (typeof runId !== 'string') return null;
  const entry = byRun.get(runId) ?? { verdict: null, decision: null };
  if (type === 'review:verdict') entry.verdict = payload as ReviewVerdictPayload;
  else if (type === 'review:decision') entry.decision = payload as ReviewDecisionPayload;
  else return null;
  byRun.set(runId, entry);
  return runId;
}

/** One line for the verdict, one for the decision; empty when the run is no review. */
export function verdictLines(runId: string): { verdict: string; issues: string[]; decision: string; disagreement: string | null } | null {
  const entry = byRun.get(runId);
  if (!entry?.verdict && !entry?.decision) return null;
  const v = entry.verdict;
  let verdict = '';
  let issues: string[] = [];
  if (v?.kind === 'code-review') {
    const counts = v.counts ? ` · ${v.counts.critical} critical, ${v.counts.high} high, ${v.counts.medium} medium, ${v.counts.low} low` : '';
    const what = v.zeroIssues ? 'zero issues' : v.basis === 'none' ? 'no verdict in the text (unparsed)' : `highest ${v.highest ?? 'none'}`;
    verdict = `verdict (${v.source}): ${what}${counts}`;
    issues = v.issues.slice(0, MAX_TITLES).map((i) => `${i.severity ?? 'unrated'}: ${i.title}${i.file ? ` (${i.file})` : ''}`);
    if (v.issues.length > MAX_TITLES) issues.push(`… and ${v.issues.length - MAX_TITLES} more`);
  } else if (v) {
    const per = Object.entries(v.perStory).map(([story, n]) => `${story}: ${n}`).join(', ');
    verdict = `verdict (${v.source}): ${v.critical ? 'critical issues' : 'no critical issues'}${per ? ` · ${per}` : ''}${v.markerFound ? '' : ' · no marker, treated as critical'}`;
  }
  return { verdict, issues, decision: entry.decision?.message ?? '', disagreement: v?.disagreement ?? null };
}

/** Fills (or hides) the verdict block of one command row; Activity calls it for every row it updates. */
export function showVerdict(row: HTMLElement, runId: string): void {
  setAttr(row, 'data-run', runId);
  let block = row.querySelector<HTMLElement>(':scope > .activity-verdict');
  const lines = verdictLines(runId);
  if (!lines) {
    if (block) block.hidden = true;
    return;
  }
  if (!block) {
    block = h('div', { class: 'activity-verdict', 'data-testid': 'review-verdict' });
    row.insertBefore(block, row.querySelector(':scope > .activity-tasks'));
  }
  // Activity keeps an empty slot in each command row (its place among the row's children is fixed)
  if (block.children.length === 0) {
    block.append(h('div', { class: 'verdict-line' }), h('ul', { class: 'verdict-issues' }), h('div', { class: 'verdict-disagreement' }), h('div', { class: 'verdict-decision' }));
  }
  block.hidden = false;
  const [line, list, disagreement, decision] = Array.from(block.children) as HTMLElement[];
  setText(line!, lines.verdict);
  list!.replaceChildren(...lines.issues.map((t) => h('li', {}, t)));
  setText(disagreement!, lines.disagreement ? `structured and text disagree: ${lines.disagreement}` : '');
  disagreement!.hidden = !lines.disagreement;
  setText(decision!, lines.decision);
  decision!.hidden = !lines.decision;
  setAttr(block, 'data-action', byRun.get(runId)?.decision?.action ?? null);
}

/** Loads the stored verdicts and follows the live ones; rows already shown are patched in place. */
export function trackVerdicts(store: Store, root: HTMLElement): void {
  const patch = (runId: string) => {
    for (const row of root.querySelectorAll<HTMLElement>(`[data-run="${CSS.escape(runId)}"]`)) showVerdict(row, runId);
  };
  store.on('event', (event) => {
    const runId = note(event.type, event.payload);
    if (runId) patch(runId);
  });
  void getJson<VerdictRow[]>('/api/verdicts')
    .then((rows) => {
      const runs = new Set<string>();
      for (const row of rows) {
        const runId = note(row.type, row.payload);
        if (runId) runs.add(runId);
      }
      for (const runId of runs) patch(runId);
    })
    .catch(() => undefined); // an older server without the route: the rows simply show no verdict
}
