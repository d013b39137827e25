// Step 5: consecutive command errors per story, and when they block it.

/** The third consecutive error on one story sets it `blocked`. */
export const MAX_CONSECUTIVE_ERRORS = 3;

export interface CommandResultRecord {
  /** A new object: every story's consecutive error count after this result. */
  counters: Record<string, number>;
  /** Stories that reached the limit with this result (not those already past it). */
  newlyBlocked: string[];
}

/**
 * Records one main-flow command's outcome for the stories it ran on. A failure counts once for each of them
 * (a short id listed twice still counts once); a success resets them to 0. Other stories are untouched.
 */
export function recordCommandResult(
  counters: Readonly<Record<string, number>>,
  shortIds: readonly string[],
  ok: boolean,
): CommandResultRecord {
  const next: Record<string, number> = { ...counters };
  const newlyBlocked: string[] = [];
  for (const id of new Set(shortIds)) {
    const before = counters[id] ?? 0;
    if (ok) {
      next[id] = 0;
      continue;
    }
    const after = before + 1;
    next[id] = after;
    if (before < MAX_CONSECUTIVE_ERRORS && after >= MAX_CONSECUTIVE_ERRORS) newlyBlocked.push(id);
  }
  return { counters: next, newlyBlocked };
}
