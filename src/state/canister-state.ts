/**
 * A canister's replicated state as execution and the management canister see it, and the defaults
 * a new canister gets (interface spec §"IC method create_canister": settings not given take their
 * default values).
 */
import type { Principal } from '@icp-sdk/core/principal';
import type { CanisterRecord } from '../store/canister-repository.ts';
import type { CanisterSettings } from '../types/canister-settings.ts';

export type { CanisterRecord as CanisterState } from '../store/canister-repository.ts';
export type { CanisterSettings, CanisterStatus, LogVisibility } from '../types/canister-settings.ts';

/** Default freezing threshold: 30 days in seconds (spec §"IC method create_canister"). */
export const DEFAULT_FREEZING_THRESHOLD = 2_592_000n;
/** Default reserved cycles limit: 5T cycles (spec). */
export const DEFAULT_RESERVED_CYCLES_LIMIT = 5_000_000_000_000n;
/** Default Wasm memory limit: 3 GiB (spec). */
export const DEFAULT_WASM_MEMORY_LIMIT = 3n * 1024n * 1024n * 1024n;

/** Settings of a canister created with no settings given. */
/** Default `log_memory_limit`: 4 KiB of log records (spec default). */
export const DEFAULT_LOG_MEMORY_LIMIT = 4096n;

export function defaultCanisterSettings(): CanisterSettings {
  return {
    compute_allocation: 0n,
    memory_allocation: 0n,
    freezing_threshold: DEFAULT_FREEZING_THRESHOLD,
    reserved_cycles_limit: DEFAULT_RESERVED_CYCLES_LIMIT,
    log_visibility: { controllers: null },
    log_memory_limit: DEFAULT_LOG_MEMORY_LIMIT,
    snapshot_visibility: { controllers: null },
    status_visibility: { controllers: null },
    minimum_incoming_canister_call_cycles: 0n,
    wasm_memory_limit: DEFAULT_WASM_MEMORY_LIMIT,
    wasm_memory_threshold: 0n,
    environment_variables: [],
  };
}

/** A new, empty, running canister. */
export function newCanister(args: {
  canisterId: Principal;
  subnetId: Principal;
  controllers: Principal[];
  settings: CanisterSettings;
  cycles: bigint;
  nowNanos: bigint;
}): CanisterRecord {
  return {
    canisterId: args.canisterId,
    subnetId: args.subnetId,
    status: 'running',
    controllers: args.controllers,
    settings: args.settings,
    cycles: args.cycles,
    version: 0n,
    module: null,
    moduleHash: null,
    createdAtNanos: args.nowNanos,
    resourcesChargedAtNanos: args.nowNanos,
  };
}
