// Table tests for prompt rendering (only the listed variables, one pass) and the project-context dump.
import { describe, expect, it } from 'vitest';
import {
  injectProjectContext,
  PROJECT_CONTEXT_HEADING,
  PROMPT_VARIABLES,
  renderPrompt,
  unknownPromptVariables,
} from '../../machines/rules/prompt.js';

describe('PROMPT_VARIABLES', () => {
  it('is the spec list', () => {
    expect([...PROMPT_VARIABLES].sort()).toEqual(
      ['command', 'epic_id', 'implementation_artifacts', 'prompt_file', 'review_attempt', 'review_type', 'story_id', 'story_key', 'story_keys'].sort(),
    );
  });
});

describe('renderPrompt', () => {
  const vars = {
    story_key: '3a-1,3a-2',
    story_id: '3a-1,3a-2',
    epic_id: '3a',
    command: 'code-review-2',
    review_attempt: '2',
    implementation_artifacts: '_bmad-output/implementation-artifacts',
  };

  it.each<[string, string, Record<string, string>, string]>([
    ['every listed variable', 'Story {{story_key}} ({{story_id}}) of {{epic_id}}: {{command}} #{{review_attempt}} in {{implementation_artifacts}}', vars, 'Story 3a-1,3a-2 (3a-1,3a-2) of 3a: code-review-2 #2 in _bmad-output/implementation-artifacts'],
    ['repeated occurrences', '{{story_id}}/{{story_id}}', vars, '3a-1,3a-2/3a-1,3a-2'],
    ['unknown names stay', '{{user_name}} {{story_id}} {{ story_id }} {{STORY_ID}}', vars, '{{user_name}} 3a-1,3a-2 {{ story_id }} {{STORY_ID}}'],
    ['listed names absent from vars stay', 'type={{review_type}} keys={{story_keys}} file={{prompt_file}}', vars, 'type={{review_type}} keys={{story_keys}} file={{prompt_file}}'],
    ['names present in vars but not listed are not substituted', '{{user_name}}', { user_name: 'x' }, '{{user_name}}'],
    ['no recursive substitution', '{{command}}', { command: 'run {{story_id}} $& $1', story_id: 'NO' }, 'run {{story_id}} $& $1'],
    ['an empty value', '[{{epic_id}}]', { epic_id: '' }, '[]'],
    ['unbalanced braces stay', '{{story_id} {story_id}} {{{story_id}}}', vars, '{{story_id} {story_id}} {3a-1,3a-2}'],
    ['prototype names are not variables', '{{constructor}} {{toString}}', vars, '{{constructor}} {{toString}}'],
  ])('%s', (_label, template, values, expected) => {
    expect(renderPrompt(template, values)).toBe(expected);
  });

  it('lists the names it will not substitute', () => {
    expect(unknownPromptVariables('{{story_id}} {{user_name}} {{ x }} {{user_name}}')).toEqual(['user_name', ' x ']);
  });
});

describe('injectProjectContext', () => {
  const context = '# Project Context\n\nUse pnpm.\n';

  it.each<[string, string, string]>([
    ['a file ending in a newline', '# Discovery\nfindings\n', `# Discovery\nfindings\n\n${PROJECT_CONTEXT_HEADING}\n\n${context}`],
    ['a file without a final newline: the dump starts on its own line', '# Discovery\nfindings', `# Discovery\nfindings\n\n${PROJECT_CONTEXT_HEADING}\n\n${context}`],
    ['an empty file', '', `${PROJECT_CONTEXT_HEADING}\n\n${context}`],
    ['a CRLF file keeps CRLF for the inserted lines', '# D\r\nx\r\n', `# D\r\nx\r\n\r\n${PROJECT_CONTEXT_HEADING}\r\n\r\n${context}`],
  ])('appends to %s', (_label, discovery, expected) => {
    expect(injectProjectContext(discovery, context)).toBe(expected);
  });

  it.each([
    ['already injected', `# D\n\n${PROJECT_CONTEXT_HEADING}\n\nold context\n`],
    ['the heading with trailing spaces and CRLF', `# D\r\n${PROJECT_CONTEXT_HEADING}  \r\nold\r\n`],
    ['the heading as the last line without newline', `# D\n${PROJECT_CONTEXT_HEADING}`],
  ])('does nothing when %s', (_label, discovery) => {
    expect(injectProjectContext(discovery, context)).toBeNull();
  });

  it('is idempotent: injecting the result again does nothing', () => {
    const once = injectProjectContext('# D\n', context);
    expect(once).not.toBeNull();
    expect(injectProjectContext(once as string, context)).toBeNull();
  });

  it('only a whole heading line counts, not a mention in prose', () => {
    expect(injectProjectContext(`See "${PROJECT_CONTEXT_HEADING}" later.\n`, context)).not.toBeNull();
  });
});
