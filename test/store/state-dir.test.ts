/**
 * The state dir under operator mistakes (issue 15 items 1, 4, 7): a second replica on the same
 * state dir is refused with one line naming the dir and the other pid, exit 1, nothing written,
 * while `keys` keeps reading; an empty, non-SQLite or page-corrupted state.sqlite3 is refused
 * (a new state only where no file exists); a state dir under /proc or on a read-only file system
 * fails at once with one line naming the cause. Real CLI processes and real SQLite files.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { Replica } from '../../src/replica.ts';
import { checkStateFile, STATE_FILE } from '../../src/store/database.ts';
import { StateDirError } from '../../src/store/state-dir.ts';
import { lockStateDir } from '../../src/store/state-dir-lock.ts';
import { spawnReplica } from '../support/replica-process.ts';
import { tempStateDir } from '../support/replica-fixture.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const dirs: string[] = [];
function dir(): string {
  const d = tempStateDir('ckr-statedir-');
  dirs.push(d);
  return d;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Runs the CLI to completion; stdout, stderr, exit code. */
function cli(args: string[], timeoutMs = 20_000): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, ['src/cli.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: timeoutMs });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

/**
 * Name, size and SHA-256 of every file in a directory: "nothing written" compares these. The lock
 * file is only stat'ed (size, mtime): opening and closing it here would drop this process's POSIX
 * lock on it (closing any descriptor of a file releases all of a process's locks on it).
 */
function snapshot(d: string): string {
  return readdirSync(d)
    .sort()
    .map((f) => {
      const st = statSync(join(d, f));
      const content = f === 'replica.lock' ? `mtime ${st.mtimeMs}` : createHash('sha256').update(readFileSync(join(d, f))).digest('hex');
      return `${f} ${st.size} ${content}`;
    })
    .join('\n');
}

test('a second replica on the same state dir is refused with one line naming the dir and the pid, exit 1, nothing written', async () => {
  // The lock held by this process over a closed state: nobody writes meanwhile, so any change
  // to the files would be the refused replica's.
  const d = dir();
  await Replica.open({ stateDir: d }).close();
  const lock = lockStateDir(d);
  try {
    const before = snapshot(d);
    const second = cli(['start', '--port', '0', '--state-dir', d]);
    assert.equal(second.status, 1);
    assert.equal(second.stdout, '', 'no listening line');
    assert.equal(
      second.stderr,
      `chainkey-replica: state dir ${d} is in use by another chainkey-replica (process ${process.pid}); stop it first or choose another --state-dir\n`,
    );
    assert.equal(snapshot(d), before, 'the refused replica wrote nothing');
  } finally {
    lock.release();
  }
});

test('next to a running replica: a second start is refused naming its pid; keys still reads', async () => {
  const d = dir();
  const { child } = await spawnReplica(d);
  try {
    const second = cli(['start', '--port', '0', '--state-dir', d]);
    assert.equal(second.status, 1);
    assert.equal(
      second.stderr,
      `chainkey-replica: state dir ${d} is in use by another chainkey-replica (process ${child.pid}); stop it first or choose another --state-dir\n`,
    );
    const keys = cli(['keys', '--state-dir', d, '--json']);
    assert.equal(keys.status, 0, keys.stderr);
    assert.equal((JSON.parse(keys.stdout) as unknown[]).length, 12);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
  // The lock goes with the process: the state dir is usable again at once.
  await Replica.open({ stateDir: d }).close();
});

test('in one process too, a second open of a state dir is refused until the first closes', async () => {
  const d = dir();
  const first = Replica.open({ stateDir: d });
  assert.throws(() => Replica.open({ stateDir: d }), (e: unknown) => e instanceof StateDirError && /in use by another chainkey-replica \(this process/.test(e.message));
  await first.close();
  await (Replica.open({ stateDir: d })).close();
});

test('an empty or non-SQLite state.sqlite3 is refused, not replaced by a new replica', () => {
  for (const [what, bytes] of [['empty', Buffer.alloc(0)], ['not SQLite', Buffer.from('hello, this is not a database'.repeat(10))]] as const) {
    const d = dir();
    writeFileSync(join(d, STATE_FILE), bytes);
    const r = cli(['start', '--port', '0', '--state-dir', d]);
    assert.equal(r.status, 1, what);
    assert.equal(r.stderr.split('\n').length, 2, `one line: ${r.stderr}`);
    assert.match(r.stderr, what === 'empty' ? /is empty \(0 bytes\): refusing to start/ : /is not a SQLite database/);
    assert.deepEqual(readFileSync(join(d, STATE_FILE)), bytes, 'left as it was');
    assert.deepEqual(readdirSync(d).filter((f) => f.startsWith(STATE_FILE)), [STATE_FILE], 'no WAL or new state created');
  }
});

test('a state.sqlite3 with any one page overwritten by random bytes fails the start check; the CLI refuses it', async () => {
  const d = dir();
  await (Replica.open({ stateDir: d })).close();
  const file = join(d, STATE_FILE);
  const pages = statSync(file).size / 4096;
  assert.ok(pages >= 10, `a real state (${pages} pages)`);
  const copy = join(dir(), 'copy.sqlite3');
  for (let p = 0; p < pages; p++) {
    copyFileSync(file, copy);
    const fd = openSync(copy, 'r+');
    writeSync(fd, randomBytes(4096), 0, 4096, p * 4096);
    closeSync(fd);
    assert.throws(() => checkStateFile(copy), /is corrupt \(SQLite quick_check: |file is not a database/, `page ${p + 1}`);
  }
  const good = snapshot(d);
  checkStateFile(file); // the untouched file passes
  // One corrupted page through the CLI: one line, exit 1, the file untouched.
  const fd = openSync(file, 'r+');
  writeSync(fd, randomBytes(4096), 0, 4096, 4096 * Math.floor(pages / 2));
  closeSync(fd);
  const before = snapshot(d);
  assert.notEqual(before, good);
  const r = cli(['start', '--port', '0', '--state-dir', d]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^chainkey-replica: state file .*state\.sqlite3 is corrupt \(SQLite quick_check: .*\): refusing to start; restore it from a backup, or remove it to start a new replica\n$/);
  assert.equal(snapshot(d), before, 'nothing written into the corrupt state');
});

test('a state dir under /proc fails at once with one line (no recursive-mkdir hang)', () => {
  const r = cli(['start', '--port', '0', '--state-dir', `/proc/ckr-${process.pid}/state`], 15_000);
  assert.equal(r.status, 1, 'exits (a hang would be killed by the timeout: status null)');
  assert.equal(
    r.stderr,
    `chainkey-replica: state dir /proc/ckr-${process.pid}/state: cannot create /proc/ckr-${process.pid}: the file system at /proc does not allow creating directories (ENOENT)\n`,
  );
});

test('a state dir on a read-only file system names EROFS', () => {
  // A read-only tmpfs in a private mount namespace: a user namespace where the kernel allows one
  // (`unshare -rm`), else a plain mount namespace (root, as on this project's machines and CI).
  const mnt = dir();
  const unshare = [['-rm'], ['-m']].find((flags) =>
    spawnSync('unshare', [...flags, 'sh', '-c', `mount -t tmpfs -o ro tmpfs ${mnt}`], { encoding: 'utf8' }).status === 0,
  );
  assert.ok(unshare, 'a private read-only mount is needed for this test: neither `unshare -rm` nor `unshare -m` could mount a tmpfs');
  const script = `mount -t tmpfs -o ro tmpfs ${mnt} && exec "${process.execPath}" src/cli.ts start --port 0 --state-dir ${mnt}/new/state`;
  const r = spawnSync('unshare', [...unshare, 'sh', '-c', script], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 1);
  assert.equal(r.stderr, `chainkey-replica: state dir ${mnt}/new/state: cannot create ${mnt}/new: read-only file system (EROFS)\n`);
  // An existing dir on a read-only mount: not writable, EROFS named.
  const r2 = spawnSync('unshare', [...unshare, 'sh', '-c', `mount -t tmpfs -o ro tmpfs ${mnt} && exec "${process.execPath}" src/cli.ts start --port 0 --state-dir ${mnt}`], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
  assert.equal(r2.status, 1);
  assert.equal(r2.stderr, `chainkey-replica: state dir ${mnt} is not writable: read-only file system (EROFS)\n`);
});

