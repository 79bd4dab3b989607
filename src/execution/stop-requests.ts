/**
 * `stop_canister` deferral (interface spec §"IC method `stop_canister`"): a canister with open call
 * contexts goes to `stopping` and the stop call is answered only once the last context closes
 * (then the canister is `stopped`), or rejected when `start_canister` runs first (IC0511).
 */
import { Principal } from '@icp-sdk/core/principal';
import type { CanisterState } from '../state/canister-state.ts';
import { stopRequestCancelled } from '../types/ic-error.ts';
import type { CallOrigin } from './call-context.ts';
import type { ExecutionCore } from './execution-core.ts';
import type { ExecutionState, StopRequest } from './execution-state.ts';
import type { MessageDelivery, Response } from './message-delivery.ts';

/** `()` in Candid: the reply to a stop_canister call. */
const EMPTY_CANDID = new Uint8Array([0x44, 0x49, 0x44, 0x4c, 0x00, 0x00]);

/** Pending stop calls of each canister; see the module comment. */
export class StopRequests {
  readonly #core: ExecutionCore;
  readonly #out: MessageDelivery;

  constructor(core: ExecutionCore, out: MessageDelivery) {
    this.#core = core;
    this.#out = out;
  }

  /**
   * Keeps a stop call until `target` stops. An ingress message shows as `processing` meanwhile.
   * @param payment cycles attached by a calling canister, returned with the answer
   */
  defer(target: CanisterState, origin: CallOrigin, payment: bigint): void {
    const es = this.#core.state(target);
    if (origin.kind === 'ingress') es.stopRequests.push({ kind: 'ingress', requestId: origin.requestId });
    else if (origin.kind === 'canister') {
      const { caller, callbackId, deadlineNanos } = origin;
      es.stopRequests.push({ kind: 'canister', caller, callbackId, deadlineNanos, payment });
    }
    this.#core.touch(target);
    if (origin.kind === 'ingress') this.#out.ingressProcessing(origin.requestId);
  }

  /** A stopping canister without open call contexts becomes `stopped`, and its stop calls are answered. */
  maybeStopped(c: CanisterState, es: ExecutionState): void {
    if (c.status !== 'stopping' || es.callContexts.hasOpenContexts) return;
    c.status = 'stopped';
    this.#core.touch(c);
    const waiting = es.stopRequests;
    es.stopRequests = [];
    for (const s of waiting) this.#answer(s, { kind: 'reply', data: EMPTY_CANDID });
  }

  /** `start_canister` ran: pending stop calls are rejected (IC0511). */
  cancel(c: CanisterState): void {
    const es = this.#core.state(c);
    const waiting = es.stopRequests;
    es.stopRequests = [];
    this.#core.touch(c);
    for (const s of waiting) this.#answer(s, { kind: 'error', error: stopRequestCancelled(c.canisterId, s.kind === 'canister') });
  }

  #answer(s: StopRequest, response: Response): void {
    const management = Principal.managementCanister();
    if (s.kind === 'ingress') this.#out.deliver({ kind: 'ingress', requestId: s.requestId, sender: management }, management, response, 0n);
    else this.#out.deliver({ kind: 'canister', caller: s.caller, callbackId: s.callbackId, deadlineNanos: s.deadlineNanos }, management, response, s.payment);
  }
}
