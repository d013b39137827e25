// Where a BMAD project keeps what the workflow reads and writes (spec §1), resolved once per batch.
import { readFile, stat, access, writeFile, unlink } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { TEMPLATE_FOR_COMMAND, type CommandKind, type Taxonomy, type TemplateCommand } from '../wire.js';

// the command names travel to the dashboard: declared once in the Node-free wire module
export { TEMPLATE_FOR_COMMAND, type CommandKind, type InlineCommand, type TemplateCommand, type Taxonomy } from '../wire.js';

export const WORKFLOW_DIR = '_bmad/bmm/workflows/4-implementation/sprint-runner';
export const CONFIG_FILE = '_bmad/bmm/config.yaml';
export const LEGACY_CSV = 'docs/sprint-runner.csv';
const DEFAULT_IMPLEMENTATION_ARTIFACTS = '_bmad-output/implementation-artifacts';
const DEFAULT_PLANNING_ARTIFACTS = '_bmad-output/planning-artifacts';

export interface ProjectLayout {
  root: string;
  workflowDir: string;
  promptsDir: string;
  taxonomyFile: string;
  configFile: string;
  /** absolute */
  implementationArtifacts: string;
  /** as prompts get it: relative to the project root (spec §3 Variables) */
  implementationArtifactsRelative: string;
  planningArtifacts: string;
  sprintStatusFile: string;
  projectContextFile: string;
  legacyCsv: string;
  projectName: string;
}

export class ProjectError extends Error {
  constructor(
    message: string,
    readonly code: 'project-missing' | 'config-invalid' | 'template-missing' | 'taxonomy-invalid' | 'not-writable',
  ) {
    super(message);
    this.name = 'ProjectError';
  }
}

/** `{project-root}/x` and plain relative paths both resolve against the root. */
function resolveConfigPath(root: string, value: unknown, fallback: string): string {
  const raw = typeof value === 'string' && value.trim() !== '' ? value.trim() : fallback;
  const substituted = raw.replaceAll('{project-root}', root);
  return path.resolve(root, substituted);
}

export async function loadProjectLayout(projectRoot: string): Promise<ProjectLayout> {
  const root = path.resolve(projectRoot);
  const rootStat = await stat(root).catch(() => null);
  if (!rootStat?.isDirectory()) {
    throw new ProjectError(`Project folder not found: ${root}`, 'project-missing');
  }
  const configFile = path.join(root, CONFIG_FILE);
  let config: Record<string, unknown> = {};
  const configText = await readFile(configFile, 'utf8').catch(() => null);
  if (configText !== null) {
    try {
      const parsed: unknown = parseYaml(configText);
      if (parsed && typeof parsed === 'object') config = parsed as Record<string, unknown>;
    } catch (error) {
      throw new ProjectError(`${configFile}: not valid YAML: ${(error as Error).message}`, 'config-invalid');
    }
  }
  const implementationArtifacts = resolveConfigPath(root, config['implementation_artifacts'], DEFAULT_IMPLEMENTATION_ARTIFACTS);
  const planningArtifacts = resolveConfigPath(root, config['planning_artifacts'], DEFAULT_PLANNING_ARTIFACTS);
  const workflowDir = path.join(root, WORKFLOW_DIR);
  return {
    root,
    workflowDir,
    promptsDir: path.join(workflowDir, 'prompts'),
    taxonomyFile: path.join(workflowDir, 'task-taxonomy.yaml'),
    configFile,
    implementationArtifacts,
    implementationArtifactsRelative: path.relative(root, implementationArtifacts) || '.',
    planningArtifacts,
    sprintStatusFile: path.join(implementationArtifacts, 'sprint-status.yaml'),
    projectContextFile: path.join(planningArtifacts, 'project-context.md'),
    legacyCsv: path.join(root, LEGACY_CSV),
    projectName: typeof config['project_name'] === 'string' ? config['project_name'] : path.basename(root),
  };
}


/** `commands.<name>.phases[].id` (spec §1). */
export function parseTaxonomy(text: string, file: string): Taxonomy {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new ProjectError(`${file}: not valid YAML: ${(error as Error).message}`, 'taxonomy-invalid');
  }
  const commands = (doc as { commands?: unknown } | null)?.commands;
  if (!commands || typeof commands !== 'object') {
    throw new ProjectError(`${file}: no \`commands\` mapping`, 'taxonomy-invalid');
  }
  const taxonomy: Taxonomy = {};
  for (const [name, entry] of Object.entries(commands as Record<string, unknown>)) {
    const phases = (entry as { phases?: unknown } | null)?.phases;
    if (!Array.isArray(phases)) {
      throw new ProjectError(`${file}: commands.${name}.phases is not a list`, 'taxonomy-invalid');
    }
    taxonomy[name] = phases.map((phase, index) => {
      const id = (phase as { id?: unknown } | null)?.id;
      if (typeof id !== 'string' || id === '') {
        throw new ProjectError(`${file}: commands.${name}.phases[${index}] has no id`, 'taxonomy-invalid');
      }
      const label = (phase as { label?: unknown }).label;
      return { id, label: typeof label === 'string' ? label : id };
    });
  }
  return taxonomy;
}

export async function loadTaxonomy(layout: ProjectLayout): Promise<Taxonomy> {
  const text = await readFile(layout.taxonomyFile, 'utf8').catch(() => null);
  if (text === null) {
    throw new ProjectError(`Task taxonomy not found: ${layout.taxonomyFile}`, 'template-missing');
  }
  return parseTaxonomy(text, layout.taxonomyFile);
}

export function templatePath(layout: ProjectLayout, command: TemplateCommand): string {
  return path.join(layout.promptsDir, TEMPLATE_FOR_COMMAND[command]);
}

/**
 * Everything the batch needs before the first spawn (spec §1: a missing template is a clear error
 * before anything is spawned). Returns the taxonomy so the caller need not read it twice.
 */
/** Tries it: `access(W_OK)` says yes to root even where nothing can be written (a read-only mount, chattr +i). */
async function canWriteIn(dir: string): Promise<boolean> {
  const probe = path.join(dir, `.sprint-runner-write-check-${process.pid}`);
  try {
    await writeFile(probe, '');
    await unlink(probe);
    return true;
  } catch {
    return false;
  }
}

const isDir = (p: string) => stat(p).then((s) => s.isDirectory(), () => false);

/**
 * When a whole folder is missing, that is the message, not eight file names. The same project had other
 * workflow versions: sprint-runner v3 replaced `prompts/` with `commands/<name>/instructions.xml`, run with
 * `claude --command`, which this runner does not drive; a wrong project root has no workflow folder at all.
 * (Before `background-review-chain.md` existed the folder lacks that one template: the list names it.)
 */
async function missingFolderMessage(layout: ProjectLayout): Promise<string | null> {
  const rel = (p: string) => path.relative(layout.root, p);
  if (!(await isDir(layout.workflowDir))) {
    return `Workflow folder not found: ${rel(layout.workflowDir)} (is ${layout.root} the project root?)`;
  }
  if (await isDir(layout.promptsDir)) return null;
  const v3 = await isDir(path.join(layout.workflowDir, 'commands'));
  return `Prompt templates missing: no ${rel(layout.promptsDir)} folder${
    v3 ? ' (this sprint-runner workflow has commands/ instead of prompts/, as sprint-runner v3 does; the runner needs the prompts/*.md templates)' : ''
  }`;
}

export async function checkProjectFiles(layout: ProjectLayout): Promise<Taxonomy> {
  const missing: string[] = [];
  for (const command of Object.keys(TEMPLATE_FOR_COMMAND) as TemplateCommand[]) {
    const file = templatePath(layout, command);
    if (!(await access(file, fsConstants.R_OK).then(() => true, () => false))) missing.push(file);
  }
  if (missing.length > 0) {
    const listed = missing.map((f) => path.relative(layout.root, f)).join(', ');
    throw new ProjectError((await missingFolderMessage(layout)) ?? `Prompt template${missing.length > 1 ? 's' : ''} missing: ${listed}`, 'template-missing');
  }
  const taxonomy = await loadTaxonomy(layout);
  // The orchestrator writes sprint-status and discovery files; find out now, not after an hour of work.
  for (const dir of [layout.root, layout.implementationArtifacts]) {
    const exists = await stat(dir).then((s) => s.isDirectory(), () => false);
    if (exists && !(await canWriteIn(dir))) {
      throw new ProjectError(`Folder is not writable: ${dir} (the runner writes sprint-status and the discovery files there)`, 'not-writable');
    }
  }
  return taxonomy;
}
