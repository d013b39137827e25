// Prompt templates (spec §1): substituting the known variables, and the project-context dump of Step 2.

/** The only variables the orchestrator substitutes; any other `{{...}}` is left as written. */
export const PROMPT_VARIABLES = [
  'story_key',
  'story_id',
  'epic_id',
  'command',
  'review_attempt',
  'implementation_artifacts',
  'review_type',
  'story_keys',
  'prompt_file',
] as const;

export type PromptVariable = (typeof PROMPT_VARIABLES)[number];

const KNOWN: ReadonlySet<string> = new Set(PROMPT_VARIABLES);

/**
 * Replaces `{{name}}` (exactly that spelling) for listed names present in `vars`, in one pass, so a value
 * that itself contains `{{story_id}}` is not expanded again. Unlisted or absent names stay as written.
 */
export function renderPrompt(template: string, vars: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}/g, (whole, name: string) =>
    KNOWN.has(name) && Object.prototype.hasOwnProperty.call(vars, name) ? (vars[name] ?? whole) : whole,
  );
}

/** The `{{...}}` names a template uses that the orchestrator will not substitute (for a warning or a test). */
export function unknownPromptVariables(template: string): string[] {
  const names = new Set<string>();
  for (const m of template.matchAll(/\{\{([^{}]*)\}\}/g)) {
    const name = m[1] ?? '';
    if (!KNOWN.has(name)) names.add(name);
  }
  return [...names];
}

export const PROJECT_CONTEXT_HEADING = '# Project Context Dump Below';

/**
 * Appends the project context to a discovery file: a blank line, the heading line, then the context text
 * unchanged. Null when the heading line is already there (the file was injected before: do nothing).
 * The inserted line breaks follow the file's own style (CRLF when the file uses it).
 */
export function injectProjectContext(discoveryText: string, contextText: string): string | null {
  const lines = discoveryText.split('\n');
  if (lines.some((line) => line.replace(/\s+$/, '') === PROJECT_CONTEXT_HEADING)) return null;
  const eol = discoveryText.includes('\r\n') ? '\r\n' : '\n';
  let out = discoveryText;
  if (out !== '' && !out.endsWith('\n')) out += eol;
  if (out !== '') out += eol;
  return `${out}${PROJECT_CONTEXT_HEADING}${eol}${eol}${contextText}`;
}
