// Reads the pre-tool task log (docs/sprint-runner.csv) and imports it once into legacy_events.
import { readFile } from 'node:fs/promises';
import type { SprintDb } from './handle.js';
import { runSync } from './sync-queries.js';

/*
 * Format, as orchestrator.sh writes it: `epoch,epic,story,command,task_id,start|end,"message"`, no header,
 * the message quoted with inner quotes doubled; older lines have no message field at all. A message may
 * hold a newline, so a quoted field may run onto following lines — but only as long as that makes a valid
 * record: a stray quote must cost its own line, not swallow the rest of the file.
 */

export interface LegacyRow {
  /** the record's text (CR removed; lines of a multi-line record joined by \n): its identity on import */
  line: string;
  /** 1-based number of the record's first line in the file */
  lineNumber: number;
  /** epoch seconds */
  epoch: number;
  epic: string;
  story: string;
  command: string;
  taskId: string;
  status: 'start' | 'end';
  /** null when absent or empty */
  message: string | null;
}

export interface LegacyCsvError {
  /** 1-based line number */
  line: number;
  reason: string;
}

/** A multi-line message longer than this is taken for an unterminated quote. */
const MAX_RECORD_LINES = 200;

type Scan = { ok: true; fields: string[]; lines: number } | { ok: false; reason: string };

/** Reads one RFC-4180 record starting at lines[start]. */
function scanRecord(lines: readonly string[], start: number): Scan {
  const fields: string[] = [];
  let field = '';
  let index = start;
  let text = lines[start] ?? '';
  let pos = 0;
  let state: 'start' | 'unquoted' | 'quoted' | 'closed' = 'start';
  for (;;) {
    if (pos >= text.length) {
      if (state !== 'quoted') {
        fields.push(field);
        return { ok: true, fields, lines: index - start + 1 };
      }
      if (index + 1 >= lines.length || index - start + 1 >= MAX_RECORD_LINES) {
        return { ok: false, reason: 'a quoted field is never closed' };
      }
      index++;
      field += '\n';
      text = lines[index] ?? '';
      pos = 0;
      continue;
    }
    const ch = text[pos++]!;
    switch (state) {
      case 'start':
        if (ch === '"') state = 'quoted';
        else if (ch === ',') fields.push('');
        else {
          field = ch;
          state = 'unquoted';
        }
        break;
      case 'unquoted':
        // a quote inside an unquoted field is taken literally, as most CSV readers do
        if (ch === ',') {
          fields.push(field);
          field = '';
          state = 'start';
        } else field += ch;
        break;
      case 'quoted':
        if (ch !== '"') field += ch;
        else if (text[pos] === '"') {
          field += '"';
          pos++;
        } else state = 'closed';
        break;
      case 'closed':
        if (ch !== ',') return { ok: false, reason: `text after the closing quote of field ${fields.length + 1}` };
        fields.push(field);
        field = '';
        state = 'start';
        break;
    }
  }
}

function toRow(fields: string[], line: string, lineNumber: number): LegacyRow | string {
  if (fields.length !== 6 && fields.length !== 7) return `expected 6 or 7 fields, found ${fields.length}`;
  const [epoch, epic, story, command, taskId, status, message] = fields.map((f, i) => (i < 6 ? f.trim() : f));
  if (!/^\d+$/.test(epoch!)) return `the epoch is not a whole number of seconds: '${epoch}'`;
  const named: Array<[string, string]> = [
    ['epic', epic!],
    ['story', story!],
    ['command', command!],
    ['task id', taskId!],
  ];
  for (const [name, value] of named) if (value === '') return `the ${name} is empty`;
  if (status !== 'start' && status !== 'end') return `the status must be start or end, found '${status}'`;
  return {
    line,
    lineNumber,
    epoch: Number(epoch),
    epic: epic!,
    story: story!,
    command: command!,
    taskId: taskId!,
    status,
    message: message === undefined || message === '' ? null : message,
  };
}

/** Parses the legacy CSV. Pure, and never throws: a bad line becomes an error entry and parsing goes on. */
export function parseLegacyCsv(text: string): { rows: LegacyRow[]; errors: LegacyCsvError[] } {
  const lines = text.replace(/^\uFEFF/, '').split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const rows: LegacyRow[] = [];
  const errors: LegacyCsvError[] = [];
  let i = 0;
  while (i < lines.length) {
    if (lines[i]!.trim() === '') {
      i++;
      continue;
    }
    const scan = scanRecord(lines, i);
    if (!scan.ok) {
      errors.push({ line: i + 1, reason: scan.reason });
      i++;
      continue;
    }
    const row = toRow(scan.fields, lines.slice(i, i + scan.lines).join('\n'), i + 1);
    if (typeof row === 'string') {
      errors.push({ line: i + 1, reason: row });
      // a multi-line record that is no valid row was most likely a stray quote: retry from the next line
      i++;
      continue;
    }
    rows.push(row);
    i += scan.lines;
  }
  return { rows, errors };
}

export interface LegacyImportReport {
  /** new rows stored */
  imported: number;
  /** rows stored by an earlier import */
  skipped: number;
  /** lines our own runs produced (a subagent of one of our commands ran the log script): our commands show them */
  ours: number;
  /** lines identical to an earlier line of the file: stored once */
  duplicates: number;
  /** lines that are no valid record, with their line number and why */
  errors: LegacyCsvError[];
}

/** Seconds of clock skew allowed between a command's recorded span and the epoch its subagent logged. */
const OWN_LINE_SLACK_S = 5;

interface OwnCommand {
  command: string;
  background: boolean;
  fromS: number;
  toS: number;
  stories: Set<string>;
}

/** Our recorded commands, each with its span in epoch seconds and the short ids and keys of its stories. */
function ownCommands(db: SprintDb): OwnCommand[] {
  const rows = db.sqlite
    .prepare(
      `SELECT c.id, c.command, c.background, c.started_at, c.ended_at, s.short_id, s.key FROM commands c ` +
        `LEFT JOIN command_stories cs ON cs.command_id = c.id LEFT JOIN stories s ON s.id = cs.story_id ORDER BY c.id`,
    )
    .all() as Array<{ id: number; command: string; background: number; started_at: string; ended_at: string | null; short_id: string | null; key: string | null }>;
  const byId = new Map<number, OwnCommand>();
  const now = Date.now();
  for (const row of rows) {
    let own = byId.get(row.id);
    if (!own) {
      const from = Date.parse(row.started_at);
      const to = row.ended_at === null ? now : Date.parse(row.ended_at);
      own = {
        command: row.command,
        background: row.background === 1,
        fromS: Math.floor(from / 1000) - OWN_LINE_SLACK_S,
        toS: Math.ceil(to / 1000) + OWN_LINE_SLACK_S,
        stories: new Set(),
      };
      byId.set(row.id, own);
    }
    if (row.short_id !== null) own.stories.add(row.short_id);
    if (row.key !== null) own.stories.add(row.key);
  }
  return [...byId.values()];
}

/**
 * A line one of our commands produced: same story (or a command for no story), logged while that command
 * ran, under that command's name (the background chain logs the reviews it runs, `story-review-2`, under
 * their own names).
 */
function isOwnLine(row: LegacyRow, commands: readonly OwnCommand[]): boolean {
  const stories = row.story.split(',').map((s) => s.trim());
  return commands.some(
    (c) =>
      row.epoch >= c.fromS &&
      row.epoch <= c.toS &&
      (c.background || c.command === row.command) &&
      // project-context runs for no story: its lines (story `-`) are recognised by command and time alone
      (c.stories.size === 0 ||
        stories.some((story) => c.stories.has(story) || [...c.stories].some((known) => known.startsWith(`${story}-`) || story.startsWith(`${known}-`)))),
  );
}

/**
 * Imports the CSV into legacy_events. Idempotent: a line already stored (the same text) is skipped, so
 * importing the same or a longer file again adds only new lines. Lines our own runs appended (the
 * subagents log through orchestrator.sh while a batch runs) are not legacy history: they are left out, and
 * removed if an older version imported them. A missing file imports nothing.
 */
export async function importLegacyCsv(db: SprintDb, file: string): Promise<LegacyImportReport> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { imported: 0, skipped: 0, ours: 0, duplicates: 0, errors: [] };
    throw err;
  }
  const { rows, errors } = parseLegacyCsv(text);
  const commands = ownCommands(db);
  const seen = new Set<string>();
  return db.sqlite.transaction(() => {
    const report: LegacyImportReport = { imported: 0, skipped: 0, ours: 0, duplicates: 0, errors };
    for (const row of rows) {
      if (seen.has(row.line)) {
        report.duplicates++;
        continue;
      }
      seen.add(row.line);
      if (isOwnLine(row, commands)) {
        report.ours++;
        runSync(db, db.kysely.deleteFrom('legacy_events').where('line', '=', row.line).where('source', '=', 'csv'));
        continue;
      }
      const result = runSync(
        db,
        db.kysely
          .insertInto('legacy_events')
          .values({
            line: row.line,
            epoch: row.epoch,
            epic: row.epic,
            story: row.story,
            command: row.command,
            task_id: row.taskId,
            status: row.status,
            message: row.message,
          })
          .onConflict((oc) => oc.column('line').doNothing()),
      );
      if (result.changes > 0) report.imported++;
      else report.skipped++;
    }
    return report;
  })();
}

/** One line for the start-up log and the warning event: what was left out of the import, and why. */
export function describeLegacyImport(file: string, report: LegacyImportReport): string | null {
  if (report.errors.length === 0 && report.duplicates === 0) return null;
  const parts: string[] = [];
  if (report.errors.length > 0) {
    const shown = report.errors.slice(0, 5).map((e) => `line ${e.line}: ${e.reason}`).join('; ');
    parts.push(`${report.errors.length} line(s) rejected (${shown}${report.errors.length > 5 ? '; ...' : ''})`);
  }
  if (report.duplicates > 0) parts.push(`${report.duplicates} duplicate line(s) stored once`);
  return `${file}: ${parts.join(', ')}.`;
}
