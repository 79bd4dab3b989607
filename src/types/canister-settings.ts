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
  /** Upper limit of the canister log buffer, bytes. */
  log_memory_limit: bigint;
  /** Who may list the canister's snapshots (same variant as log_visibility). */
  snapshot_visibility: LogVisibility;
  /** Who may call canister_status (same variant as log_visibility). */
  status_visibility: LogVisibility;
  /** Cycles a call from another canister must carry at least (kept, not enforced yet). */
  minimum_incoming_canister_call_cycles: bigint;
  /** Bytes. */
  wasm_memory_limit: bigint;
  /** Bytes. */
  wasm_memory_threshold: bigint;
  environment_variables: { name: string; value: string }[];
}

/** Lifecycle status (spec §"IC method canister_status"). */
export type CanisterStatus = 'running' | 'stopping' | 'stopped';
