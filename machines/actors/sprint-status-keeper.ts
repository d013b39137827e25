// Spec §4: the last sprint-status.yaml the runner read, restored when a killed subagent left the file half-written.
import { readFile, writeFile } from 'node:fs/promises';
import { parseSprintStatus, type SprintStatus } from '../rules/sprint-status.js';
import type { ProjectLayout } from '../project/layout.js';
import { readSprintStatusFile, writeFileAtomic } from './sprint-files.js';

export interface SprintStatusRead {
  status: SprintStatus;
  /** the warning to emit when the file was restored from the last content read, else null */
  restored: string | null;
}

export interface SprintStatusKeeper {
  /** Reads the file (spec §2); restores the last content read when the file is empty or unparseable after a kill. */
  read(): Promise<SprintStatusRead>;
  /** A command was ended by stop, crash recovery or a watchdog: the file may be half-written until the next good read. */
  noteKilled(): void;
  /**
   * Before anything runs after a kill: restores a half-written file and returns the warning, else null.
   * Touches nothing otherwise (a missing file stays missing for the batch's own read to report).
   */
  repair(): Promise<string | null>;
}

export interface SprintStatusKeeperOptions {
  /**
   * Where the last content read is kept across processes (crash recovery ends the children of a dead run,
   * and the next process must still know the last good content). Without it, only this process remembers.
   */
  copyFile?: string;
  /** true when this process starts after a stop or a crash: its first read may find a half-written file */
  killedBefore?: boolean;
}

export function createSprintStatusKeeper(layout: ProjectLayout, options: SprintStatusKeeperOptions = {}): SprintStatusKeeper {
  let lastGood: string | null = null;
  let loadedCopy = false;
  let killed = options.killedBefore ?? false;

  const remember = async (text: string) => {
    if (text === lastGood) return;
    lastGood = text;
    // the copy is ours; losing it only loses the restore, never the batch
    if (options.copyFile) await writeFile(options.copyFile, text).catch(() => undefined);
  };

  const loadCopy = async () => {
    if (loadedCopy) return;
    loadedCopy = true;
    if (lastGood === null && options.copyFile) lastGood = await readFile(options.copyFile, 'utf8').catch(() => null);
  };

  /** The file's text when it parses (remembered), or the restored last content, or null when neither applies. */
  const check = async (): Promise<{ status: SprintStatus; restored: string | null } | null> => {
    await loadCopy();
    const file = layout.sprintStatusFile;
    const text = await readFile(file, 'utf8').catch(() => null);
    if (text === null) return null;
    const parsed = parseSprintStatus(text, file);
    if (parsed.ok) {
      await remember(text);
      killed = false;
      return { status: parsed.status, restored: null };
    }
    if (!killed || lastGood === null) return null;
    const previous = parseSprintStatus(lastGood, file);
    if (!previous.ok) return null;
    await writeFileAtomic(file, lastGood);
    killed = false;
    const what = text.trim() === '' ? 'empty' : 'unparseable';
    return {
      status: previous.status,
      restored:
        `${file} was ${what} after a subagent was ended while it could be writing it; ` +
        `it was restored to the last content the runner read (${Buffer.byteLength(lastGood)} bytes).`,
    };
  };

  return {
    noteKilled() {
      killed = true;
    },
    async repair() {
      if (!killed) return null;
      return (await check())?.restored ?? null;
    },
    async read() {
      const checked = await check();
      if (checked !== null) return checked;
      // missing (a template is written) or unparseable without a kill: fails there, the file untouched
      return { status: await readSprintStatusFile(layout), restored: null };
    },
  };
}
