/**
 * What a management canister method sees: the call (caller, payment, time) and the environment
 * (replicated state, routing table, store, randomness). Shared by every handler.
 */
import type { Principal } from '@icp-sdk/core/principal';
import type { RoutingTable } from '../routing/routing-table.ts';
import type { Subnet } from '../routing/topology.ts';
import type { ReplicatedState } from '../state/replicated-state.ts';
import type { StateStore } from '../store/state-store.ts';

/** The replica-side services a management method may use. */
export interface ManagementEnv {
  state: ReplicatedState;
  routing: RoutingTable;
  store: StateStore;
  /** Cryptographically random bytes (raw_rand). */
  randomBytes(n: number): Uint8Array;
}

/** One call to `aaaaa-aa`. */
export interface ManagementCall {
  /** The sender: a user (ingress) or a canister. */
  caller: Principal;
  /** True for inter-canister calls, false for ingress. */
  callerIsCanister: boolean;
  /** The calling canister's subnet (inter-canister calls only). */
  callerSubnet?: Subnet;
  /** Wire name of the method, e.g. `canister_status`. */
  method: string;
  /** Candid-encoded argument. */
  arg: Uint8Array;
  /** Cycles attached to the call (always 0 for ingress). */
  payment: bigint;
  /** Time of the round, nanoseconds since the epoch. */
  nowNanos: bigint;
  /** The effective canister id of an ingress message (spec §"Effective canister id"). */
  effectiveCanisterId?: Principal;
}

/** A successful management call: the Candid reply and the cycles to give back to the caller. */
export interface ManagementReply {
  reply: Uint8Array;
  /** Cycles refunded to the caller (≤ payment). */
  refund: bigint;
}
