#!/usr/bin/env -S node --stack-size=5120 --wasm-stack-switching-stack-size=5120 --max-semi-space-size=8
// The `chainkey-replica` command (`npm start` runs `chainkey-replica start`; the commands are in
// src/cli-program.ts); needs a Node that runs TypeScript (>= 22.18).
//
// Startup cost: Node strips TypeScript types from every source file on every start (loading its
// stripper alone takes tens of ms) and compiles each module afresh. This entry, being plain
// JavaScript, avoids both on a second start:
//   - a load hook serves each .ts file's stripped JavaScript from a cache in the OS temp dir,
//     keyed by the SHA-256 of its path and source (an edited file is stripped again);
//   - Node's module compile cache keeps V8's compiled code of every module.
// Stripping keeps line and column positions (types become spaces), so stack traces are unchanged.
//
// Memory: `--max-semi-space-size=8` (MiB; here in the shebang and in package.json's scripts)
// caps V8's young generation, which under signing load otherwise grows to 128 MiB of RSS for a
// live heap of ~50 MiB; measured at the same CPU per call (README, "Performance").
import module from 'node:module';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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
  module.registerHooks({
    load(url, context, nextLoad) {
      if (!url.startsWith('file:') || !url.endsWith('.ts') || url.includes('/node_modules/')) return nextLoad(url, context);
      const path = fileURLToPath(url);
      const source = readFileSync(path, 'utf8');
      const file = join(dir, `${createHash('sha256').update(path).update('\0').update(source).digest('hex')}.js`);
      let js;
      try {
        js = readFileSync(file, 'utf8');
      } catch {
        js = strip(source);
        try {
          mkdirSync(dir, { recursive: true });
          const tmp = `${file}.${process.pid}.tmp`;
          writeFileSync(tmp, js);
          renameSync(tmp, file);
        } catch {
          /* an unwritable temp dir only costs the cache */
        }
      }
      return { format: 'module', source: js, shortCircuit: true };
    },
  });
}

await import('../src/cli-program.ts');
