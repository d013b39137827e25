// Reads the pre-tool task log (docs/sprint-runner.csv) and imports it once into legacy_events.
import { readFile } from 'node:fs/promises';
import type { SprintDb } from './handle.js';
import { runSync } from './writes.js';

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

/**
 * Imports the CSV into legacy_events. Idempotent: a line already stored (the same text) is skipped, so
 * importing the same or a longer file again adds only new lines. A missing file imports nothing.
 */
export async function importLegacyCsv(
  db: SprintDb,
  file: string,
): Promise<{ imported: number; skipped: number; errors: LegacyCsvError[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { imported: 0, skipped: 0, errors: [] };
    throw err;
  }
  const { rows, errors } = parseLegacyCsv(text);
  const imported = db.sqlite.transaction(() => {
    let count = 0;
    for (const row of rows) {
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
      count += result.changes;
    }
    return count;
  })();
  return { imported, skipped: rows.length - imported, errors };
}
