// File I/O behind the machines' named actors: sprint-status, discovery files, project context age, preflight.
import { readFile, rename, stat, writeFile, mkdir, open, unlink } from 'node:fs/promises';
import path from 'node:path';
import { parseSprintStatus, setStoryStatus, sprintStatusTemplate, type SprintStatus } from '../rules/sprint-status.js';
import { injectProjectContext } from '../rules/prompt.js';
import type { ProjectLayout } from '../project/layout.js';
import type { StoryRef } from '../types.js';
import type { ProjectContextState } from '../batch.machine.js';

export class SprintStatusError extends Error {
  constructor(message: string, readonly code: 'missing' | 'unparseable' | 'unknown-key' | 'project-missing') {
    super(message);
    this.name = 'SprintStatusError';
  }
}

/**
 * A project folder that vanished mid-run (deleted, an unmounted volume) is not a missing sprint-status:
 * nothing may be recreated in its place. The workflow folder must be there too, or this is no BMAD project.
 */
async function ensureProjectPresent(layout: ProjectLayout): Promise<void> {
  for (const dir of [layout.root, layout.workflowDir]) {
    const present = await stat(dir).then((s) => s.isDirectory(), () => false);
    if (!present) {
      throw new SprintStatusError(
        `The project is gone: ${dir} no longer exists. The batch stops here and nothing was recreated; ` +
          `restore the project folder (or point --project at it), then resume.`,
        'project-missing',
      );
    }
  }
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Reads and parses sprint-status. For a batch (spec §2) a missing file gets a template and still fails: sprint
 * planning must be run first. A reader that only shows the file (the dashboard's API) passes `writeTemplate:
 * false`: looking at a project never writes into it. An unparseable file fails with file, line and reason, and
 * is not touched.
 */
export async function readSprintStatusFile(layout: ProjectLayout, { writeTemplate = true }: { writeTemplate?: boolean } = {}): Promise<SprintStatus> {
  const file = layout.sprintStatusFile;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await ensureProjectPresent(layout);
    if (!writeTemplate) {
      throw new SprintStatusError(`${file} is missing. Run sprint planning first (/bmad:bmm:workflows:sprint-planning).`, 'missing');
    }
    await mkdir(path.dirname(file), { recursive: true });
    const template = sprintStatusTemplate({
      project: layout.projectName,
      projectKey: layout.projectName,
      storyLocation: path.relative(layout.root, layout.implementationArtifacts) || '.',
      generated: new Date().toISOString().slice(0, 10),
    });
    // `wx`: never overwrite a file that appeared meanwhile
    await writeFile(file, template, { flag: 'wx' }).catch(() => undefined);
    throw new SprintStatusError(
      `${file} was missing; a template was written there. Run sprint planning first (/bmad:bmm:workflows:sprint-planning).`,
      'missing',
    );
  }
  const parsed = parseSprintStatus(text, file);
  if (!parsed.ok) {
    const { error } = parsed;
    throw new SprintStatusError(`${error.file}:${error.line}:${error.column}: ${error.reason}`, 'unparseable');
  }
  return parsed.status;
}

/**
 * Writes text so that a crash at any instant leaves either the old file or the new one: a temp file in the
 * same folder, fsynced, then renamed over the original (keeping its mode). `stillCurrent`, when given, is
 * asked right before the rename; false abandons the write (the temp file is removed) and returns false.
 */
export async function writeFileAtomic(file: string, text: string, stillCurrent?: () => Promise<boolean>): Promise<boolean> {
  const mode = await stat(file).then((s) => s.mode & 0o777, () => 0o644);
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const handle = await open(temp, 'w', mode);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (stillCurrent && !(await stillCurrent())) {
    await unlink(temp).catch(() => undefined);
    return false;
  }
  await rename(temp, file);
  return true;
}

/** How many times a write starts over because the file changed between its read and its rename. */
const WRITE_RETRIES = 5;

/**
 * Changes one story's value in place; every other byte of the file stays as it was (spec §2). Subagents and
 * people edit the file too, so the text is re-read right before the rename: if it changed since it was
 * read, the change is made again on the new text, and the window in which another edit can be lost is the
 * few microseconds between that last read and the rename.
 */
export async function writeStoryStatusFile(layout: ProjectLayout, key: string, status: 'done' | 'blocked'): Promise<void> {
  const file = layout.sprintStatusFile;
  await ensureProjectPresent(layout);
  for (let attempt = 0; ; attempt++) {
    const text = await readFile(file, 'utf8');
    let updated: string;
    try {
      updated = setStoryStatus(text, key, status);
    } catch (error) {
      // setStoryStatus already says "cannot set <key> to <status>: <why>"
      throw new SprintStatusError(`${file}: ${(error as Error).message}`, 'unknown-key');
    }
    if (updated === text) return;
    // a file that keeps changing under us (a subagent writing in a loop) is written on the last try regardless
    const unchanged = attempt < WRITE_RETRIES ? async () => (await readFile(file, 'utf8')) === text : undefined;
    if (await writeFileAtomic(file, updated, unchanged)) return;
  }
}

export function discoveryFile(layout: ProjectLayout, story: StoryRef): string {
  return path.join(layout.implementationArtifacts, `${story.shortId}-discovery-story.md`);
}

/** Step 2: appends the project context to each discovery file once; a missing file is a warning, not a failure. */
export async function injectProjectContextFiles(layout: ProjectLayout, stories: readonly StoryRef[]): Promise<{ warnings: string[] }> {
  const warnings: string[] = [];
  const contextText = await readFile(layout.projectContextFile, 'utf8').catch(() => null);
  for (const story of stories) {
    const file = discoveryFile(layout, story);
    const discovery = await readFile(file, 'utf8').catch(() => null);
    if (discovery === null || contextText === null) {
      const missing = [discovery === null ? file : null, contextText === null ? layout.projectContextFile : null].filter(Boolean);
      warnings.push(`project context not injected for ${story.shortId}: missing ${missing.map((f) => path.relative(layout.root, f!)).join(' and ')}`);
      continue;
    }
    const injected = injectProjectContext(discovery, contextText);
    if (injected !== null) await writeFileAtomic(file, injected);
  }
  return { warnings };
}

/** Step 0: missing, older than 24 h by mtime, or fresh. */
export async function projectContextState(layout: ProjectLayout, now = Date.now()): Promise<ProjectContextState> {
  const info = await stat(layout.projectContextFile).catch(() => null);
  if (!info) return 'missing';
  return now - info.mtimeMs > DAY_MS ? 'stale' : 'fresh';
}
