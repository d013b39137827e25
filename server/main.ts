// `sprint-runner serve`: wires the project, the database, the durable runner and the HTTP/WebSocket server.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { acquireOwner, migrateToLatest, openDatabase, releaseOwner, type SprintDb } from '../db/database.js';
import { importLegacyCsv } from '../db/legacy-csv.js';
import { createSqliteStore, type RecoveryReport } from '../db/store.js';
import { findExecutable, type PermissionMode } from '../machines/actors/claude-command.js';
import { CLAUDE_INSTALL_HINT } from '../machines/claude/claude-process.js';
import { loadProjectLayout, type ProjectLayout } from '../machines/project/layout.js';
import { loadModelOverrides, modelFor } from '../machines/project/models.js';
import { createSprintRunner, type RunnerListener, type SprintRunner } from '../machines/runner.js';
import { createRunnerService } from './runner-service.js';
import { startServer } from './start.js';


export interface ServeOptions {
  projectRoot: string;
  port?: number;
  host?: string;
  /** default: `<workflow folder>/dashboard/sprint-runner.db` in the project */
  dbFile?: string;
  claudeBin?: string;
  permissionMode?: PermissionMode;
  /** added to the children's environment */
  env?: NodeJS.ProcessEnv;
  staticDir?: string;
  resultGraceMs?: number;
  /** every runner event, for a terminal log */
  onEvent?: RunnerListener;
  /** false: an interrupted step starts afresh instead of continuing its CLI session (--no-continue) */
  continueSessions?: boolean;
}

export interface Serving {
  url: string;
  dbFile: string;
  layout: ProjectLayout;
  recovery: RecoveryReport;
  runner: SprintRunner;
  /** stops the batch (recorded as stopped, resumable), ends every child, closes the server and the database */
  close(): Promise<void>;
}

export function defaultDbFile(layout: ProjectLayout): string {
  return path.join(layout.workflowDir, 'dashboard', 'sprint-runner.db');
}

function hasOwnerTable(db: SprintDb): boolean {
  return db.sqlite.prepare("select 1 from sqlite_master where type = 'table' and name = 'owner'").get() !== undefined;
}

export async function serve(options: ServeOptions): Promise<Serving> {
  const layout = await loadProjectLayout(options.projectRoot);
  const claudeBin = options.claudeBin ?? 'claude';
  if (!(await findExecutable(claudeBin, options.env?.['PATH'] ?? process.env['PATH']))) {
    throw new Error(`Claude CLI not found: \`${claudeBin}\`. To ${CLAUDE_INSTALL_HINT}, or pass its path with --claude.`);
  }
  const dbFile = path.resolve(options.dbFile ?? defaultDbFile(layout));
  // validated before anything opens: a typo must not run a night on the wrong model
  const models = loadModelOverrides(path.dirname(dbFile));
  const db = openDatabase(dbFile);
  const cleanup: (() => Promise<void> | void)[] = [() => db.close()];
  const unwind = async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  };
  try {
    // an existing database is claimed before it is migrated, so a second orchestrator never touches it
    const claimedFirst = hasOwnerTable(db);
    if (claimedFirst) acquireOwner(db);
    await migrateToLatest(db);
    if (!claimedFirst) acquireOwner(db);
    cleanup.push(() => void releaseOwner(db));
    if (existsSync(layout.legacyCsv)) await importLegacyCsv(db, layout.legacyCsv);
    const store = createSqliteStore(db);
    const recovery = await store.recover();
    const runner = createSprintRunner({
      projectRoot: layout.root,
      claudeBin,
      store,
      ...(options.permissionMode ? { permissionMode: options.permissionMode } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.resultGraceMs !== undefined ? { resultGraceMs: options.resultGraceMs } : {}),
      ...(options.continueSessions !== undefined ? { continueSessions: options.continueSessions } : {}),
      ...(models.size > 0 ? { modelFor: (spec) => modelFor(models, spec) } : {}),
    });
    if (options.onEvent) runner.subscribe(options.onEvent);
    cleanup.push(() => runner.close());
    const server = await startServer({
      service: createRunnerService(runner, db),
      ...(options.host ? { host: options.host } : {}),
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.staticDir ? { staticDir: options.staticDir } : {}),
    });
    cleanup.push(() => server.close());
    return { url: server.url, dbFile, layout, recovery, runner, close: unwind };
  } catch (error) {
    await unwind();
    throw error;
  }
}
