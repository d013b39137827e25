// Step 5: consecutive command errors per story, what resets them, and when they block it.

/** The third consecutive error on one story sets it `blocked`. */
export const MAX_CONSECUTIVE_ERRORS = 3;

/** A story's run of errors, and the command (as logged) whose failure started or continued it. */
export interface ErrorStreak {
  count: number;
  command: string | null;
}

export type ErrorStreaks = Record<string, ErrorStreak>;

export interface FailureRecord {
  /** A new object: every story's streak after this failure. */
  streaks: ErrorStreaks;
  /** Stories that reached the limit with this failure (not those already past it). */
  newlyBlocked: string[];
}

/**
 * A failure counts once for each story of the command (a short id listed twice still counts once).
 */
export function recordFailure(streaks: Readonly<ErrorStreaks>, shortIds: readonly string[], command: string): FailureRecord {
  const next: ErrorStreaks = { ...streaks };
  const newlyBlocked: string[] = [];
  for (const id of new Set(shortIds)) {
    const before = streaks[id]?.count ?? 0;
    const after = before + 1;
    next[id] = { count: after, command };
    if (before < MAX_CONSECUTIVE_ERRORS && after >= MAX_CONSECUTIVE_ERRORS) newlyBlocked.push(id);
  }
  return { streaks: next, newlyBlocked };
}

/**
 * "A success resets it" (spec step 5) is read as: the step that failed has now succeeded. A success of
 * another command does not reset, because each failure restarts the cycle and earlier steps run again:
 * dev-story succeeding before a code-review that fails every time, or story-discovery succeeding beside a
 * create-story that fails every time, would otherwise reset the count for ever and never block the story.
 */
export function recordSuccess(streaks: Readonly<ErrorStreaks>, shortIds: readonly string[], command: string): ErrorStreaks {
  const next: ErrorStreaks = { ...streaks };
  for (const id of new Set(shortIds)) {
    const streak = streaks[id];
    if (streak && streak.command === command) next[id] = { count: 0, command: null };
  }
  return next;
}
