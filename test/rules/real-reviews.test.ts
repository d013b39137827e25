// The text reader against the real review reports of ../shared/real-world/reviews: what it reads must agree with labels.json.
// The texts are read where CI puts them (beside the clone), never copied into the project.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCodeReview, type Severity, type SeverityCounts } from '../../machines/rules/code-review.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const REVIEWS = path.resolve(repoRoot, '..', 'shared', 'real-world', 'reviews');

interface Label {
  file: string;
  human: { highest: Severity | null; zeroIssues: boolean; counts: SeverityCounts; issuesListed: number };
}

interface Agreement {
  file: string;
  markers: boolean;
  issues: boolean;
  read: string;
  human: string;
}

/** Reads one text and compares it with its label: markers = highest, zero and the four counts; issues = how many are listed. */
export function compareWithLabel(text: string, label: Label): Agreement {
  const r = parseCodeReview(text);
  const counts = r.counts ?? { critical: 0, high: 0, medium: 0, low: 0 };
  const h = label.human;
  const markers =
    r.highest === h.highest &&
    r.zeroIssues === h.zeroIssues &&
    counts.critical === h.counts.critical &&
    counts.high === h.counts.high &&
    counts.medium === h.counts.medium &&
    counts.low === h.counts.low;
  const show = (highest: Severity | null, zero: boolean, c: SeverityCounts, n: number) =>
    `${zero ? 'zero' : (highest ?? 'none')} ${c.critical}/${c.high}/${c.medium}/${c.low} listed ${n}`;
  return {
    file: label.file,
    markers,
    issues: r.issues.length === h.issuesListed,
    read: show(r.highest, r.zeroIssues, counts, r.issues.length),
    human: show(h.highest, h.zeroIssues, h.counts, h.issuesListed),
  };
}

describe('real review reports (../shared/real-world/reviews)', () => {
  it('the reader agrees with a careful human: markers for every text, the issue count for nearly all', () => {
    // CI has ../shared beside the clone; without it this test cannot say anything, so it fails rather than pass empty
    expect(existsSync(path.join(REVIEWS, 'labels.json')), `${REVIEWS}/labels.json is missing`).toBe(true);
    const labels = JSON.parse(readFileSync(path.join(REVIEWS, 'labels.json'), 'utf8')) as Label[];
    const texts = readdirSync(REVIEWS).filter((f) => f.endsWith('.txt'));
    // every text has its label, so a text added later is not silently left out
    expect(texts.sort()).toEqual(labels.map((l) => l.file).sort());

    const rows = labels.map((label) => compareWithLabel(readFileSync(path.join(REVIEWS, label.file), 'utf8'), label));
    const markersRight = rows.filter((r) => r.markers).length;
    const issuesRight = rows.filter((r) => r.issues).length;
    console.info(
      `[real reviews] markers right ${markersRight}/${rows.length}, issue counts right ${issuesRight}/${rows.length}\n` +
        rows.filter((r) => !r.markers || !r.issues).map((r) => `  ${r.file}: read ${r.read}; human ${r.human}`).join('\n'),
    );
    expect(rows.filter((r) => !r.markers).map((r) => `${r.file}: read ${r.read}; human ${r.human}`)).toEqual([]);
    expect(issuesRight).toBeGreaterThanOrEqual(Math.ceil(rows.length * 0.9));
  });
});
