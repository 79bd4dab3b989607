/**
 * Runs one piece of canister code (an exported method, a callback from the function table, the
 * start function) in an execution context, and keeps or discards what it did: on success the
 * instance commits its memory and globals and stable memory keeps its writes; on a trap (or for
 * a query, always) both roll back, and the System API's collected changes are dropped. This is
 * the replica's hypervisor `execute` step; per-instruction metering is not done yet.
 */
import { hypervisorErrorOf, type HypervisorErrorInfo } from './hypervisor-error.ts';
import type { ExecutionContext } from './system-api/execution-context.ts';
import type { SystemStateChanges } from './system-api/system-state-changes.ts';
import type { CanisterCode } from './execution-state.ts';

/** The outcome of running canister code: its changes, or the error that stopped it. */
export type ExecutionResult = { ok: true; changes: SystemStateChanges } | { ok: false; error: HypervisorErrorInfo };

/**
 * Runs `body` on `instance` with `ctx` installed in its System API.
 * @param keep whether successful changes to memory are kept (false for queries and for
 *   replicated queries, whose state changes the spec discards).
 * @param currentTimerNanos the global timer before this execution (returned by global_timer_set).
 * @returns the collected changes, or the trap; never throws for canister faults.
 * @throws Error for host bugs.
 */
export function runOnInstance(
  instance: CanisterCode,
  ctx: ExecutionContext,
  body: (i: CanisterCode) => void,
  keep: boolean,
  currentTimerNanos: bigint,
): ExecutionResult {
  const api = instance.api;
  api.currentTimerNanos = currentTimerNanos;
  api.begin(ctx);
  api.stable.beginExecution();
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
    return { ok: false, error };
  }
  api.end();
  if (keep) {
    instance.commit();
    api.stable.commitExecution();
  } else {
    instance.rollback();
    api.stable.rollbackExecution();
  }
  return { ok: true, changes: ctx.changes };
}
