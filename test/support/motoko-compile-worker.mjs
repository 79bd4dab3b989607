// Child process that compiles Motoko with the `motoko` npm package (moc.js).
//
// Started by test/support/motoko.ts with child_process.fork (IPC channel, advanced
// serialization). The compiler needs ~1 GB of heap, so it lives here and not in the
// test process. Protocol:
//   parent -> child: { jobs: [{ id, entry, files, persistence, publicMetadata }] }
//   child -> parent: { id, ok: true, wasm: Uint8Array, candid, stable, ms }
//                  | { id, ok: false, error: string }      (one message per job)
//                  | { done: true }                        (after the last job)
// All jobs sent to one process must use the same persistence mode (see processMode below).
// Only the `name` section differs between a module compiled first in a process and later
// (moc's gensym counters keep counting); code, data and metadata are the same.
// Errors never contain moc.min.js source text: messages are cut to a few hundred chars.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const MAX_MESSAGE = 400;

function short(text) {
  const s = String(text ?? '');
  return s.length > MAX_MESSAGE ? `${s.slice(0, MAX_MESSAGE)}… (${s.length} chars)` : s;
}

function errorText(err) {
  if (err instanceof Error) return short(err.message);
  // js_of_ocaml exceptions are arrays such as [0, [248, "Failure", …], "message"].
  try { return short(JSON.stringify(err)); } catch { return short(String(err)); }
}

// moc.js may write to the console; keep stdout clean and the lines short.
for (const k of ['log', 'info', 'warn', 'error', 'debug']) {
  console[k] = (...args) => process.stderr.write(`${short(args.map(String).join(' '))}\n`);
}

process.on('uncaughtException', (err) => {
  process.stderr.write(`motoko worker: uncaught ${errorText(err)}\n`);
  process.exit(70);
});

let mo;
let jobCounter = 0;
// moc.js keeps compiler flags in globals that a compile changes and nothing resets: a classic
// compile sets --rts-stack-pages (every later enhanced compile then fails with "Fatal error
// (exit 1)"), and an enhanced compile sets a global that changes later classic code
// generation. So one worker process only ever compiles one persistence mode.
let processMode;

function load() {
  if (mo) return mo;
  mo = require('motoko');
  mo.loadPackage(require('motoko/packages/latest/core.json'));
  return mo;
}

function formatDiagnostic(d) {
  const line = (d.range?.start?.line ?? 0) + 1;
  const col = (d.range?.start?.character ?? 0) + 1;
  return `${d.source}:${line}:${col} ${d.code ?? ''} ${short(d.message)}`.replace(/\s+/g, ' ').trim();
}

function compile(job) {
  const m = load();
  processMode ??= job.persistence;
  if (job.persistence !== processMode) {
    return { ok: false, error: `worker already compiled ${processMode} persistence; ${job.persistence} needs a fresh process` };
  }
  const t0 = performance.now();
  // Every job gets its own virtual directory so files of earlier jobs can't leak in.
  const dir = `job${jobCounter++}`;
  const prefix = `${dir}/`;
  for (const [path, content] of Object.entries(job.files)) m.write(prefix + path, content);
  try {
    // Set the GC explicitly: otherwise the first compile in a process embeds the GC name
    // "default" (reported by __motoko_runtime_information) and later ones the real name.
    if (job.persistence === 'classic') {
      m.compiler.gcFlags('classicOP');
      m.compiler.gcFlags('copying'); // moc's default for classic persistence
    } else {
      m.compiler.gcFlags('enhancedOP');
      m.compiler.gcFlags('incremental'); // the only GC allowed with enhanced persistence
    }
    m.setPublicMetadata(job.publicMetadata ?? []);
    const entry = prefix + job.entry;
    const diagnostics = m.check(entry) ?? [];
    const errors = diagnostics.filter((d) => d.severity === 1);
    if (errors.length > 0) {
      const lines = errors.slice(0, 10).map((d) => formatDiagnostic(d).replace(prefix, ''));
      if (errors.length > 10) lines.push(`… and ${errors.length - 10} more`);
      return { ok: false, error: lines.join('\n') };
    }
    const out = m.wasm(entry, 'ic');
    const ms = Math.round(performance.now() - t0);
    return { ok: true, wasm: out.wasm, candid: out.candid, stable: out.stable ?? undefined, ms };
  } finally {
    for (const path of Object.keys(job.files)) {
      try { m.delete(prefix + path); } catch { /* ignore */ }
    }
  }
}

// The parent went away (test cancelled): nobody wants the results.
process.on('disconnect', () => process.exit(0));

process.on('message', (msg) => {
  for (const job of msg.jobs) {
    let result;
    try {
      result = compile(job);
    } catch (err) {
      result = { ok: false, error: `moc failed: ${errorText(err)}` };
    }
    if (!process.connected) process.exit(0);
    process.send({ id: job.id, ...result });
  }
  process.send({ done: true }, () => process.disconnect());
});
