// A story's own file in the implementation artifacts (the name is not always `<short id>-<slug>.md`), and the user story it states.
import type { StoryKeyInfo } from '../rules/story-keys.js';

/*
 * Real projects name story files in several ways: `2a-1-session-scanner.md` (the long key, BMAD's
 * create-story default), `2a-1-<another slug>.md`, `story-5-sr-1.md` (the short id after `story-`),
 * sometimes `story-<long key>.md`, and `sprint-2a-1.md` (sprint-runner v3 prefixes every file it generates
 * with `sprint-`). The same folder holds `<short id>-discovery-story.md`, tech-spec files and v3's frozen
 * `sprint-project-context.md`, which are not the story. Names are compared case-insensitively (macOS folders are).
 */

/** Not a story file, whatever its name starts with. */
const NOT_A_STORY = /discovery|tech-spec|project-context/i;

/**
 * The story's file among `files` (names in one folder), or null. Preference: the exact long key, then
 * `story-<long key>`, `story-<short id>`, `sprint-<long key>`, `sprint-<short id>`, then `<short id>-<slug>`
 * (the first in name order), so a folder holding several candidates always gives the same answer.
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
  for (const exact of [`${key}.md`, `story-${key}.md`, `story-${short}.md`, `sprint-${key}.md`, `sprint-${short}.md`]) {
    const found = byLower.get(exact);
    if (found !== undefined) return found;
  }
  // `<short id>-<slug>.md`; the `-` keeps `2a-1` from taking `2a-10-x.md`
  for (const [lower, file] of byLower) if (lower.startsWith(`${short}-`)) return file;
  return null;
}

/*
 * Story files come in more than one layout. BMAD's create-story template writes `## Story` over
 * `As a **role**,` / `I want **...**,` / `so that **...**.`; files the project wrote by hand or with older
 * prompts (`story-4-1.md`) have `## User Story` over `**As a** role,` / `**I want** ...`, between `---` rules.
 * The description is that section; a file with neither heading still states its user story, and the
 * paragraph that does is the description.
 */

/** `## Story`, `## User Story`, `### Story Statement`, `## Story:`: the headings a story section goes by. */
const STORY_HEADING = /^(#{2,3})[ \t]+(?:User[ \t]+)?Story(?:[ \t]+Statement)?[ \t]*:?[ \t]*$/im;
/** A user story statement: "As a(n) <role>" somewhere before "I want" (bold markers anywhere). */
const USER_STORY = /\bAs an?\b[\s\S]*?\bI want\b/i;

/** The text under a story heading up to the next heading of the same or a higher level, without rules. */
function storySection(markdown: string): string | null {
  const heading = STORY_HEADING.exec(markdown);
  if (!heading) return null;
  const level = heading[1]!.length;
  const rest = markdown.slice(heading.index + heading[0].length);
  const next = new RegExp(`^#{1,${level}}[ \\t]`, 'm').exec(rest);
  const body = (next ? rest.slice(0, next.index) : rest)
    .split('\n')
    .filter((line) => !/^\s*(?:-{3,}|\*{3,}|_{3,})\s*$/.test(line))
    .join('\n')
    .trim();
  return body === '' ? null : body;
}

/** The user story a story file states: its story section, else its first paragraph reading "As a ... I want". */
export function storyDescription(markdown: string): string | null {
  const section = storySection(markdown.replace(/\r\n/g, '\n'));
  if (section !== null) return section;
  for (const paragraph of markdown.replace(/\r\n/g, '\n').split(/\n\s*\n/)) {
    if (!/^\s*#/.test(paragraph) && USER_STORY.test(paragraph)) return paragraph.trim();
  }
  return null;
}
