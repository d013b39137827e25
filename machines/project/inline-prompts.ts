// The two subagent prompts that are not template files (spec §1): our own wording, rendered like templates.
import path from 'node:path';
import type { ProjectLayout } from './layout.js';

/** Runs BMAD's generate-project-context workflow and says where its output belongs. */
export function projectContextPrompt(layout: ProjectLayout): string {
  const output = path.relative(layout.root, layout.projectContextFile);
  return [
    'Command: project-context',
    `Output: ${output}`,
    '',
    'Run the workflow /bmad:bmm:workflows:generate-project-context for this project, unattended.',
    `Write the generated project context to \`${output}\`, replacing any older version.`,
    'Do not ask questions: decide from the repository and the planning artifacts.',
    '',
  ].join('\n');
}

/**
 * Runs BMAD's batch-commit workflow for the stories a cycle completed. It is a template in all but
 * file: `{{story_id}}` and `{{epic_id}}` are substituted like any other prompt's variables.
 */
export const BATCH_COMMIT_TEMPLATE = [
  'Command: batch-commit',
  'Stories: {{story_id}}',
  'Epic: {{epic_id}}',
  '',
  'Run the workflow /bmad:bmm:workflows:batch-commit with story_ids={{story_id}} and epic_id={{epic_id}}, unattended.',
  'Commit only the work of these stories, with one message that names them.',
  '',
].join('\n');
