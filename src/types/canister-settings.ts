/**
 * A canister's settings and lifecycle status as the replica keeps them (interface spec
 * §"IC method canister_status": `definite_canister_settings` without the controllers, which are
 * kept beside them): shared by the stored record (store/), the live state (state/) and the
 * management canister's Candid shapes (management/shapes.ts).
 */
import type { Principal } from '@icp-sdk/core/principal';

/** `log_visibility` of the spec's `definite_canister_settings`. */
export type LogVisibility =
  | { controllers: null }
  | { public: null }
  | { allowed_viewers: Principal[] };

/** The spec's `definite_canister_settings` minus controllers (kept beside it). Units: bytes, cycles, seconds. */
export interface CanisterSettings {
  compute_allocation: bigint;
  memory_allocation: bigint;
  /** Seconds. */
  freezing_threshold: bigint;
  /** Cycles. */
  reserved_cycles_limit: bigint;
  log_visibility: LogVisibility;
  /** Bytes. */
  wasm_memory_limit: bigint;
  /** Bytes. */
  wasm_memory_threshold: bigint;
  environment_variables: { name: string; value: string }[];
}

/** Lifecycle status (spec §"IC method canister_status"). */
export type CanisterStatus = 'running' | 'stopping' | 'stopped';
