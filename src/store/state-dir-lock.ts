/**
 * One replica per state dir, by SQLite's own locking: a replica holds an exclusive lock on
 * `<stateDir>/replica.lock`, a tiny SQLite database opened with `locking_mode = EXCLUSIVE`, for
 * as long as it runs. SQLite takes POSIX advisory locks, which the kernel drops when the process
 * ends in any way (kill -9 included), so there is never a stale lock to clean up; within one
 * process SQLite refuses a second connection the same way.
 *
 * The lock is on a separate file, not on `state.sqlite3`: an exclusive lock on the WAL database
 * would also shut out readers, and `chainkey-replica keys --state-dir DIR` reads the state while
 * the replica runs. The lock file holds no data (nothing is written to it after creation).
 * Nothing else in the process may open the lock file: closing any descriptor of a file drops all
 * of the process's POSIX locks on it.
 */
import Database from 'better-sqlite3';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { StateDirError } from './state-dir.ts';

/** The lock file's name inside the state dir. */
export const LOCK_FILE = 'replica.lock';

/** A held state-dir lock; `release` (or the process ending) frees it. */
export interface StateDirLock {
  release(): void;
}

/**
 * Takes the state dir's lock without waiting.
 * @param stateDir an existing, writable directory (see ensureStateDir).
 * @throws StateDirError when another replica (another process, or this one) holds it; the
 *   message names the state dir and, where /proc/locks tells, the other process id.
 */
export function lockStateDir(stateDir: string): StateDirLock {
  const path = join(stateDir, LOCK_FILE);
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { timeout: 0 });
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = MEMORY');
    // BEGIN EXCLUSIVE takes the exclusive lock; in EXCLUSIVE locking mode COMMIT keeps it.
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
  } catch (e) {
    db?.close();
    if ((e as { code?: string }).code === 'SQLITE_BUSY') {
      const pid = lockHolderPid(path);
      const who = pid === undefined ? 'another process' : pid === process.pid ? `this process (pid ${pid})` : `process ${pid}`;
      throw new StateDirError(
        `state dir ${stateDir} is in use by another chainkey-replica (${who}); stop it first or choose another --state-dir`,
      );
    }
    throw new StateDirError(`state dir ${stateDir}: cannot take the lock on ${path}: ${(e as Error).message}`);
  }
  const held = db;
  return {
    release: () => {
      if (held.open) held.close();
    },
  };
}

/**
 * The process holding a POSIX lock on `path`, from Linux's /proc/locks (fields: ordinal, POSIX,
 * ADVISORY, READ|WRITE, pid, major:minor:inode, start, end); undefined where that is unavailable.
 */
function lockHolderPid(path: string): number | undefined {
  try {
    const ino = statSync(path).ino;
    for (const line of readFileSync('/proc/locks', 'utf8').split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f[1] !== 'POSIX' || f.includes('->')) continue;
      if (f[5]?.split(':')[2] === String(ino)) return Number(f[4]);
    }
  } catch {
    // not Linux, or /proc not mounted: the message goes without the pid
  }
  return undefined;
}
