/**
 * Runs one piece of canister code (an exported method, a callback from the function table, the
 * start function) in an execution context, and keeps or discards what it did: on success the
 * instance commits its memory and globals and stable memory keeps its writes; on a trap (or for
 * a query, always) both roll back, and the System API's collected changes are dropped. This is
 * the replica's hypervisor `execute` step, with its instruction counting: the limit of the
 * execution's kind (IC0522 past it) and, for kept executions, 1000 instructions per 4 KiB page of
 * heap or stable memory the execution wrote.
 */
import { hypervisorErrorOf, wasmMemoryLimitExceeded, type HypervisorErrorInfo } from './hypervisor-error.ts';
import { DIRTY_PAGE_OVERHEAD, instructionLimitFor } from './instruction-meter.ts';
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
  /** Instructions of earlier executions in the call context (`performance_counter(1)`). */
  callContextInstructions?: bigint;
  /** A system (NNS) subnet: bigger limits, no byte or page charges. */
  systemSubnet?: boolean;
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
  const api = instance.api;
  const system = metering.systemSubnet ?? false;
  api.chargeBytes = !system;
  api.meter.begin(metering.limit ?? instructionLimitFor(ctx.apiType, system), metering.callContextInstructions ?? 0n);
  api.currentTimerNanos = currentTimerNanos;
  api.begin(ctx);
  api.stable.beginExecution();
  const memoryBefore = instance.memoryBytes;
  try {
    body(instance);
  } catch (e) {
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
    const heapPages = instance.commit() ?? 0;
    const stablePages = api.stable.writtenOsPages;
    api.stable.commitExecution();
    if (!system) api.meter.chargeAfterwards(BigInt(heapPages + stablePages) * DIRTY_PAGE_OVERHEAD);
  } else {
    instance.rollback();
    api.stable.rollbackExecution();
  }
  return { ok: true, changes: ctx.changes, instructions: api.meter.executed };
}
