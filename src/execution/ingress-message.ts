/**
 * An ingress message (spec §"Request: Call"): an authenticated user's update call, inducted into the
 * replicated state and executed in a round.
 */
import type { Principal } from '@icp-sdk/core/principal';

/** A validated call request ready for induction. */
export interface IngressMessage {
  /** 32-byte request id (spec §"Request ids"). */
  requestId: Uint8Array;
  sender: Principal;
  /** The called canister (`aaaaa-aa` for the management canister). */
  canisterId: Principal;
  methodName: string;
  /** Candid argument bytes. */
  arg: Uint8Array;
  /** `ingress_expiry`, nanoseconds since the epoch. */
  expiryNanos: bigint;
  /** The effective canister id from the URL (spec §"Effective canister id"). */
  effectiveCanisterId: Principal;
  /**
   * Size of the whole signed envelope (the raw CBOR HTTP body), bytes: the ingress fee is per byte
   * of it (dfinity/ic PR #6759). Absent (PocketIC's unsigned messages): method name + argument.
   */
  envelopeBytes?: number;
}
