// Which file in the implementation artifacts is a story's own file: the name is not always `<short id>-<slug>.md`.
import type { StoryKeyInfo } from '../rules/story-keys.js';

/*
 * Real projects name story files in several ways: `2a-1-session-scanner.md` (the long key, BMAD's
 * create-story default), `2a-1-<another slug>.md`, `story-5-sr-1.md` (the short id after `story-`), and
 * sometimes `story-<long key>.md`. The same folder holds `<short id>-discovery-story.md` and tech-spec
 * files, which are not the story. Names are compared case-insensitively (macOS folders are).
 */

/** Not a story file, whatever its name starts with. */
const NOT_A_STORY = /discovery|tech-spec/i;

/**
 * The story's file among `files` (names in one folder), or null. Preference: the exact long key, then
 * `story-<long key>`, then `story-<short id>`, then `<short id>-<slug>` (the first in name order), so a
 * folder holding several candidates always gives the same answer.
 */
export function storyFileFor(files: readonly string[], story: Pick<StoryKeyInfo, 'key' | 'shortId'>): string | null {
  const byLower = new Map<string, string>();
  for (const file of [...files].sort()) {
    const lower = file.toLowerCase();
    if (!lower.endsWith('.md') || NOT_A_STORY.test(lower)) continue;
    if (!byLower.has(lower)) byLower.set(lower, file);
  }
  const key = story.key.toLowerCase();
  const short = story.shortId.toLowerCase();
  for (const exact of [`${key}.md`, `story-${key}.md`, `story-${short}.md`]) {
    const found = byLower.get(exact);
    if (found !== undefined) return found;
  }
  // `<short id>-<slug>.md`; the `-` keeps `2a-1` from taking `2a-10-x.md`
  for (const [lower, file] of byLower) if (lower.startsWith(`${short}-`)) return file;
  return null;
}
