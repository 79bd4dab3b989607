/**
 * Test support: compiles Motoko to IC canister Wasm offline with the `motoko` npm package.
 *
 * - The compiler runs in a child process (test/support/motoko-compile-worker.mjs), because
 *   it takes ~1 GB of heap and 1–5 s per compile; the test process stays small.
 * - Outputs are cached on disk under `<repo>/.cache/motoko/<sha256>/` keyed by the motoko
 *   package version, the mo:core version, the persistence mode, the public metadata and
 *   every source text. Entries are written to a temp dir and renamed into place, so test
 *   files running concurrently can share the cache.
 * - `compileMotokoBatch` compiles all cache misses in one child process per persistence mode
 *   (moc.js can't switch modes in one process), so a test file with several canisters pays
 *   the compiler start-up (~0.5–1 s) once per mode.
 *
 * Set MOTOKO_CACHE_DIR to use another cache directory, MOTOKO_NO_CACHE=1 to bypass it, and
 * MOTOKO_DEBUG=1 to log compile times to stderr.
 */
import { fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, normalize, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** `enhanced` (default): enhanced orthogonal persistence, wasm64. `classic`: wasm32, stable memory. */
export type MotokoPersistence = 'enhanced' | 'classic';

/** A multi-file program: `files` maps relative paths (e.g. `Main.mo`, `lib/Util.mo`) to source text. */
export interface MotokoProgram {
  entry: string;
  files: Record<string, string>;
}

/** A single source text (compiled as `Main.mo`), or a multi-file program. */
export type MotokoSource = string | MotokoProgram;

export interface MotokoCompileOptions {
  /** Default `enhanced`. */
  persistence?: MotokoPersistence;
  /** Metadata sections to make `icp:public` (e.g. `['candid:service']`); default none (all private). */
  publicMetadata?: string[];
}

export interface MotokoOutput {
  /** The canister module. */
  wasm: Uint8Array;
  /** The Candid service (`.did`). */
  candid: string;
  /** The stable signature (`.most`), when moc produced one. */
  stable?: string;
}

export interface MotokoJob {
  source: MotokoSource;
  options?: MotokoCompileOptions;
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORKER = fileURLToPath(new URL('./motoko-compile-worker.mjs', import.meta.url));
/** Bump when the cache layout or the worker's compile settings change. */
const CACHE_FORMAT = 2;

/** The `test/fixtures/motoko` directory. */
export const MOTOKO_FIXTURES_DIR = join(REPO_ROOT, 'test', 'fixtures', 'motoko');

let versions: { motoko: string; core: string } | undefined;
function toolVersions(): { motoko: string; core: string } {
  if (!versions) {
    const pkg = JSON.parse(readFileSync(require.resolve('motoko/package.json'), 'utf8')) as { version: string };
    // core.json is ~1 MB; only its version matters here (it ships inside the motoko package).
    const coreText = readFileSync(require.resolve('motoko/packages/latest/core.json'), 'utf8');
    const core = /"version"\s*:\s*"([^"]*)"/.exec(coreText.slice(0, 4096))?.[1] ?? sha256(coreText);
    versions = { motoko: pkg.version, core };
  }
  return versions;
}

function cacheDir(): string {
  return process.env['MOTOKO_CACHE_DIR'] ?? join(REPO_ROOT, '.cache', 'motoko');
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

interface NormalizedJob {
  key: string;
  entry: string;
  files: Record<string, string>;
  persistence: MotokoPersistence;
  publicMetadata: string[];
}

function normalizeJob(job: MotokoJob): NormalizedJob {
  const program: MotokoProgram = typeof job.source === 'string' ? { entry: 'Main.mo', files: { 'Main.mo': job.source } } : job.source;
  if (!(program.entry in program.files)) throw new Error(`compileMotoko: entry ${program.entry} is not in files (${Object.keys(program.files).join(', ')})`);
  for (const p of Object.keys(program.files)) {
    if (p.startsWith('/') || p.split('/').includes('..')) throw new Error(`compileMotoko: file path must be relative and inside the program: ${p}`);
  }
  const persistence = job.options?.persistence ?? 'enhanced';
  if (persistence !== 'enhanced' && persistence !== 'classic') throw new Error(`compileMotoko: unknown persistence ${String(persistence)}`);
  const publicMetadata = [...(job.options?.publicMetadata ?? [])].sort();
  const files = Object.fromEntries(Object.entries(program.files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const v = toolVersions();
  const key = sha256(
    JSON.stringify({ format: CACHE_FORMAT, motoko: v.motoko, packages: { core: v.core }, persistence, publicMetadata, entry: program.entry, files }),
  );
  return { key, entry: program.entry, files, persistence, publicMetadata };
}

function readCache(key: string): MotokoOutput | undefined {
  if (process.env['MOTOKO_NO_CACHE'] === '1') return undefined;
  const dir = join(cacheDir(), key);
  try {
    const wasm = new Uint8Array(readFileSync(join(dir, 'canister.wasm')));
    const candid = readFileSync(join(dir, 'service.did'), 'utf8');
    const stablePath = join(dir, 'stable.most');
    const out: MotokoOutput = { wasm, candid };
    if (existsSync(stablePath)) out.stable = readFileSync(stablePath, 'utf8');
    return out;
  } catch {
    return undefined;
  }
}

function writeCache(key: string, out: MotokoOutput): void {
  if (process.env['MOTOKO_NO_CACHE'] === '1') return;
  const root = cacheDir();
  const dir = join(root, key);
  if (existsSync(dir)) return;
  const tmp = join(root, `.tmp-${key.slice(0, 16)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(tmp, { recursive: true });
    writeFileSync(join(tmp, 'service.did'), out.candid);
    if (out.stable !== undefined) writeFileSync(join(tmp, 'stable.most'), out.stable);
    writeFileSync(join(tmp, 'canister.wasm'), out.wasm);
    renameSync(tmp, dir); // atomic; fails if another process got there first
  } catch {
    // Another process wrote the same entry (ENOTEMPTY/EEXIST), or the disk is read-only:
    // the compile result is still returned, only the cache write is skipped.
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

type WorkerMessage =
  | { id: number; ok: true; wasm: Uint8Array; candid: string; stable?: string; ms: number }
  | { id: number; ok: false; error: string }
  | { done: true };

/** Last `max` chars of worker stderr, each line cut short (never the 2.8 MB moc.min.js line). */
function tail(text: string, max = 1500): string {
  const lines = text.split('\n').map((l) => (l.length > 300 ? `${l.slice(0, 300)}…` : l));
  const s = lines.join('\n').trim();
  return s.length > max ? `…${s.slice(-max)}` : s;
}

/**
 * Compiles jobs in child processes, one per persistence mode, one after the other (moc.js
 * can't switch modes within a process); resolves to per-job results in job order.
 */
async function runWorkers(jobs: NormalizedJob[]): Promise<Array<MotokoOutput | Error>> {
  const results = new Array<MotokoOutput | Error>(jobs.length);
  for (const mode of ['enhanced', 'classic'] as const) {
    const idx = jobs.flatMap((j, i) => (j.persistence === mode ? [i] : []));
    if (idx.length === 0) continue;
    const outs = await runWorker(idx.map((i) => jobs[i]!));
    idx.forEach((jobIndex, k) => { results[jobIndex] = outs[k]!; });
  }
  return results;
}

/** Compiles jobs (all of one persistence mode) in one child process; results in job order. */
function runWorker(jobs: NormalizedJob[]): Promise<Array<MotokoOutput | Error>> {
  return new Promise((resolveAll, rejectAll) => {
    const results = new Array<MotokoOutput | Error | undefined>(jobs.length);
    let stderr = '';
    let done = false;
    const child = fork(WORKER, [], {
      execPath: process.execPath,
      execArgv: ['--max-old-space-size=4096'],
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    child.stdout?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-20_000); });
    child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-20_000); });
    child.on('message', (raw) => {
      const msg = raw as WorkerMessage;
      if ('done' in msg) { done = true; return; }
      const job = jobs[msg.id];
      if (!job) return;
      if (msg.ok) {
        if (process.env['MOTOKO_DEBUG']) process.stderr.write(`motoko: ${job.entry} (${job.persistence}) compiled in ${msg.ms} ms\n`);
        const out: MotokoOutput = { wasm: new Uint8Array(msg.wasm), candid: msg.candid };
        if (msg.stable !== undefined) out.stable = msg.stable;
        results[msg.id] = out;
      } else {
        results[msg.id] = new Error(`Motoko compile of ${job.entry} (${job.persistence}) failed:\n${msg.error}`);
      }
    });
    child.on('error', (err) => rejectAll(err));
    child.on('exit', (code, signal) => {
      if (!done) {
        rejectAll(new Error(`Motoko compile worker exited early (code ${code}, signal ${signal})${stderr ? `:\n${tail(stderr)}` : ''}`));
        return;
      }
      resolveAll(results.map((r, i) => r ?? new Error(`Motoko compile of ${jobs[i]?.entry}: no result from worker`)));
    });
    child.send({ jobs: jobs.map((j, id) => ({ id, entry: j.entry, files: j.files, persistence: j.persistence, publicMetadata: j.publicMetadata })) });
  });
}

/** In-process memo: the same source compiled twice in one test process is compiled (or read) once. */
const memo = new Map<string, Promise<MotokoOutput>>();

/**
 * Compiles several programs; cache misses are compiled together in one child process.
 * Rejects with the first failure (its message lists file:line:col code message).
 */
export async function compileMotokoBatch(jobs: MotokoJob[]): Promise<MotokoOutput[]> {
  const normalized = jobs.map(normalizeJob);
  const pending: NormalizedJob[] = [];
  const promises = new Map<string, Promise<MotokoOutput>>();
  const settle = new Map<string, { resolve: (o: MotokoOutput) => void; reject: (e: Error) => void }>();
  for (const job of normalized) {
    if (promises.has(job.key)) continue;
    const known = memo.get(job.key);
    if (known) { promises.set(job.key, known); continue; }
    const cached = readCache(job.key);
    if (cached) {
      const p = Promise.resolve(cached);
      memo.set(job.key, p);
      promises.set(job.key, p);
      continue;
    }
    const p = new Promise<MotokoOutput>((resolve, reject) => settle.set(job.key, { resolve, reject }));
    p.catch(() => {}); // handled by the caller via Promise.all below
    memo.set(job.key, p);
    promises.set(job.key, p);
    pending.push(job);
  }
  if (pending.length > 0) {
    try {
      const results = await runWorkers(pending);
      pending.forEach((job, i) => {
        const r = results[i];
        const s = settle.get(job.key);
        if (r instanceof Error || r === undefined) {
          memo.delete(job.key);
          s?.reject(r ?? new Error('no result'));
        } else {
          writeCache(job.key, r);
          s?.resolve(r);
        }
      });
    } catch (err) {
      for (const job of pending) {
        memo.delete(job.key);
        settle.get(job.key)?.reject(err as Error);
      }
    }
  }
  // Each caller gets its own copy of the bytes, so mutating one result can't corrupt another.
  const outs = await Promise.all(normalized.map((j) => promises.get(j.key)!));
  return outs.map((o) => ({ ...o, wasm: o.wasm.slice() }));
}

/** Compiles one program (a source text compiled as `Main.mo`, or `{ entry, files }`). */
export async function compileMotoko(source: MotokoSource, options: MotokoCompileOptions = {}): Promise<MotokoOutput> {
  const [out] = await compileMotokoBatch([{ source, options }]);
  return out!;
}

const IMPORT_RE = /\bimport\s+(?:[A-Za-z_][A-Za-z0-9_]*\s+|\{[^}]*\}\s+)?"([^"]+)"/g;

/**
 * Reads a Motoko file and every file it imports by relative path (`import X "./Util"`,
 * `import X "lib/Util"`), transitively, as a program. `mo:` imports are left to the compiler.
 * Relative paths are resolved against `MOTOKO_FIXTURES_DIR`.
 */
export function motokoFile(path: string): MotokoProgram {
  const abs = resolve(MOTOKO_FIXTURES_DIR, path.endsWith('.mo') ? path : `${path}.mo`);
  const root = dirname(abs);
  const files: Record<string, string> = {};
  const visit = (file: string): void => {
    const rel = relative(root, file).split(/[\\/]/).join('/');
    if (rel in files) return;
    if (rel.startsWith('..')) throw new Error(`motokoFile: ${file} is outside ${root}; pass the program as { entry, files }`);
    const text = readFileSync(file, 'utf8');
    files[rel] = text;
    for (const m of text.matchAll(IMPORT_RE)) {
      const spec = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(spec)) continue; // mo:, ic:, canister:
      const target = normalize(join(dirname(file), spec.endsWith('.mo') ? spec : `${spec}.mo`));
      if (existsSync(target)) visit(target);
      else if (existsSync(join(dirname(file), spec, 'lib.mo'))) visit(join(dirname(file), spec, 'lib.mo'));
    }
  };
  visit(abs);
  return { entry: posix.basename(abs), files };
}

/** Compiles a fixture from `test/fixtures/motoko/` by name, e.g. `compileMotokoFixture('Counter')`. */
export function compileMotokoFixture(name: string, options: MotokoCompileOptions = {}): Promise<MotokoOutput> {
  return compileMotoko(motokoFile(name), options);
}

/** Compiles several fixtures in one child process, e.g. `compileMotokoFixtures(['Caller', 'Callee'])`. */
export function compileMotokoFixtures(names: string[], options: MotokoCompileOptions = {}): Promise<MotokoOutput[]> {
  return compileMotokoBatch(names.map((name) => ({ source: motokoFile(name), options })));
}
