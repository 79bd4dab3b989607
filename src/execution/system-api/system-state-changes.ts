/**
 * What one execution of canister code asks the replica to do (the replica's
 * `SystemStateModifications`): its response, cycles accepted and burned, the calls it made, a new
 * global timer and certified data. They are applied only if the execution does not trap; on a
 * trap they are dropped together with the memory changes.
 */
import type { Principal } from '@icp-sdk/core/principal';

/** A Wasm table entry plus the `env` value passed to it (spec §"Inter-canister method calls"). */
export interface WasmClosure {
  /** Index into the canister's function table. */
  fn: bigint;
  /** Opaque value handed back to the function (u32 for wasm32, u64 for wasm64). */
  env: bigint;
}

/** A call made with `ic0.call_new` … `ic0.call_perform`. */
export interface OutgoingCall {
  callee: Principal;
  method: string;
  arg: Uint8Array;
  /** Cycles attached (already deducted from the caller's balance in the changes). */
  cycles: bigint;
  /** Fees and reservations `call_perform` withdrew with it (transmission + both response reservations). */
  fee?: bigint;
  onReply: WasmClosure;
  onReject: WasmClosure;
  onCleanup?: WasmClosure;
  /** `call_with_best_effort_response` timeout, seconds; undefined for a guaranteed-response call. */
  timeoutSeconds?: number;
}

/** A response produced by `ic0.msg_reply` or `ic0.msg_reject`. */
export type ExecutionResponse = { kind: 'reply'; data: Uint8Array } | { kind: 'reject'; message: string };

/** The side effects of one successful execution. */
export interface SystemStateChanges {
  response?: ExecutionResponse;
  /** Cycles moved from the call context into the balance (`msg_cycles_accept128`). */
  cyclesAccepted: bigint;
  /** Cycles burned (`cycles_burn128`). */
  cyclesBurned: bigint;
  /** Calls performed, in order. */
  calls: OutgoingCall[];
  /** New global timer (nanoseconds, 0 = off) if `global_timer_set` was called. */
  globalTimerNanos?: bigint;
  /** New certified data (≤ 32 bytes) if `certified_data_set` was called. */
  certifiedData?: Uint8Array;
  /** `accept_message` was called (inspect message). */
  messageAccepted: boolean;
}

/** Empty changes. */
export function noChanges(): SystemStateChanges {
  return { cyclesAccepted: 0n, cyclesBurned: 0n, calls: [], messageAccepted: false };
}
