#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --stack-size=5120 --wasm-stack-switching-stack-size=5120 --max-semi-space-size=8 --heap-growing-percent=100
// The `chainkey-replica` command (`npm start` runs `chainkey-replica start`; the commands are in
// src/cli-program.ts); needs a Node that runs TypeScript (>= 22.18).
//
// Startup cost: Node strips TypeScript types from every source file on every start (loading its
// stripper alone takes tens of ms), compiles each module afresh and resolves every import against
// the file system. This entry, being plain JavaScript, avoids most of that on a second start:
//   - a load hook serves each .ts file's stripped JavaScript from one cache file in the OS temp
//     dir (per package directory and Node version), valid while the source's size, mtime and
//     inode are unchanged (an edited file is stripped again; the cache is rewritten after a miss);
//   - a resolve hook shortcuts the imports among this package's own sources (below);
//   - Node's module compile cache keeps V8's compiled code of every module.
// Stripping keeps line and column positions (types become spaces), so stack traces are unchanged.
// One file, not one per source: this VM's page cache is reclaimed eagerly, and 174 reads of
// per-source cache files plus the sources themselves cost 20–45 ms of a start.
//
// Memory: `--max-semi-space-size=8` (MiB; here in the shebang and in package.json's scripts)
// caps V8's young generation, which under signing load otherwise grows to 128 MiB of RSS for a
// live heap of ~50 MiB; measured at the same CPU per call (README, "Performance").
// `--heap-growing-percent=100` lets V8's old generation grow to twice its live size between full
// collections, not the ~4× V8 picks for a small heap: ~55 MiB less RSS under signing load for
// ~3% more main-thread CPU (README, "Memory").
// `MALLOC_ARENA_MAX=2` (glibc; read when the process starts, so set where it is launched) keeps
// the threads (front door, workers, V8's helpers) to two malloc arenas: ~20 MiB less RSS after
// 5,000 signatures (README, "Memory").
import module from 'node:module';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

module.enableCompileCache?.();

if (typeof module.registerHooks === 'function' && typeof module.stripTypeScriptTypes === 'function') {
  let uid = 'user';
  try {
    uid = String(userInfo().uid);
  } catch {
    /* no passwd entry: one shared name */
  }
  const dir = join(tmpdir(), `chainkey-replica-ts-cache-${uid}`);
  const root = fileURLToPath(new URL('..', import.meta.url));
  const cacheFile = join(dir, `${createHash('sha256').update(`${root}\0${process.version}`).digest('hex').slice(0, 32)}.json`);
  /** Source path → [size, mtimeMs, ino, stripped JavaScript]. */
  let cache = {};
  try {
    cache = JSON.parse(readFileSync(cacheFile, 'utf8'));
  } catch {
    /* none yet, or unreadable: every file is stripped and the cache written anew */
  }
  let dirty = false;
  const save = () => {
    if (!dirty) return;
    dirty = false;
    try {
      mkdirSync(dir, { recursive: true });
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(cache));
      renameSync(tmp, cacheFile);
    } catch {
      /* an unwritable temp dir only costs the cache */
    }
  };
  process.on('exit', save);
  /** Stripped JavaScript of a TypeScript source; the stripper's experimental warning is muted. */
  const strip = (source) => {
    const emitWarning = process.emitWarning;
    process.emitWarning = () => {};
    try {
      return module.stripTypeScriptTypes(source);
    } finally {
      process.emitWarning = emitWarning;
    }
  };
  // Resolution: Node's resolver checks each import against the file system and package.json
  // files (761 resolutions per `start`, ~50 ms). Two shortcuts for imports made by this package's
  // own sources (not node_modules): a relative `.ts` import is its URL against the importer's
  // (a missing file then fails in `load`, naming the path), and a bare specifier resolves alike
  // from every source file of one package, so it is resolved once per process.
  const src = new URL('../src/', import.meta.url).href;
  const bare = new Map();
  module.registerHooks({
    resolve(specifier, context, nextResolve) {
      const parent = context.parentURL;
      if (!parent?.startsWith(src) || parent.includes('/node_modules/')) return nextResolve(specifier, context);
      if (specifier.startsWith('.')) {
        if (!specifier.endsWith('.ts')) return nextResolve(specifier, context);
        return { url: new URL(specifier, parent).href, format: 'module', shortCircuit: true };
      }
      if (specifier.startsWith('node:')) return nextResolve(specifier, context);
      const key = `${specifier}\0${context.conditions?.join()}`;
      let resolved = bare.get(key);
      if (!resolved) bare.set(key, (resolved = { ...nextResolve(specifier, context), shortCircuit: true }));
      return resolved;
    },
    load(url, context, nextLoad) {
      if (!url.startsWith('file:') || !url.endsWith('.ts') || url.includes('/node_modules/')) return nextLoad(url, context);
      const path = fileURLToPath(url);
      // Stat before reading: a file edited in between is stored under its old stat, so stripped again next time.
      const st = statSync(path);
      const hit = cache[path];
      if (hit && hit[0] === st.size && hit[1] === st.mtimeMs && hit[2] === st.ino) return { format: 'module', source: hit[3], shortCircuit: true };
      const js = strip(readFileSync(path, 'utf8'));
      cache[path] = [st.size, st.mtimeMs, st.ino, js];
      if (!dirty) {
        dirty = true;
        setTimeout(save, 1000).unref();
      }
      return { format: 'module', source: js, shortCircuit: true };
    },
  });
}

await import('../src/cli-program.ts');
