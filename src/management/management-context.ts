/**
 * What a management canister method sees: the call (caller, payment, time) and the environment
 * (replicated state, routing table, store, randomness). Shared by every handler.
 */
import type { Principal } from '@icp-sdk/core/principal';
import type { RoutingTable } from '../routing/routing-table.ts';
import type { Subnet } from '../routing/topology.ts';
import type { ReplicatedState } from '../state/replicated-state.ts';
import type { StateStore } from '../store/state-store.ts';
import type { CanisterState } from '../state/canister-state.ts';
import type { MasterKey } from '../state/master-keys.ts';
import type { ThresholdRequestOrigin } from '../state/subnet-call-context-manager.ts';
import type { SnapshotContent } from '../state/canister-snapshots.ts';
import type { CanisterInstallMode } from './shapes.ts';
import type { SubnetCosts } from '../cycles/subnet-costs.ts';
import type { IcError } from '../types/ic-error.ts';

/** Decoded `canister_install_mode` (candid/ic.did). */
export type InstallMode = CanisterInstallMode;

/** Canister memory use as `canister_status` reports it, bytes. */
export interface CanisterMemoryUsage {
  wasmMemoryBytes: bigint;
  stableMemoryBytes: bigint;
  globalsBytes: bigint;
  /** Contents of the module's `icp:public` / `icp:private` metadata sections. */
  customSectionsBytes: bigint;
}

/**
 * A management-canister method whose canister code runs sliced (install_code's hooks): it may
 * end in a later round. The call is answered when it ends.
 */
export interface SlicedExecution {
  /** Settles when the execution yields for the first time or ends, whichever comes first. */
  readonly started: Promise<void>;
  /**
   * Registers what happens when it ends, called inside a round (at once if it already ended):
   * with undefined on success, else the IcError to reject the call with.
   */
  onEnd(answer: (error: IcError | undefined) => void): void;
}

/**
 * What the management canister asks of the execution layer (which runs canister code): the
 * management canister decides who may do what; execution installs modules and runs their init
 * and upgrade hooks, and knows each canister's call contexts and memory.
 */
export interface CanisterExecution {
  /**
   * Installs, reinstalls or upgrades `wasmModule` on `canister` and runs canister_init or the
   * upgrade hooks with `arg`; on success updates the canister's module, hash and version.
   * `assemblyInstructions` (install_chunked_code: 1 MiB per listed chunk) count toward the
   * install's instructions, as compilation does. The hooks run sliced (the replica's
   * deterministic time slicing of install_code): a long install continues over later rounds
   * while the canister is busy, and its outcome comes through the returned execution.
   * @returns the running install; its outcome is an IcError with the replica's text (invalid
   *   Wasm, out of cycles, a trap or IC0522 in a hook, upgrade options) or success.
   */
  installCode(canister: CanisterState, mode: InstallMode, wasmModule: Uint8Array, arg: Uint8Array, caller: Principal, nowNanos: bigint, assemblyInstructions?: bigint): SlicedExecution;
  /** Removes the module and its memories; open call contexts are rejected. */
  uninstallCode(canister: CanisterState, nowNanos: bigint): void;
  /** Memory use for canister_status. */
  memoryUsage(canister: CanisterState): CanisterMemoryUsage;
  /** `create_canister`'s fee on a subnet (0 on system subnets and on the free cost schedule). */
  creationFee(subnet: Subnet): bigint;
  /** A subnet's prices (its size, cost schedule and kind). */
  costsOf(subnet: Subnet): SubnetCosts;
  /**
   * Charges management-canister work done for `canister` (e.g. 200 M instructions per
   * `upload_chunk`): at the wasm32 rate, no base fee, above the freezing threshold
   * (`consume_cycles_for_management_canister_instructions`).
   * @param caller who asked: the out-of-cycles text names the top-up amount only for a controller.
   * @throws IcError IC0207 when the canister cannot pay.
   */
  chargeManagementInstructions(canister: CanisterState, instructions: bigint, caller: Principal): void;
  /** `idle_cycles_burned_per_day`: storage, base fee and compute allocation for a day, cycles. */
  idleCyclesBurnedPerDay(canister: CanisterState): bigint;
  /** Whether the canister has open call contexts (a stop must wait for them). */
  hasOpenCallContexts(canister: CanisterState): boolean;
  /** The canister was started again: pending stop requests are cancelled. */
  canisterStarted(canister: CanisterState): void;
  /**
   * Instructions the replica counts for compiling `module` (as uploaded; 6000 per instrumented
   * instruction), 0 for none.
   * @throws IcError IC0505 for an invalid module
   */
  compilationInstructions(canister: CanisterState, module: Uint8Array | null, moduleHash?: Uint8Array): bigint;
  /** The canister's code and memories as a snapshot keeps them. */
  captureSnapshot(canister: CanisterState): SnapshotContent;
  /**
   * Replaces the canister's code and memories with a snapshot's; open call contexts are rejected
   * as on reinstall.
   * @throws IcError if the snapshot's module no longer instantiates
   */
  restoreSnapshot(canister: CanisterState, content: SnapshotContent): void;
  /** The canister was deleted: its execution state goes too. */
  canisterDeleted(canister: CanisterState): void;
}

/** The replica-side services a management method may use. */
export interface ManagementEnv {
  state: ReplicatedState;
  routing: RoutingTable;
  store: StateStore;
  /** Cryptographically random bytes (raw_rand). */
  randomBytes(n: number): Uint8Array;
  /** The execution layer (install_code, stop, status). */
  execution: CanisterExecution;
  /** Threshold master keys by key id text. */
  masterKeys: ReadonlyMap<string, MasterKey>;
  /** Whoever answers `http_request` outcalls (PocketIC instances); absent: not served. */
  httpRequests?: CanisterHttpRequests;
}

/** A canister HTTP request waiting for its response. */
export interface CanisterHttpRequest {
  /** The calling canister's callback. */
  origin: ThresholdRequestOrigin;
  /** The calling canister's subnet. */
  subnet: Subnet;
  url: string;
  method: 'GET' | 'POST' | 'HEAD';
  headers: { name: string; value: string }[];
  body: Uint8Array;
  maxResponseBytes?: bigint;
  /** The caller's query that transforms the raw response, with its context. */
  transform?: { canisterId: Principal; method: string; context: Uint8Array };
  /** Attached cycles left after the fee, refunded with the response. */
  refundCycles: bigint;
}

/** Whoever answers outcalls (a PocketIC instance). */
export interface CanisterHttpRequests {
  /** Takes a paid request; its response is delivered later. */
  accept(request: CanisterHttpRequest): void;
}

/** One call to `aaaaa-aa`. */
export interface ManagementCall {
  /** The sender: a user (ingress) or a canister. */
  caller: Principal;
  /** True for inter-canister calls, false for ingress. */
  callerIsCanister: boolean;
  /** The calling canister's subnet (inter-canister calls only). */
  callerSubnet?: Subnet;
  /** The subnet whose management canister was addressed by its subnet id (instead of `aaaaa-aa`). */
  destinationSubnet?: Subnet;
  /** Wire name of the method, e.g. `canister_status`. */
  method: string;
  /** Candid-encoded argument. */
  arg: Uint8Array;
  /** Cycles attached to the call (always 0 for ingress). */
  payment: bigint;
  /** Time of the round, nanoseconds since the epoch. */
  nowNanos: bigint;
  /** True when a user's query call runs the method (non-replicated; nothing is kept). */
  queryCall?: boolean;
  /** The effective canister id of an ingress message (spec §"Effective canister id"). */
  effectiveCanisterId?: Principal;
  /** The calling canister's callback (inter-canister calls): where an answer given later goes. */
  callback?: ThresholdRequestOrigin;
}

/** A successful management call: the Candid reply and the cycles to give back to the caller. */
export interface ManagementReply {
  reply: Uint8Array;
  /** Cycles refunded to the caller (≤ payment). */
  refund: bigint;
  /**
   * Set by stop_canister when the canister has open call contexts: the call is answered later,
   * when the canister reaches `stopped` (the reply above is what it will get).
   */
  deferredUntilStopped?: Principal;
  /**
   * Set by sign_with_ecdsa, sign_with_schnorr and vetkd_derive_key once the request is paid for
   * and queued as a `SignWithThresholdContext` (state/): the answer comes later, from the
   * chain-key payload step (`reply` is empty, `refund` 0; the context holds the refund).
   */
  answeredLater?: boolean;
  /**
   * Set by install_code and install_chunked_code: their hooks run sliced, and the call gets
   * `reply` and `refund` when the execution ends well, its error (all cycles refunded) otherwise.
   */
  running?: SlicedExecution;
}
