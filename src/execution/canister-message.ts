/**
 * Messages between canisters (interface spec §"Abstract behavior": requests and responses in
 * canister queues). A request carries the caller's callback id so the response can find it; a
 * response carries the refund of the cycles the callee did not accept.
 */
import type { Principal } from '@icp-sdk/core/principal';

/** A call from one canister to another (or to `aaaaa-aa`). */
export interface CanisterRequest {
  kind: 'request';
  sender: Principal;
  receiver: Principal;
  method: string;
  arg: Uint8Array;
  /** Cycles attached, already taken from the sender's balance. */
  payment: bigint;
  /** The sender's callback id for the response. */
  senderCallbackId: number;
  /** Best-effort deadline, nanoseconds since the epoch; 0n for a guaranteed-response call. */
  deadlineNanos: bigint;
}

/** What a response carries: reply data, or a reject code and message. */
export type ResponsePayload =
  | { kind: 'reply'; data: Uint8Array }
  | { kind: 'reject'; code: number; message: string };

/** The answer to a {@link CanisterRequest}. */
export interface CanisterResponse {
  kind: 'response';
  /** The canister that made the call (receives this response). */
  originator: Principal;
  respondent: Principal;
  originatorCallbackId: number;
  /** Cycles given back to the originator. */
  refund: bigint;
  payload: ResponsePayload;
  deadlineNanos: bigint;
}

/** A message in a canister queue. */
export type CanisterMessage = CanisterRequest | CanisterResponse;
