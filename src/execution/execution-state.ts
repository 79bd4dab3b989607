/**
 * The execution-side state of one canister next to its record (cycles, status, controllers live
 * in the CanisterState): the live Wasm instance and stable memory, the call contexts and
 * callbacks, the global timer, certified data, and stop requests waiting for the canister to
 * stop. Loaded lazily from the store (pages are only read when the canister first runs) and
 * written back at the end of each round in the round's transaction.
 */
import type { Principal } from '@icp-sdk/core/principal';
import type { CallContextManager } from './call-context.ts';
import type { TsCanisterInstance } from './typescript/ts-canister-instance.ts';
import type { CanisterInstance } from './wasm/canister-instance.ts';
import type { StableMemory } from './wasm/stable-memory.ts';

/** Who is waiting for a `stop_canister` to finish: an ingress message (request id) or a canister's callback. */
export type StopRequest =
  | { kind: 'ingress'; requestId: Uint8Array }
  | { kind: 'canister'; caller: Principal; callbackId: number; deadlineNanos: bigint; payment: bigint };

/** A canister's running code: an instantiated Wasm module or a TypeScript canister. */
export type CanisterCode = CanisterInstance | TsCanisterInstance;

/** One canister's execution state. */
export interface ExecutionState {
  /** The live instance (Wasm or TypeScript), or null when the canister is empty. */
  instance: CanisterCode | null;
  /** Stable memory; shared with the instance's System API. */
  stable: StableMemory;
  callContexts: CallContextManager;
  /** Global timer deadline, nanoseconds since the epoch; 0n = not set. */
  globalTimerNanos: bigint;
  /** `ic0.certified_data_set` data, ≤ 32 bytes. */
  certifiedData: Uint8Array;
  /** Pending `stop_canister` calls, answered when the canister reaches `stopped`. */
  stopRequests: StopRequest[];
  /** The next checkpoint must first drop every stored stable memory page (reinstall, uninstall). */
  replaceStablePages: boolean;
  /** The next checkpoint must drop every stored Wasm memory page (uninstall). */
  replaceMemoryPages: boolean;
  /**
   * `canister_on_low_wasm_memory` status (the replica's `OnLowWasmMemoryHookStatus`): undefined
   * while the condition does not hold; `ready` once it does (the hook is due); `executed` after
   * the hook ran, until the condition goes false. Checkpointed with the canister (a hook that ran
   * does not run again after a restart).
   */
  lowWasmMemoryHook?: 'ready' | 'executed';
}
