/**
 * The Wasm stack canisters get: the replica configures wasmtime with a 5 MiB Wasm stack
 * (`MAX_WASM_STACK_SIZE`, rs/embedders); V8 runs Wasm on the JavaScript stack of the thread
 * (`call_on_cleanup`, the system canisters' install) or, for sliced executions (updates, queries,
 * timers, install and upgrade hooks), on
 * a JSPI stack of its own (`WebAssembly.promising`). Both sizes are V8 flags fixed when the
 * process starts: they must be on the `node` command line (`v8.setFlagsFromString` later does not
 * resize the main stack, and Node refuses `--stack-size` in NODE_OPTIONS). Every command that runs canisters passes
 * {@link WASM_STACK_NODE_FLAGS}: the npm scripts, `bin/chainkey-replica.mjs`'s shebang,
 * `bin/pocket-ic`, and the test and bench spawns (test/wasm-stack-flags.test.ts checks they agree).
 *
 * Measured (Node 24, x64): a frame holding 512 live i64 values (4 KiB of spills on any compiler)
 * recurses 1,249–1,274 deep with these flags (Liftoff or TurboFan, main or JSPI stack), against at
 * most 1,280 such frames in the replica's 5 MiB; Node's default (984 KiB) allows 231–240. The main
 * thread's OS stack (`ulimit -s`, usually 8 MiB) must exceed the JavaScript stack: with 8 MiB a
 * `--stack-size` up to ~8,100 KiB is safe and 8,300 segfaults; 5,120 leaves ~3 MiB for native frames.
 */

import { readFileSync } from 'node:fs';

/** The replica's Wasm stack: 5 MiB (`MAX_WASM_STACK_SIZE`), in KiB as V8's flags take it. */
export const WASM_STACK_KIB = 5120;

/** The `node` flags that give canisters the replica's Wasm stack, on the main and on JSPI stacks. */
export const WASM_STACK_NODE_FLAGS: readonly string[] = [`--stack-size=${WASM_STACK_KIB}`, `--wasm-stack-switching-stack-size=${WASM_STACK_KIB}`];

/**
 * Whether this process was started with stacks at least as large as {@link WASM_STACK_NODE_FLAGS}
 * ask for (from `process.execArgv`).
 */
export function wasmStackFlagsInEffect(execArgv: readonly string[] = process.execArgv): boolean {
  const kib = (name: string): number => {
    let v = 0;
    for (const a of execArgv) {
      const m = new RegExp(`^--${name}=(\\d+)$`).exec(a.replaceAll('_', '-'));
      if (m) v = Number(m[1]);
    }
    return v;
  };
  return kib('stack-size') >= WASM_STACK_KIB && kib('wasm-stack-switching-stack-size') >= WASM_STACK_KIB;
}

/** Room the thread's OS stack needs beyond the JavaScript stack for native frames (measured ~3 MiB free at 8 MiB). */
const NATIVE_STACK_MARGIN_KIB = 1024;

/**
 * Whether the main thread's OS stack (the soft `RLIMIT_STACK`, from /proc/self/limits) is too small
 * for the JavaScript stack V8 was given: a deep recursion would then crash the process (SIGSEGV)
 * instead of trapping. False where the limit cannot be read or is unlimited.
 */
export function osStackTooSmall(execArgv: readonly string[] = process.execArgv): boolean {
  let limits: string;
  try {
    limits = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return false;
  }
  const m = /^Max stack size\s+(\d+|unlimited)/m.exec(limits);
  if (!m || m[1] === 'unlimited') return false;
  let jsKib = 984;
  for (const a of execArgv) {
    const f = /^--stack[-_]size=(\d+)$/.exec(a);
    if (f) jsKib = Number(f[1]);
  }
  return Number(m[1]) / 1024 < jsKib + NATIVE_STACK_MARGIN_KIB;
}
