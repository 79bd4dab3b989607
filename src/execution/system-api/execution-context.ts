/**
 * What one execution of canister code may observe (the replica's `ApiType` payload plus the
 * sandbox-safe system state): installed in a canister's System API before each execution and read
 * by the `ic0` functions of ic0-table.ts. Cycles are bigint cycles; times are nanoseconds.
 */
import type { Principal } from '@icp-sdk/core/principal';
import type { ThresholdMethod } from '../../types/threshold-method.ts';
import type { ApiType } from './api-type.ts';
import type { SystemStateChanges } from './system-state-changes.ts';

/** Everything one execution of canister code may observe. Cycles are bigint cycles; times nanoseconds. */
export interface ExecutionContext {
  apiType: ApiType;
  canisterId: Principal;
  subnetId: Principal;
  /** Nodes in the canister's subnet (fees scale with it). */
  subnetSize: number;
  caller: Principal;
  /** The message argument (reply data in a reply callback). */
  arg: Uint8Array;
  /** The method name (inspect message). */
  methodName: string;
  timeNanos: bigint;
  /** The canister's balance when the execution starts. */
  balance: bigint;
  /** Cycles the call context still has available to accept. */
  cyclesAvailable: bigint;
  /** Cycles refunded by the callee (callbacks). */
  cyclesRefunded: bigint;
  /** Reject code and message (reject callback); code 0 in a reply callback. */
  rejectCode: number;
  rejectMessage: string;
  /** Whether the call context has already been responded to (before this execution). */
  responded: boolean;
  controllers: readonly Principal[];
  /** 1 running, 2 stopping, 3 stopped (`ic0.canister_status`). */
  status: 1 | 2 | 3;
  version: bigint;
  /** DER-encoded BLS root public key (133 bytes). */
  rootKeyDer: Uint8Array;
  /** The data certificate, non-replicated queries only. */
  dataCertificate?: Uint8Array;
  /** `ic0.msg_deadline`: 0 for guaranteed-response calls. */
  deadlineNanos: bigint;
  environmentVariables: readonly { name: string; value: string }[];
  /** Cycles the canister must keep (freezing threshold); the liquid balance is above this. */
  frozenReserveCycles: bigint;
  /**
   * The canister's `wasm_memory_limit` setting (bytes; 0 = none): an update, init or
   * post_upgrade that grows the Wasm memory past it fails (IC0539); other executions ignore it.
   */
  wasmMemoryLimit?: bigint;
  /**
   * The canister log's capacity (`log_memory_limit`) and what is free in it before this
   * execution, bytes: `debug_print` and `trap` pay per byte logged by these (ic0-row.ts
   * `Ic0Cost.logged`). Absent: 4096 and all of it.
   */
  logCapacityBytes?: number;
  logRemainingBytes?: number;
  /**
   * Calls this canister has made to `callee` and not yet had answered (open callbacks): with the
   * ones performed in this execution they fill the output queue to that callee (see
   * `OUTPUT_QUEUE_CAPACITY` in ic0-calls.ts). Absent: no calls outstanding.
   */
  outstandingCallsTo?(callee: Principal): number;
  /**
   * What `call_perform` withdraws besides the attached cycles for a request of
   * `methodAndPayloadBytes` (and what `ic0.cost_call` reports): transmission, the
   * response-transmission and response-execution reservations (0 on free or system subnets).
   */
  callCost(methodAndPayloadBytes: bigint): { total: bigint };
  /** `create_canister`'s fee on this subnet (`ic0.cost_create_canister`; 0 on free or system subnets). */
  canisterCreationFee: bigint;
  /**
   * Fee of a chain-key request by this canister for a key id text (`ecdsa:Secp256k1:key_1`), in
   * cycles, or undefined when no subnet holds the key (`ic0.cost_sign_with_*`).
   */
  thresholdFee(method: ThresholdMethod, keyId: string): bigint | undefined;
  /**
   * What an HTTPS outcall from this canister's subnet costs (`ic0.cost_http_request`, and what
   * `http_request` then charges), cycles; 0 on system subnets and on the free cost schedule.
   */
  httpRequestCost(requestBytes: bigint, maxResponseBytes: bigint): bigint;
  /** Collected effects. */
  changes: SystemStateChanges;
}

/** Host services the System API needs besides the context. */
export interface SystemApiHost {
  /** `ic0.debug_print` output; `replicated` for executions whose effects are kept (canister logs). */
  debugPrint(canisterId: Principal, text: string, replicated?: boolean): void;
}
