/**
 * The replica's one SQLite file (better-sqlite3): opening it under the state dir, WAL journal,
 * and schema migrations. Only `store/` touches SQLite; upper layers get repositories.
 *
 * Durability: WAL with synchronous=NORMAL. A committed transaction is in the WAL file before
 * `commit` returns, so it survives the process being killed (kill -9); only an OS crash or power
 * loss can lose the last transactions, which `synchronous: 'full'` prevents at ~130 µs per commit.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { migrations } from './schema.ts';

/** A handle on the replica's SQLite database. */
export type Db = Database.Database;

/** Options for {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** `normal` (default): survives kill -9. `full`: also survives power loss (fsync per commit). */
  synchronous?: 'normal' | 'full';
}

/** The file name of the state database inside the state dir. */
export const STATE_FILE = 'state.sqlite3';

/** A `stateDir` naming no directory: the state lives in memory and is gone when closed. */
export const IN_MEMORY = ':memory:';

/**
 * Opens (creating if needed) `<stateDir>/state.sqlite3` and brings its schema up to date.
 * @param stateDir directory for the replica's state; created if missing. {@link IN_MEMORY} keeps
 *   the database in memory (PocketIC instances: nothing survives the process).
 * @throws Error if the database was written by a newer schema than this code knows.
 */
export function openDatabase(stateDir: string, options: OpenDatabaseOptions = {}): Db {
  if (stateDir === IN_MEMORY) {
    const db = new Database(IN_MEMORY);
    db.pragma('foreign_keys = ON');
    migrate(db);
    return db;
  }
  mkdirSync(stateDir, { recursive: true });
  const db = new Database(join(stateDir, STATE_FILE));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

/**
 * Applies every migration newer than the database's `user_version`, each in its own transaction.
 * @throws Error if the database's version is newer than the newest migration.
 */
export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(
      `state database schema version ${current} is newer than this chainkey-replica supports ` +
        `(${migrations.length}); use a newer chainkey-replica or a new --state-dir`,
    );
  }
  for (let v = current; v < migrations.length; v++) {
    const sql = migrations[v]!;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
