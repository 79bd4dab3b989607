// Measures PRAGMA quick_check vs integrity_check vs header-only on a state-like database.
import Database from 'better-sqlite3';
import { migrations } from '../src/store/schema.ts';
import { rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
const mb = Number(process.argv[2] ?? 50);
const path = `/tmp/ck15/big-${mb}.sqlite3`;
rmSync(path, { force: true });
const db = new Database(path);
db.pragma('journal_mode = WAL');
for (const m of migrations) db.exec(m);
const ins = db.prepare('INSERT INTO canister_pages VALUES (?, 0, ?, ?)');
const ing = db.prepare("INSERT INTO ingress_history VALUES (?, ?, ?, 'm', 'replied', ?, NULL, NULL, NULL, ?, ?)");
const pages = Math.round(mb * 1024 * 1024 / 4096 * 0.9);
db.transaction(() => {
  for (let i = 0; i < pages; i++) ins.run(Buffer.from([i % 50]), i, randomBytes(4096));
  for (let i = 0; i < pages / 2; i++) ing.run(randomBytes(32), randomBytes(29), randomBytes(10), randomBytes(100), i, i);
})();
db.close();
const size = statSync(path).size;
function time(label: string, f: () => void) { const ts: number[] = []; for (let r = 0; r < 5; r++) { const t = performance.now(); f(); ts.push(performance.now() - t); } ts.sort((a, b) => a - b); console.log(`${label}: median ${ts[2]!.toFixed(1)} ms`); return ts[2]!; }
const open = time('open+select 1 (anchor)', () => { const d = new Database(path, { readonly: true }); d.prepare('SELECT count(*) FROM meta').get(); d.close(); });
const q = time('quick_check', () => { const d = new Database(path, { readonly: true }); d.pragma('quick_check'); d.close(); });
const ic = time('integrity_check', () => { const d = new Database(path, { readonly: true }); d.pragma('integrity_check'); d.close(); });
console.log(JSON.stringify({ size_mb: +(size / 2 ** 20).toFixed(1), open_ms: open, quick_check_ms: q, integrity_check_ms: ic, ms_per_mb_quick: +(q / (size / 2 ** 20)).toFixed(2), ms_per_mb_integrity: +(ic / (size / 2 ** 20)).toFixed(2) }));
