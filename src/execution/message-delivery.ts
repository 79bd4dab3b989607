/**
 * Messages out of canisters and the management canister (interface spec §"Abstract behavior"):
 * the queue of requests and responses between canisters (kept across rounds and persisted with
 * the round), responses to call contexts, and the ingress history entries of users' calls. A
 * response goes to whoever waits for it: the ingress history for a user, the queue for a canister.
 */
import type { Principal } from '@icp-sdk/core/principal';
import type { CanisterState } from '../state/canister-state.ts';
import type { IngressRecord } from '../store/ingress-repository.ts';
import { ErrorCode, errorCodeText, type IcError, type RejectContext } from '../types/ic-error.ts';
import type { CallContext, CallOrigin } from './call-context.ts';
import type { CanisterMessage, CanisterRequest, ResponsePayload } from './canister-message.ts';
import type { ExecutionCore } from './execution-core.ts';
import type { MessageOutcome } from './message-outcome.ts';

/**
 * A failure as a reject payload: canister callers see `ICxxxx: ` before the text (UserError
 * Display) unless the error is a bare reject context.
 */
export function rejectPayloadOf(e: IcError, toCanister: boolean): ResponsePayload {
  return { kind: 'reject', code: e.rejectCode, message: toCanister && !e.bareToCanisters ? `${errorCodeText(e.code)}: ${e.message}` : e.message };
}

/** A failure as an ingress (or query) outcome. */
export function rejected(e: IcError): MessageOutcome {
  return { kind: 'rejected', rejectCode: e.rejectCode, rejectMessage: e.message, errorCode: errorCodeText(e.code) };
}

/**
 * A response to a call: reply data, an error (reject code, error code and text from the IcError),
 * or a plain reject context (chain-key answers: canisters only, no error code).
 */
export type Response = { kind: 'reply'; data: Uint8Array } | { kind: 'error'; error: IcError } | { kind: 'reject'; reject: RejectContext };

function payloadOf(response: Response): ResponsePayload {
  if (response.kind === 'reply') return { kind: 'reply', data: response.data };
  if (response.kind === 'error') return rejectPayloadOf(response.error, true);
  return { kind: 'reject', code: response.reject.code, message: response.reject.message };
}

function outcomeOf(response: Response): MessageOutcome {
  if (response.kind === 'reply') return { kind: 'replied', reply: response.data };
  if (response.kind === 'error') return rejected(response.error);
  return { kind: 'rejected', rejectCode: response.reject.code, rejectMessage: response.reject.message, errorCode: errorCodeText(ErrorCode.CanisterRejectedMessage) };
}

/** The canister queue, responses and ingress history writes; see the module comment. */
export class MessageDelivery {
  readonly #core: ExecutionCore;
  #queue: CanisterMessage[];
  #queueDirty = false;

  constructor(core: ExecutionCore) {
    this.#core = core;
    this.#queue = core.deps.store.execution.loadQueue();
  }

  /** Number of queued messages. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Appends a message to the canister queue. */
  enqueue(m: CanisterMessage): void {
    this.#queue.push(m);
    this.#queueDirty = true;
  }

  /** The queued messages, oldest first (read only). */
  get messages(): readonly CanisterMessage[] {
    return this.#queue;
  }

  /** Puts messages back at the front of the queue, in their order (their canister was busy). */
  requeueFront(ms: readonly CanisterMessage[]): void {
    if (ms.length === 0) return;
    this.#queue.unshift(...ms);
    this.#queueDirty = true;
  }

  /** Takes the oldest queued message. */
  dequeue(): CanisterMessage | undefined {
    const m = this.#queue.shift();
    if (m) this.#queueDirty = true;
    return m;
  }

  /** Answers a canister request without running its receiver (routing rejects), refunding its payment. */
  rejectRequest(req: CanisterRequest, e: IcError): void {
    this.enqueue({
      kind: 'response',
      originator: req.sender,
      respondent: req.receiver,
      originatorCallbackId: req.senderCallbackId,
      refund: req.payment,
      payload: rejectPayloadOf(e, true),
      deadlineNanos: req.deadlineNanos,
    });
  }

  /** Responds to a call context: the refund is whatever it still has available. */
  respond(c: CanisterState, cc: CallContext, response: Response): void {
    cc.responded = true;
    const refund = cc.availableCycles;
    cc.availableCycles = 0n;
    this.deliver(cc.origin, c.canisterId, response, refund);
  }

  /** Sends a response to whoever is waiting for it: the ingress history or the calling canister. */
  deliver(origin: CallOrigin, respondent: Principal, response: Response, refund: bigint): void {
    if (origin.kind === 'ingress') {
      this.ingressDone(origin.requestId, outcomeOf(response));
    } else if (origin.kind === 'canister') {
      this.enqueue({
        kind: 'response',
        originator: origin.caller,
        respondent,
        originatorCallbackId: origin.callbackId,
        refund,
        payload: payloadOf(response),
        deadlineNanos: origin.deadlineNanos,
      });
    }
  }

  /** Records the outcome of an ingress message (a no-op when it is not in the history). */
  ingressDone(requestId: Uint8Array, outcome: MessageOutcome): void {
    const state = this.#core.deps.state;
    const prev = state.ingress(requestId);
    if (!prev) return;
    const base: IngressRecord = {
      requestId: prev.requestId,
      sender: prev.sender,
      canisterId: prev.canisterId,
      methodName: prev.methodName,
      expiryNanos: prev.expiryNanos,
      updatedNanos: this.#core.time,
      status: 'replied',
    };
    state.putIngress(
      outcome.kind === 'replied'
        ? { ...base, status: 'replied', reply: outcome.reply }
        : { ...base, status: 'rejected', rejectCode: outcome.rejectCode, rejectMessage: outcome.rejectMessage, errorCode: outcome.errorCode },
    );
  }

  /** Marks a received ingress message as `processing` (its call context is still open). */
  ingressProcessing(requestId: Uint8Array): void {
    const state = this.#core.deps.state;
    const prev = state.ingress(requestId);
    if (prev && prev.status === 'received') state.putIngress({ ...prev, status: 'processing', updatedNanos: this.#core.time });
  }

  /** Writes the queue if it changed; call inside the round's transaction. */
  writeChanges(): void {
    if (this.#queueDirty) this.#core.deps.store.execution.saveQueue(this.#queue);
  }

  /** Forgets the dirty mark after a successful commit. */
  clearChanges(): void {
    this.#queueDirty = false;
  }
}
