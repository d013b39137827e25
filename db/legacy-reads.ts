// Read queries for history from before the tool: legacy CSV lines and the previous orchestrator's records.
import { parseStoryKey } from '../machines/rules/story-keys.js';
import type { LegacyEvent } from '../machines/wire.js';
import type { SprintDb } from './handle.js';

// a legacy line is the dashboard's too: declared once in the Node-free wire module
export type { LegacyEvent } from '../machines/wire.js';

/** Longer than any one command: a line of the same story and command after such a gap is another run. */
const LEGACY_RUN_GAP_S = 4 * 60 * 60;
/**
 * A finished task started again this soon after the run's last line is the same agent logging again (the
 * real log has `code-review-3 setup start` 26 s after that review's last `end`), not a new attempt: a new
 * attempt comes after the orchestrator noticed a failure and spawned again.
 */
const LEGACY_RERUN_GAP_S = 120;

/**
 * Groups legacy lines into the command runs that wrote them. Parallel steps (create-story and
 * story-discovery) interleave their lines, so a run is found by pairing, not by adjacency: a line joins the
 * open run of its source, story and command, and a new run begins when a task id that already started
 * and ended in the open run starts again more than LEGACY_RERUN_GAP_S later, or after a long gap. Input in
 * epoch order.
 */
export function groupLegacyRuns<T extends { id: number; epoch: number; source: string; story: string; command: string; taskId: string; status: string }>(
  rows: readonly T[],
): Array<T & { run: string }> {
  const open = new Map<string, { run: string; last: number; started: Set<string>; ended: Set<string> }>();
  return rows.map((row) => {
    const key = `${row.source}|${row.story}|${row.command}`;
    let current = open.get(key);
    const again = row.status === 'start' && current !== undefined && current.ended.has(row.taskId) && row.epoch - current.last > LEGACY_RERUN_GAP_S;
    if (current === undefined || again || row.epoch - current.last > LEGACY_RUN_GAP_S) {
      current = { run: `legacy:${row.id}`, last: row.epoch, started: new Set(), ended: new Set() };
      open.set(key, current);
    }
    current.last = row.epoch;
    // a `progress` line (the previous orchestrator's later versions record them) ends nothing
    if (row.status === 'start') {
      current.started.add(row.taskId);
      current.ended.delete(row.taskId);
    } else if (row.status === 'end') current.ended.add(row.taskId);
    return { ...row, run: current.run };
  });
}

/** A line's story as a short id: the row's own epic is the declared one (`5-sr` + `5-sr-1-x` gives `5-sr-1`). */
function legacyShortId(story: string, epic: string): string {
  if (story.includes(',')) return story;
  return parseStoryKey(story, epic === '' ? [] : [epic])?.shortId ?? story;
}

/** The imported legacy lines (the CSV and the previous orchestrator's database), oldest first, grouped into runs. */
export async function legacyEvents(db: SprintDb): Promise<LegacyEvent[]> {
  const rows = await db.kysely.selectFrom('legacy_events').selectAll().orderBy('epoch').orderBy('id').execute();
  return groupLegacyRuns(
    rows.map((row) => ({
      id: row.id,
      epoch: row.epoch,
      epic: row.epic,
      story: legacyShortId(row.story, row.epic),
      command: row.command,
      taskId: row.task_id,
      status: row.status,
      message: row.message,
      source: row.source,
    })),
  );
}

export interface LegacyRecord {
  source: string;
  kind: 'batch' | 'story' | 'background-task';
  sourceId: number;
  batchSourceId: number | null;
  story: string | null;
  epic: string | null;
  /** a batch's max cycles, a background task's type */
  label: string | null;
  status: string | null;
  /** epoch seconds */
  startedAt: number | null;
  endedAt: number | null;
}

/** The previous orchestrator's batches, stories and background tasks, oldest first, and when they were imported. */
export async function legacyRecords(db: SprintDb): Promise<{ imports: Array<{ source: string; file: string; importedAt: string; summary: unknown }>; records: LegacyRecord[] }> {
  const imports = await db.kysely.selectFrom('legacy_imports').selectAll().orderBy('imported_at').execute();
  const rows = await db.kysely.selectFrom('legacy_records').selectAll().orderBy('started_at').orderBy('id').execute();
  return {
    imports: imports.map((i) => ({ source: i.source, file: i.file, importedAt: i.imported_at, summary: JSON.parse(i.summary) as unknown })),
    records: rows.map((r) => ({
      source: r.source,
      kind: r.kind,
      sourceId: r.source_id,
      batchSourceId: r.batch_source_id,
      story: r.story,
      epic: r.epic,
      label: r.label,
      status: r.status,
      startedAt: r.started_at,
      endedAt: r.ended_at,
    })),
  };
}
