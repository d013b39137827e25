// Shared vocabulary of the review readers: severities, counts, and the markdown clean-up every reader uses.

export type Severity = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW';

/** Most severe first; the index is the rank. */
export const SEVERITIES: readonly Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'];

export interface SeverityCounts {
  critical: number;
  high: number;
  medium: number;
  low: number;
}

/** The severity words as a regex group (any case). */
export const SEV = '(critical|high|medium|low)';
/** Markdown emphasis, code ticks and quotes tolerated around marker parts. */
export const MD = '[\\s*_`"\']';

/** Lines longer than this are cut before reading: issue and marker lines are short, hostile input is not. */
export const MAX_LINE_CHARS = 2000;

export function toSeverity(word: string | undefined): Severity {
  return (word ?? 'LOW').toUpperCase() as Severity;
}

export function rank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export function countKey(s: Severity): keyof SeverityCounts {
  return s.toLowerCase() as keyof SeverityCounts;
}

export function zeroCounts(): SeverityCounts {
  return { critical: 0, high: 0, medium: 0, low: 0 };
}

export function totalOf(c: SeverityCounts): number {
  return c.critical + c.high + c.medium + c.low;
}

export function nonZeroSeverities(c: SeverityCounts): Severity[] {
  return SEVERITIES.filter((s) => c[countKey(s)] > 0);
}

/** The most severe of a list, or null for an empty one. */
export function mostSevere(list: readonly Severity[]): Severity | null {
  return list.reduce<Severity | null>((best, s) => (best === null || rank(s) < rank(best) ? s : best), null);
}

/** Markdown emphasis, quotes, list/heading punctuation and symbols at the ends removed. */
export function stripDecoration(text: string): string {
  const bare = text.replace(/[*_`~]+/g, '').replace(/^[^A-Za-z0-9(]+/, '');
  return trimEndWhile(bare, (c) => !/[A-Za-z0-9).:!?]/.test(c)).trim();
}

/**
 * Drops trailing characters while `drop` holds. A loop, not a `[…]+$` regex: such a regex retries from every
 * position of a long run that is followed by something else, which is quadratic on hostile input.
 */
export function trimEndWhile(text: string, drop: (c: string) => boolean): string {
  let end = text.length;
  while (end > 0 && drop(text[end - 1] as string)) end--;
  return text.slice(0, end);
}

export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/).map((l) => l.slice(0, MAX_LINE_CHARS));
}
