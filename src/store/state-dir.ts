/**
 * The state dir as the operator gives it: created if missing (one directory at a time, so a path
 * under a file system that refuses directories, e.g. /proc, fails at once instead of looping the
 * way Node's recursive mkdir does), checked for writability, and its `state.sqlite3` checked
 * before SQLite opens it: a missing file means a new replica; an empty or non-SQLite file is
 * refused rather than silently replaced by a brand-new state (a new root key, every canister gone).
 *
 * Every refusal is one `StateDirError` whose message is the line the CLI prints.
 */
import { accessSync, closeSync, constants, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** An unusable state dir or state file; the message is one line naming the path and the cause. */
export class StateDirError extends Error {
  override name = 'StateDirError';
}

/** The 16-byte header every SQLite 3 database file starts with (sqlite.org/fileformat.html §1.3). */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** Words for the errno codes an operator meets when pointing `--state-dir` somewhere odd. */
function cause(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'EROFS': return 'read-only file system (EROFS)';
    case 'EACCES': return 'permission denied (EACCES)';
    case 'EPERM': return 'operation not permitted (EPERM)';
    case 'ENOSPC': return 'no space left on device (ENOSPC)';
    case 'ENOTDIR': return 'a path component is not a directory (ENOTDIR)';
    case 'ENAMETOOLONG': return 'path too long (ENAMETOOLONG)';
    case 'ELOOP': return 'too many symbolic links (ELOOP)';
    default: return `${e.code ?? 'error'}: ${e.message}`;
  }
}

/**
 * Makes sure `stateDir` exists and is a writable directory, creating missing components one at a
 * time from the nearest existing ancestor down.
 * @param stateDir the `--state-dir` as given (relative to the working directory or absolute).
 * @throws StateDirError when a component cannot be created (its errno in words: EROFS, EACCES,
 *   or "does not allow creating directories" where the parent exists but mkdir says ENOENT, as in
 *   /proc), when the path is not a directory, or when the directory is not writable.
 */
export function ensureStateDir(stateDir: string): void {
  const abs = resolve(stateDir);
  const missing: string[] = [];
  for (let p = abs; ; ) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code !== 'ENOENT') throw new StateDirError(`state dir ${stateDir}: cannot inspect ${p}: ${cause(err)}`);
      missing.push(p);
      const parent = dirname(p);
      if (parent === p) break;
      p = parent;
      continue;
    }
    if (!isDir) throw new StateDirError(`state dir ${stateDir}: ${p} exists and is not a directory`);
    break;
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EEXIST' && statSync(p).isDirectory()) continue;
      if (err.code === 'ENOENT') {
        // The parent exists (created or found above), yet mkdir says ENOENT: a pseudo file
        // system such as /proc or /sys that has no room for directories.
        throw new StateDirError(
          `state dir ${stateDir}: cannot create ${p}: the file system at ${dirname(p)} does not allow creating directories (ENOENT)`,
        );
      }
      throw new StateDirError(`state dir ${stateDir}: cannot create ${p}: ${cause(err)}`);
    }
  }
  try {
    accessSync(abs, constants.W_OK);
  } catch (e) {
    throw new StateDirError(`state dir ${stateDir} is not writable: ${cause(e as NodeJS.ErrnoException)}`);
  }
}

/**
 * What is at the state file's path before SQLite opens it.
 * @returns `new` when there is no file (a new replica will be created), `existing` for a file that
 *   starts with the SQLite header.
 * @throws StateDirError for an empty file, a file shorter than the 100-byte database header, a
 *   file without the SQLite header, or a path that is not a regular file.
 */
export function inspectStateFile(path: string): 'new' | 'existing' {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new StateDirError(`state file ${path} is not a regular file; refusing to start`);
    size = st.size;
  } catch (e) {
    if (e instanceof StateDirError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'new';
    throw new StateDirError(`state file ${path}: ${cause(e as NodeJS.ErrnoException)}`);
  }
  if (size === 0) {
    throw new StateDirError(
      `state file ${path} is empty (0 bytes): refusing to start rather than create a new replica over it; ` +
        'restore it from a backup, or remove it to start a new replica',
    );
  }
  const head = Buffer.alloc(100);
  const fd = openSync(path, 'r');
  let got: number;
  try {
    got = readSync(fd, head, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  if (got < 100 || !head.subarray(0, 16).equals(SQLITE_HEADER)) {
    throw new StateDirError(
      `state file ${path} is not a SQLite database (${got < 100 ? `${size} bytes, shorter than a database header` : 'bad header'}): ` +
        'refusing to start; restore it from a backup, or remove it to start a new replica',
    );
  }
  return 'existing';
}
