/**
 * Runs one piece of canister code (an exported method, a callback from the function table, the
 * start function) in an execution context, and keeps or discards what it did: on success the
 * instance commits its memory and globals and stable memory keeps its writes; on a trap (or for
 * a query, always) both roll back, and the System API's collected changes are dropped. This is
 * the replica's hypervisor `execute` step, with its instruction counting: the limit of the
 * execution's kind (IC0522 past it) and, for kept executions, 1000 instructions per 4 KiB page of
 * heap or stable memory the execution wrote.
 *
 * {@link runOnInstanceSliced} is the same on a JSPI stack: every {@link HOST_SLICE_INSTRUCTIONS}
 * the meter asks whether {@link YIELD_AFTER_MS} have passed (and, before the first yield, whether
 * {@link MIN_INSTRUCTIONS_BEFORE_YIELD} ran), and if so the Wasm suspends until the event loop
 * had a turn (the replica's deterministic time slicing, in wall-clock terms: what is counted does
 * not change).
 */
import { hypervisorErrorOf, wasmMemoryLimitExceeded, type HypervisorErrorInfo } from './hypervisor-error.ts';
import { DIRTY_PAGE_OVERHEAD, instructionLimitFor, WASM64_DIRTY_PAGE_OVERHEAD_MULTIPLIER } from './instruction-meter.ts';
import type { ExecutionContext } from './system-api/execution-context.ts';
import type { SystemStateChanges } from './system-api/system-state-changes.ts';
import type { CanisterCode } from './execution-state.ts';

/**
 * The outcome of running canister code: its changes, or the error that stopped it; either way
 * the instructions it executed (what execution fees charge).
 */
export type ExecutionResult =
  | { ok: true; changes: SystemStateChanges; instructions: bigint }
  | { ok: false; error: HypervisorErrorInfo; instructions: bigint };

/** The instruction budget of one execution. */
export interface Metering {
  /** The instruction limit (default: the limit of the context's API type). */
  limit?: bigint;
  /** The limit IC0522's text names, if not `limit` (an install's hooks: the whole install's limit). */
  limitToReport?: bigint;
  /** Instructions of earlier executions in the call context (`performance_counter(1)`). */
  callContextInstructions?: bigint;
  /** A system (NNS) subnet: bigger limits, no byte or page charges. */
  systemSubnet?: boolean;
}

/**
 * What one execution of a TypeScript canister's handler counts besides its System API calls (a
 * stable estimate: V8 code is not metered), instructions.
 */
export const TS_EXECUTION_INSTRUCTIONS = 1_000_000n;

/** Instructions between two checks of the wall clock in a sliced execution. */
export const HOST_SLICE_INSTRUCTIONS = 10_000_000n;
/**
 * A sliced execution yields only once it has executed this many instructions: short messages
 * (almost all) never yield, whatever the machine's load, so they finish within their round.
 */
export const MIN_INSTRUCTIONS_BEFORE_YIELD = 50_000_000n;
/** Wall-clock time a sliced execution runs before it yields to the event loop, ms. */
export const YIELD_AFTER_MS = 5;

function begin(instance: CanisterCode, ctx: ExecutionContext, currentTimerNanos: bigint, metering: Metering, onSlice: (() => boolean) | null): boolean {
  const api = instance.api;
  const system = metering.systemSubnet ?? false;
  api.chargeBytes = !system;
  const limit = metering.limit ?? instructionLimitFor(ctx.apiType, system);
  api.meter.begin(limit, metering.callContextInstructions ?? 0n, onSlice, onSlice ? HOST_SLICE_INSTRUCTIONS : undefined, metering.limitToReport ?? limit);
  // TypeScript code is not metered: each execution counts a fixed estimate (plus its ic0 calls).
  if (!('counterExport' in instance.module)) api.meter.chargeAfterwards(TS_EXECUTION_INSTRUCTIONS);
  api.currentTimerNanos = currentTimerNanos;
  api.begin(ctx);
  api.stable.beginExecution();
  return system;
}

function failed(instance: CanisterCode, e: unknown): ExecutionResult {
  const api = instance.api;
  api.end();
  let error: HypervisorErrorInfo;
  try {
    error = hypervisorErrorOf(e);
  } finally {
    instance.rollback();
    api.stable.rollbackExecution();
  }
  return { ok: false, error, instructions: api.meter.executed };
}

function succeeded(instance: CanisterCode, ctx: ExecutionContext, keep: boolean | 'pending', system: boolean, memoryBefore: number): ExecutionResult {
  const api = instance.api;
  api.end();
  // wasm_memory_limit (interface spec §"Canister settings"): an update, init or post_upgrade whose
  // growth takes the Wasm memory past the limit fails and keeps nothing; the rest ignore it.
  const limit = ctx.wasmMemoryLimit ?? 0n;
  const peak = BigInt(instance.memoryBytes);
  if (keep === true && limit > 0n && (ctx.apiType === 'update' || ctx.apiType === 'init') && peak > limit && peak > BigInt(memoryBefore)) {
    instance.rollback();
    api.stable.rollbackExecution();
    return { ok: false, error: wasmMemoryLimitExceeded(limit, peak), instructions: api.meter.executed };
  }
  if (keep === 'pending') {
    api.stable.rollbackExecution();
  } else if (keep) {
    const heapPages = BigInt(instance.commit() ?? 0);
    const stablePages = BigInt(api.stable.writtenOsPages);
    api.stable.commitExecution();
    // Written pages (instruction-meter.ts DIRTY_PAGE_OVERHEAD says which replica rule this is).
    const heapFactor = 'memoryType' in instance.module && instance.module.memoryType === 'wasm64' ? WASM64_DIRTY_PAGE_OVERHEAD_MULTIPLIER : 1n;
    if (!system) api.meter.chargeAfterwards((heapPages * heapFactor + stablePages) * DIRTY_PAGE_OVERHEAD);
  } else {
    instance.rollback();
    api.stable.rollbackExecution();
  }
  return { ok: true, changes: ctx.changes, instructions: api.meter.executed };
}

/**
 * Runs `body` on `instance` with `ctx` installed in its System API.
 * @param keep whether successful changes to memory are kept (false for queries and for
 *   replicated queries, whose state changes the spec discards); `pending`: a step of a composite
 *   query, whose heap changes stay in the live instance for its callbacks until the query ends and
 *   rolls the instance back (its stable memory writes are discarded at once).
 * @param currentTimerNanos the global timer before this execution (returned by global_timer_set).
 * @returns the collected changes, or the trap; never throws for canister faults.
 * @throws Error for host bugs.
 */
export function runOnInstance(
  instance: CanisterCode,
  ctx: ExecutionContext,
  body: (i: CanisterCode) => void,
  keep: boolean | 'pending',
  currentTimerNanos: bigint,
  metering: Metering = {},
): ExecutionResult {
  const memoryBefore = instance.memoryBytes;
  const system = begin(instance, ctx, currentTimerNanos, metering, null);
  try {
    body(instance);
  } catch (e) {
    return failed(instance, e);
  }
  return succeeded(instance, ctx, keep, system, memoryBefore);
}

/** Hooks of a sliced execution. */
export interface SliceHooks {
  /** Called (synchronously, from inside the Wasm) when the execution is about to yield for the first time. */
  onFirstYield(): void;
  /** Checked at every slice end: true stops the execution (the replica is shutting down). */
  aborted(): boolean;
}

/**
 * {@link runOnInstance} for code that may run long: `body` starts the Wasm through
 * `WebAssembly.promising` (`callExportSliced` / `callTableSliced`), and the execution yields to
 * the event loop every {@link YIELD_AFTER_MS} of wall-clock time. The caller must not start
 * anything else on `instance` until the returned promise settles.
 * @returns the result (never rejects for canister faults).
 */
export async function runOnInstanceSliced(
  instance: CanisterCode,
  ctx: ExecutionContext,
  body: (i: CanisterCode) => Promise<unknown>,
  keep: boolean | 'pending',
  currentTimerNanos: bigint,
  hooks: SliceHooks,
  metering: Metering = {},
): Promise<ExecutionResult> {
  let last = performance.now();
  let yielded = false;
  let resumed = false;
  const onSlice = (): boolean => {
    if (hooks.aborted()) throw new Error('chainkey-replica: execution aborted (the replica is stopping)');
    const now = performance.now();
    if (resumed) {
      // First slice end after a yield: measure from here, not from before the wait.
      resumed = false;
      last = now;
      return false;
    }
    if (now - last < YIELD_AFTER_MS) return false;
    if (!yielded && instance.api.meter.executed < MIN_INSTRUCTIONS_BEFORE_YIELD) return false;
    if (!yielded) {
      yielded = true;
      hooks.onFirstYield();
    }
    resumed = true;
    return true;
  };
  const memoryBefore = instance.memoryBytes;
  const system = begin(instance, ctx, currentTimerNanos, metering, onSlice);
  try {
    await body(instance);
  } catch (e) {
    return failed(instance, e);
  }
  return succeeded(instance, ctx, keep, system, memoryBefore);
}
