// A story's file and the user story it states, in the names and layouts real projects write (our own texts in their shapes).
import { describe, expect, it } from 'vitest';
import { storyDescription, storyFileFor } from '../../machines/project/story-files.js';

/** BMAD's create-story template: `## Story` over a plain statement with bold values. */
const TEMPLATE_LAYOUT = `# Story 7-QA.1: Widget Export

Status: review

## Story

As a **curator**,
I want **to export the widget list**,
so that **I can share it offline**.

## Acceptance Criteria

1. **Given** a list **When** exported **Then** a file exists
`;

/**
 * A hand-written or older-prompt file (the real `story-4-1.md` shape): a status heading, `## User Story`
 * over bold labels, `---` rules between sections.
 */
const HAND_LAYOUT = `# Story 9-2: Colour Themes

## Status: ready-for-dev

---

## User Story

**As a** reader,
**I want** the pages in a dark theme,
**So that** night reading does not tire my eyes.

---

## Acceptance Criteria

### AC1: Theme Toggle
**Given** the settings page
`;

describe('the user story of a story file', () => {
  it('reads `## Story` as the BMAD template writes it', () => {
    expect(storyDescription(TEMPLATE_LAYOUT)).toBe('As a **curator**,\nI want **to export the widget list**,\nso that **I can share it offline**.');
  });

  it('reads `## User Story` with bold labels, without the `---` rules around it', () => {
    expect(storyDescription(HAND_LAYOUT)).toBe('**As a** reader,\n**I want** the pages in a dark theme,\n**So that** night reading does not tire my eyes.');
  });

  it('reads a level-3 `### Story Statement` up to the next heading of its level or higher', () => {
    const text = '# Story 3-1\n\n### Story Statement\n\nAs an operator, I want logs, so that I can audit.\n\n#### Notes\nkept\n\n### Tasks\n- one\n';
    expect(storyDescription(text)).toBe('As an operator, I want logs, so that I can audit.\n\n#### Notes\nkept');
  });

  it('takes the paragraph stating the user story when no heading names it', () => {
    const text = '# Story 2-4: Offline\n\nStatus: backlog\n\n**As a** traveller,\n**I want** cached pages,\n**So that** I read without network.\n\n## Tasks\n';
    expect(storyDescription(text)).toBe('**As a** traveller,\n**I want** cached pages,\n**So that** I read without network.');
  });

  it('has none for a file that states no user story, and ignores CRLF line ends', () => {
    expect(storyDescription('# Story 1-1\n\n## Tasks\n- do it\n')).toBeNull();
    expect(storyDescription(HAND_LAYOUT.replace(/\n/g, '\r\n'))).toMatch(/^\*\*As a\*\* reader,\n/);
  });

  it('is read from the file found for a story named `story-<short id>.md`, next to its discovery and tech-spec files', () => {
    const files = ['9-2-discovery-story.md', 'story-9-2.md', 'tech-spec-9-2.md', 'story-9-1.md'];
    expect(storyFileFor(files, { key: '9-2-colour-themes', shortId: '9-2' })).toBe('story-9-2.md');
  });
});

describe("a story's file under sprint-runner v3 names", () => {
  const story = { key: '9-2-colour-themes', shortId: '9-2' };
  // v3 prefixes what it generates with `sprint-`: story, discovery, tech spec, and the frozen project context
  it.each([
    [['sprint-9-2.md', 'sprint-9-2-discovery-story.md', 'sprint-tech-spec-9-2.md'], 'sprint-9-2.md'],
    [['sprint-9-2-colour-themes.md'], 'sprint-9-2-colour-themes.md'],
    [['sprint-project-context.md', 'sprint-9-2-discovery-story.md', 'sprint-runner-v3-context.md', 'sprint-9-20.md'], null],
    // an older name of the same story wins over the v3 one: the order is fixed, so the answer is too
    [['sprint-9-2.md', 'story-9-2.md'], 'story-9-2.md'],
  ])('in %j finds %s', (files, expected) => {
    expect(storyFileFor(files, story)).toBe(expected);
  });
});
