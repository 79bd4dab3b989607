/**
 * What a start-time check of state.sqlite3 costs: `PRAGMA quick_check` against
 * `PRAGMA integrity_check`, on a state-shaped database (4 KiB canister pages and ingress history
 * rows with their index) of the given size, warm OS cache. Anchor in the same run: opening the
 * file and reading one row. The replica runs quick_check at every start (store/database.ts).
 *
 * Usage: `node bench/state-check-cost.ts [MiB ...]` (default 20 200); prints one JSON line per size.
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrations } from '../src/store/schema.ts';

function median(f: () => void, runs = 5): number {
  const ts: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    f();
    ts.push(performance.now() - t);
  }
  return ts.sort((a, b) => a - b)[runs >> 1]!;
}

const dir = mkdtempSync(join(tmpdir(), 'ckr-check-cost-'));
try {
  for (const mib of (process.argv.length > 2 ? process.argv.slice(2) : ['20', '200']).map(Number)) {
    const path = join(dir, `state-${mib}.sqlite3`);
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    for (const m of migrations) db.exec(m);
    const page = db.prepare('INSERT INTO canister_pages VALUES (?, 0, ?, ?)');
    const ingress = db.prepare("INSERT INTO ingress_history VALUES (?, ?, ?, 'm', 'replied', ?, NULL, NULL, NULL, ?, ?)");
    const pages = Math.round(((mib * 2 ** 20) / 4096) * 0.9);
    db.transaction(() => {
      for (let i = 0; i < pages; i++) page.run(Buffer.from([i % 50]), i, randomBytes(4096));
      for (let i = 0; i < pages / 2; i++) ingress.run(randomBytes(32), randomBytes(29), randomBytes(10), randomBytes(100), i, i);
    })();
    db.close();
    const sizeMib = statSync(path).size / 2 ** 20;
    const withDb = (f: (d: Database.Database) => void) => () => {
      const d = new Database(path, { readonly: true });
      f(d);
      d.close();
    };
    const open = median(withDb((d) => d.prepare('SELECT count(*) FROM meta').get()));
    const quick = median(withDb((d) => d.pragma('quick_check')));
    const integrity = median(withDb((d) => d.pragma('integrity_check')));
    process.stdout.write(
      JSON.stringify({
        size_mib: +sizeMib.toFixed(1),
        open_read_ms: +open.toFixed(2),
        quick_check_ms: +quick.toFixed(1),
        integrity_check_ms: +integrity.toFixed(1),
        quick_check_ms_per_mib: +(quick / sizeMib).toFixed(2),
        integrity_check_ms_per_mib: +(integrity / sizeMib).toFixed(2),
        ratio_integrity_over_quick: +(integrity / quick).toFixed(2),
      }) + '\n',
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
