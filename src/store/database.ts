/**
 * The replica's one SQLite file (better-sqlite3): opening it under the state dir, WAL journal,
 * and schema migrations. Only `store/` touches SQLite; upper layers get repositories.
 *
 * Durability: WAL with synchronous=NORMAL. A committed transaction is in the WAL file before
 * `commit` returns, so it survives the process being killed (kill -9); only an OS crash or power
 * loss can lose the last transactions, which `synchronous: 'full'` prevents at ~130 µs per commit.
 */
import Database from 'better-sqlite3';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { migrations } from './schema.ts';
import { lockStateDir, type StateDirLock } from './state-dir-lock.ts';
import { ensureStateDir, inspectStateFile, StateDirError } from './state-dir.ts';

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
 * The file, next to the state file, recording the state file's size, mtime, ctime and inode as
 * the replica left it at its last clean close, with no WAL left over (see {@link stateFileNeedsCheck}).
 */
export const CLEAN_CLOSE_FILE = 'state.sqlite3.closed';

/** Size, mtime, ctime (ns) and inode of a file, as one line. */
function statLine(path: string): string {
  const s = statSync(path, { bigint: true });
  return `${s.size} ${s.mtimeNs} ${s.ctimeNs} ${s.ino}\n`;
}

/**
 * Whether the state file must pass `quick_check` before it is opened: always, unless this replica
 * closed it cleanly (WAL checkpointed and gone) and it is unchanged since (same size, mtime, ctime
 * and inode as recorded then: any write, copy, replacement or `touch` changes one of them). A
 * 24 MiB state (100,000 history entries) took 70–280 ms to check, most of a restart's ready time;
 * what the check would still catch after a clean close is corruption below the file system.
 */
export function stateFileNeedsCheck(stateDir: string): boolean {
  const path = join(stateDir, STATE_FILE);
  try {
    if (existsSync(`${path}-wal`)) return true;
    return readFileSync(join(stateDir, CLEAN_CLOSE_FILE), 'utf8') !== statLine(path);
  } catch {
    return true;
  }
}

/**
 * Closes the database; where that checkpointed the WAL and removed it (no other connection
 * open, e.g. `chainkey-replica keys`), records the state file's stat for {@link stateFileNeedsCheck}.
 */
function closeAndRecord(db: Db, stateDir: string): void {
  db.close();
  const path = join(stateDir, STATE_FILE);
  try {
    if (!existsSync(`${path}-wal`)) writeFileSync(join(stateDir, CLEAN_CLOSE_FILE), statLine(path));
  } catch {
    /* an unwritable dir only costs the check at the next start */
  }
}

/**
 * Opens `<stateDir>/state.sqlite3` for the one replica that writes it: creates the dir if missing,
 * takes the state dir's lock (state-dir-lock.ts), refuses a state file that is empty, not SQLite,
 * or fails `PRAGMA quick_check` (see {@link checkStateFile}; skipped for a file unchanged since a
 * clean close: {@link stateFileNeedsCheck}), creates a new database only where no file exists, and
 * brings the schema up to date. The lock is held until `release` is called; `close` closes the
 * database and records a clean close.
 * @param stateDir directory for the replica's state; created if missing. {@link IN_MEMORY} keeps
 *   the database in memory (PocketIC instances: nothing survives the process, no lock).
 * @throws StateDirError for an unusable dir, a state dir in use by another replica, or a corrupt
 *   state file (nothing is written in those cases); Error if the database was written by a newer
 *   schema than this code knows.
 */
export function openDatabase(stateDir: string, options: OpenDatabaseOptions = {}): { db: Db; lock?: StateDirLock; close: () => void } {
  if (stateDir === IN_MEMORY) {
    const db = new Database(IN_MEMORY);
    db.pragma('foreign_keys = ON');
    migrate(db);
    return { db, close: () => db.close() };
  }
  ensureStateDir(stateDir);
  const lock = lockStateDir(stateDir);
  try {
    const path = join(stateDir, STATE_FILE);
    if (inspectStateFile(path) === 'existing' && stateFileNeedsCheck(stateDir)) checkStateFile(path);
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      migrate(db);
    } catch (e) {
      db.close();
      throw e;
    }
    return { db, lock, close: () => closeAndRecord(db, stateDir) };
  } catch (e) {
    lock.release();
    throw e;
  }
}

/**
 * Opens an existing state file read-only, without the lock (a running replica may hold it): for
 * `chainkey-replica keys`. Nothing is created or migrated.
 * @throws StateDirError when there is no state file or it is not a SQLite database.
 */
export function openDatabaseReadOnly(stateDir: string): Db {
  const path = join(stateDir, STATE_FILE);
  if (inspectStateFile(path) === 'new') throw new StateDirError(`state dir ${stateDir} holds no ${STATE_FILE}`);
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return db;
}

/**
 * Refuses a state file that fails SQLite's `PRAGMA quick_check` (b-tree pages, cells, overflow
 * chains and the freelist; not index-vs-table agreement, which `integrity_check` adds). Chosen by
 * measurement (`node bench/state-check-cost.ts`): about 0.4 ms per MiB of state on a warm cache
 * against 0.7 ms for integrity_check, i.e. ~45 ms for a 100 MiB state beside a ~0.9 s ready time.
 * Runs on a read-only connection, so a corrupt file is not checkpointed into or otherwise written.
 * @throws StateDirError naming the file and SQLite's first complaint.
 */
export function checkStateFile(path: string): void {
  let problems: string[];
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      problems = (db.pragma('quick_check(5)') as { quick_check: string }[]).map((r) =>
        // SQLite prefixes the first complaint with "*** in database main ***\n"; one line wanted.
        r.quick_check.replace(/^\*\*\* in database \w+ \*\*\*\s*/, '').replace(/\s*\n\s*/g, '; '),
      );
    } finally {
      db.close();
    }
  } catch (e) {
    problems = [(e as Error).message];
  }
  if (problems.length !== 1 || problems[0] !== 'ok') {
    throw new StateDirError(
      `state file ${path} is corrupt (SQLite quick_check: ${problems[0]}${problems.length > 1 ? `, and ${problems.length - 1} more` : ''}): ` +
        'refusing to start; restore it from a backup, or remove it to start a new replica',
    );
  }
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
