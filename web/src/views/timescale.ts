// The timeline's time axis: busy spans at a linear scale, and every gap longer than GAP_MS drawn as a fixed GAP_PX
// slot marked `···`, so days of history with a few hours of work fit on one screen. Pure: tested through the view.

/** a quiet stretch longer than this is compacted */
export const GAP_MS = 10 * 60_000;
/** the width of a compacted gap */
export const GAP_PX = 28;

export interface Segment {
  from: number;
  to: number;
  /** pixel where `from` lands (before the left padding) */
  x: number;
}

export interface Gap {
  from: number;
  to: number;
  x: number;
}

export interface TimeScale {
  segments: Segment[];
  gaps: Gap[];
  /** pixels per ms inside a segment */
  px: number;
  /** pixel width of the whole range */
  width: number;
  xOf(t: number): number;
  tOf(x: number): number;
}

/** Merges the [start, end] spans into busy segments separated by the gaps longer than GAP_MS. */
export function busySpans(spans: readonly (readonly [number, number])[]): [number, number][] {
  const sorted = spans.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b)).map(([a, b]) => [a, Math.max(a, b)] as [number, number]).sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a - last[1] <= GAP_MS) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** The busy time (sum of segment lengths) and the number of compacted gaps of these spans. */
export function extent(busy: readonly [number, number][]): { busyMs: number; gaps: number } {
  return { busyMs: busy.reduce((sum, [a, b]) => sum + (b - a), 0), gaps: Math.max(0, busy.length - 1) };
}

/** The scale for these busy spans at `px` pixels per ms. */
export function timeScale(busy: readonly [number, number][], px: number): TimeScale {
  const segments: Segment[] = [];
  const gaps: Gap[] = [];
  let x = 0;
  busy.forEach(([from, to], i) => {
    if (i > 0) {
      gaps.push({ from: busy[i - 1]![1], to: from, x });
      x += GAP_PX;
    }
    segments.push({ from, to, x });
    x += (to - from) * px;
  });
  const width = x;
  const xOf = (t: number): number => {
    if (!segments.length) return 0;
    if (t <= segments[0]!.from) return segments[0]!.x + (t - segments[0]!.from) * px;
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i]!;
      if (t <= s.to) return s.x + (t - s.from) * px;
      const next = segments[i + 1];
      if (next && t < next.from) return s.x + (s.to - s.from) * px + ((t - s.to) / (next.from - s.to)) * GAP_PX;
    }
    const last = segments[segments.length - 1]!;
    return last.x + (t - last.from) * px;
  };
  const tOf = (xp: number): number => {
    if (!segments.length) return 0;
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i]!;
      const end = s.x + (s.to - s.from) * px;
      if (xp <= end || i === segments.length - 1) return s.from + (xp - s.x) / px;
      const next = segments[i + 1]!;
      if (xp < next.x) return s.to + ((xp - end) / GAP_PX) * (next.from - s.to);
    }
    return segments[0]!.from;
  };
  return { segments, gaps, px, width, xOf, tOf };
}
