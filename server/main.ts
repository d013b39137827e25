// `sprint-runner serve`: wires the project, the database, the durable runner and the HTTP/WebSocket server.
import path from 'node:path';
import { migrateToLatest, openDatabase, type SprintDb } from '../db/database.js';
import { acquireOwner, releaseOwner } from '../db/owner.js';
import { createSqliteStore, type RecoveryReport } from '../db/store.js';
import { rescueDatabase, storageFault, watchDatabaseFile } from '../db/storage-faults.js';
import { claudeNotFoundMessage, findExecutable, type PermissionMode } from '../machines/actors/claude-command.js';
import { endRecordedProcesses } from '../machines/claude/process-tree.js';
import { loadProjectLayout, type ProjectLayout } from '../machines/project/layout.js';
import { acquireProjectLock } from '../machines/project/lock.js';
import { loadModelOverrides, modelFor } from '../machines/project/models.js';
import { createSprintRunner } from '../machines/runner.js';
import type { RunnerListener, SprintRunner } from '../machines/runner-api.js';
import { chooseDatabaseFile, importHistory } from './history.js';
import { loadOrCreateToken, tokenFileFor } from './auth.js';
import { checkNotifyUrl, createNotifier } from './notify.js';
import { createRunnerService } from './runner-service.js';
import { listenServer } from './start.js';

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
  /** false: no token (`--no-auth`, for those who put their own authenticating proxy in front); default true */
  auth?: boolean;
  /** the webhook (`--notify-url`): a JSON POST per batch end, error, blocked story and usage-limit wait */
  notifyUrl?: string;
  /** where webhook delivery failures are reported (default: stderr) */
  logNotify?: (message: string) => void;
  /**
   * The database can no longer be written, or was deleted or replaced: the runner has halted (every child
   * tree ended) and serve should close and exit non-zero with this message (default: printed to stderr).
   */
  onFatal?: (message: string) => void;
  /** false: an interrupted step starts afresh instead of continuing its CLI session (--no-continue) */
  continueSessions?: boolean;
}

export interface Serving {
  url: string;
  /** the URL to open once: `url` with `?token=` (the browser exchanges it for a cookie), or `url` without auth */
  dashboardUrl: string;
  /** the secret every request must carry, or null with `auth: false` */
  token: string | null;
  dbFile: string;
  layout: ProjectLayout;
  recovery: RecoveryReport;
  /** what the start-up log says once: the previous orchestrator's database, legacy lines left out */
  notices: string[];
  runner: SprintRunner;
  /** stops the batch (recorded as stopped, resumable), ends every child, closes the server and the database */
  close(): Promise<void>;
}

export { defaultDbFile } from './history.js';

function hasOwnerTable(db: SprintDb): boolean {
  return db.sqlite.prepare("select 1 from sqlite_master where type = 'table' and name = 'owner'").get() !== undefined;
}

export async function serve(options: ServeOptions): Promise<Serving> {
  const layout = await loadProjectLayout(options.projectRoot);
  const claudeBin = options.claudeBin ?? 'claude';
  if (!(await findExecutable(claudeBin, options.env?.['PATH'] ?? process.env['PATH']))) {
    throw new Error(claudeNotFoundMessage(claudeBin));
  }
  if (options.notifyUrl !== undefined) checkNotifyUrl(options.notifyUrl);
  const choice = chooseDatabaseFile(layout, options.dbFile);
  const dbFile = choice.file;
  // validated before anything opens: a typo must not run a night on the wrong model
  const models = loadModelOverrides(path.dirname(dbFile));
  // the port first: a port in use must fail before a new database file is created and migrated
  const listening = await listenServer({
    ...(options.host ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
  });
  // the project before any database file is touched: one orchestrator per project, whatever its --db
  let lock;
  try {
    lock = acquireProjectLock(layout, dbFile);
  } catch (error) {
    await listening.close();
    throw error;
  }
  const projectLock = lock;
  const cleanup: (() => Promise<void> | void)[] = [() => listening.close(), () => projectLock.release()];
  const unwind = async () => {
    for (const step of cleanup.splice(0).reverse()) {
      try {
        await step();
      } catch {
        // after a storage fault some steps cannot write (releasing the owner row): the rest must still run
      }
    }
  };
  try {
    const db = openDatabase(dbFile);
    cleanup.push(() => db.close());
    // an existing database is claimed before it is migrated, so a second orchestrator never touches it
    const claimedFirst = hasOwnerTable(db);
    if (claimedFirst) acquireOwner(db);
    await migrateToLatest(db);
    if (!claimedFirst) acquireOwner(db);
    cleanup.push(() => void releaseOwner(db));
    const notices = await importHistory(db, layout, choice);
    const store = createSqliteStore(db);
    // crash recovery: the process layer ends what the dead run left (start times checked), then the store records it
    const recovery = store.recover(await endRecordedProcesses(store.leftoverProcesses()));
    // a write error, or the file deleted, replaced or made read-only under us: halt, say so once, exit
    let failing: Promise<void> | null = null;
    const storageFailed = (error: unknown) => {
      failing ??= (async () => {
        stopWatching();
        const fault = storageFault(dbFile, error);
        await runner.halt(fault);
        let message = fault.message;
        if (fault.kind === 'vanished' || fault.kind === 'replaced') {
          const copy = await rescueDatabase(db);
          message += copy ? ` The database as it was is saved in ${copy}.` : ' It could not be saved from the open connection.';
        }
        (options.onFatal ?? ((text: string) => void process.stderr.write(`${text}\n`)))(message);
      })();
    };
    const stopWatching = watchDatabaseFile(db, storageFailed);
    cleanup.push(stopWatching);
    const runner = createSprintRunner({
      projectRoot: layout.root,
      claudeBin,
      store,
      sprintStatusCopy: `${dbFile}.last-sprint-status.yaml`,
      onStoreFailure: storageFailed,
      ...(options.permissionMode ? { permissionMode: options.permissionMode } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.resultGraceMs !== undefined ? { resultGraceMs: options.resultGraceMs } : {}),
      ...(options.continueSessions !== undefined ? { continueSessions: options.continueSessions } : {}),
      ...(models.size > 0 ? { modelFor: (spec) => modelFor(models, spec) } : {}),
    });
    if (options.onEvent) runner.subscribe(options.onEvent);
    cleanup.push(() => runner.close());
    if (options.notifyUrl !== undefined) {
      const notifier = createNotifier({
        url: options.notifyUrl,
        project: layout.root,
        batchId: () => runner.batchId(),
        log: options.logNotify ?? ((message) => process.stderr.write(`sprint-runner: ${message}\n`)),
      });
      runner.subscribe(notifier.listener);
      // after the runner has stopped (pushed before it, so it runs after it): a last batch end still goes out
      cleanup.splice(cleanup.length - 1, 0, () => notifier.close());
    }
    const token = options.auth === false ? null : loadOrCreateToken(tokenFileFor(dbFile));
    const server = listening.start({
      service: createRunnerService(runner, db),
      token,
      ...(options.staticDir ? { staticDir: options.staticDir } : {}),
    });
    // closed first on the way out (close is idempotent): no request reaches a closing database
    cleanup.push(() => server.close());
    return { url: server.url, dashboardUrl: server.dashboardUrl, token, dbFile, layout, recovery, notices, runner, close: unwind };
  } catch (error) {
    await unwind();
    throw error;
  }
}
