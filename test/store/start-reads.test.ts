/**
 * What a start reads of an existing state file. The start check (`PRAGMA quick_check`,
 * store/database.ts) is skipped only for a file this replica closed cleanly and nobody changed
 * since: a clean close records the file's stat; a rewrite of a page (even with the same bytes), a
 * process that ended without closing (WAL left behind) and a close while another connection kept
 * the WAL all make the next open check again, and a corrupted page is then refused. The ingress
 * entries a start loads (not finished) come through their own index, not a scan of the history.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CLEAN_CLOSE_FILE, STATE_FILE, stateFileNeedsCheck } from '../../src/store/database.ts';
import { StateStore } from '../../src/store/state-store.ts';
import { StateDirError } from '../../src/store/state-dir.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'ckr-clean-close-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Rewrites page `p` (4 KiB) of the state file with `bytes`, or with its own content. */
function rewritePage(dir: string, p: number, bytes?: Uint8Array): void {
  const fd = openSync(join(dir, STATE_FILE), 'r+');
  try {
    const page = new Uint8Array(4096);
    readSync(fd, page, 0, 4096, p * 4096);
    writeSync(fd, bytes ?? page, 0, 4096, p * 4096);
  } finally {
    closeSync(fd);
  }
}

test('a clean close records the state file; an unchanged file skips the check, a rewritten page brings it back', () => {
  withDir((dir) => {
    const store = StateStore.open(dir);
    store.meta.getOrCreate('k', () => new Uint8Array([1]));
    assert.equal(stateFileNeedsCheck(dir), true, 'open: nothing recorded for this run yet');
    store.close();
    assert.ok(existsSync(join(dir, CLEAN_CLOSE_FILE)));
    assert.equal(stateFileNeedsCheck(dir), false);
    StateStore.open(dir).close();
    assert.equal(stateFileNeedsCheck(dir), false, 'reopened and closed cleanly again');
    rewritePage(dir, 1);
    assert.equal(stateFileNeedsCheck(dir), true, 'same bytes rewritten: mtime and ctime moved');
    rewritePage(dir, 1, new Uint8Array(4096).fill(0xa5));
    assert.throws(() => StateStore.open(dir), (e: unknown) => e instanceof StateDirError && /is corrupt \(SQLite quick_check: /.test((e as Error).message));
  });
});

test('a process ending without closing, or a close while another connection holds the WAL, is checked next time', () => {
  withDir((dir) => {
    StateStore.open(dir).close();
    assert.equal(stateFileNeedsCheck(dir), false);
    const script = `import { StateStore } from './src/store/state-store.ts';
      const s = StateStore.open(${JSON.stringify(dir)});
      s.transaction(() => s.meta.getOrCreate('crash', () => new Uint8Array([2])));
      process.exit(0);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(stateFileNeedsCheck(dir), true, 'ended without close: WAL left');
    const store = StateStore.open(dir);
    assert.deepEqual([...store.meta.get('crash')!], [2], 'the committed write survived');
    const reader = new Database(join(dir, STATE_FILE), { readonly: true });
    try {
      reader.prepare('SELECT count(*) FROM meta').get();
      store.transaction(() => store.meta.getOrCreate('while-read', () => new Uint8Array([3])));
      store.close();
      assert.equal(stateFileNeedsCheck(dir), true, 'the reader kept the WAL: nothing recorded');
    } finally {
      reader.close();
    }
  });
});

test('a start reads the unfinished ingress entries through their index (migration 10), and only those', () => {
  withDir((dir) => {
    const store = StateStore.open(dir);
    try {
      const statuses = ['received', 'processing', 'replied', 'rejected', 'done'] as const;
      store.transaction(() => {
        for (let i = 0; i < 50; i++) {
          store.ingress.save({ requestId: new Uint8Array(32).fill(i), sender: new Uint8Array([4]), canisterId: new Uint8Array(10), methodName: 'm', status: statuses[i % 5]!, expiryNanos: 1n, updatedNanos: 1n });
        }
      });
      assert.deepEqual(store.ingress.unfinished().map((e) => e.status).sort(), [...Array<string>(10).fill('processing'), ...Array<string>(10).fill('received')]);
      const plan = store.db.prepare("EXPLAIN QUERY PLAN SELECT * FROM ingress_history WHERE status IN ('received', 'processing')").all() as { detail: string }[];
      assert.match(plan.map((p) => p.detail).join('; '), /USING INDEX ingress_unfinished/);
    } finally {
      store.close();
    }
  });
});
