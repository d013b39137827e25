// Synchronous queries for the runtime's hot path: Kysely builds each query, a cached better-sqlite3 statement runs it.
import type BetterSqlite3 from 'better-sqlite3';
import type { Compilable } from 'kysely';
import type { SprintDb } from './handle.js';

/*
 * Why synchronous: the runtime records a step and changes state in the same tick, and a better-sqlite3
 * transaction cannot span an await. Callers group writes with `db.sqlite.transaction(() => { ... })()`;
 * the table writes that write several rows (commands.ts, tasks.ts, processes.ts) go through `atomically`:
 * a transaction of their own, or a part of the caller's when one is open, so they stay all-or-nothing either way.
 */

/** Distinct SQL texts are few (only `IN (...)` lists vary), but a cap keeps a long run from growing it. */
const STATEMENT_CACHE_LIMIT = 500;
const statementCaches = new WeakMap<BetterSqlite3.Database, Map<string, BetterSqlite3.Statement>>();

/** This connection's prepared statement for the SQL text, kept in a bounded cache. */
export function statement(db: SprintDb, sql: string): BetterSqlite3.Statement {
  let cache = statementCaches.get(db.sqlite);
  if (cache === undefined) {
    cache = new Map();
    statementCaches.set(db.sqlite, cache);
  }
  let stmt = cache.get(sql);
  if (stmt === undefined) {
    stmt = db.sqlite.prepare(sql);
    if (cache.size >= STATEMENT_CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(sql, stmt);
  }
  return stmt;
}

/** better-sqlite3 binds only numbers, strings, bigints, buffers and null. */
function bindable(parameters: readonly unknown[]): unknown[] {
  return parameters.map((p) => {
    if (p === undefined) return null;
    if (typeof p === 'boolean') return p ? 1 : 0;
    if (p instanceof Date) return p.toISOString();
    return p;
  });
}

/** Runs a query that returns no rows. */
export function runSync(db: SprintDb, query: Compilable<unknown>): BetterSqlite3.RunResult {
  const compiled = query.compile();
  return statement(db, compiled.sql).run(...bindable(compiled.parameters));
}

export function allSync<R>(db: SprintDb, query: Compilable<R>): R[] {
  const compiled = query.compile();
  return statement(db, compiled.sql).all(...bindable(compiled.parameters)) as R[];
}

export function getSync<R>(db: SprintDb, query: Compilable<R>): R | undefined {
  const compiled = query.compile();
  return statement(db, compiled.sql).get(...bindable(compiled.parameters)) as R | undefined;
}

/** Runs fn in a transaction of its own, or as part of the caller's when one is open. */
export function atomically<T>(db: SprintDb, fn: () => T): T {
  // inside the caller's transaction (the runtime's commit) an exception rolls the whole of it back anyway;
  // a savepoint per call would only cost a new transaction function each time
  if (db.sqlite.inTransaction) return fn();
  return db.sqlite.transaction(fn)();
}

export const nowIso = (): string => new Date().toISOString();
/** SQLite allows many more bound values, but short lists keep statements reusable and plans cheap. */
const CHUNK = 500;

export function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}
