/**
 * Chain-key requests accepted by the management canister and not yet answered: the replica's
 * `SubnetCallContextManager` (`sign_with_threshold_contexts`) in the subnet's replicated state.
 * Execution pushes a context once the request has passed routing, validation, the fee and the
 * per-key queue limit; the chain-key payload step (consensus/) answers it in a later round.
 * Contexts are written to the store in the round that changes them.
 */
import { Principal } from '@icp-sdk/core/principal';
import type { StateStore } from '../store/state-store.ts';
import type { RejectContext } from '../types/ic-error.ts';
import type { ThresholdMethod } from '../types/threshold-method.ts';

/** Where the answer goes: the calling canister's callback. */
export interface ThresholdRequestOrigin {
  /** The calling canister. */
  caller: Principal;
  callbackId: number;
  /** Best-effort deadline of the call, nanoseconds (0: guaranteed response). */
  deadlineNanos: bigint;
}

/** The validated arguments of a chain-key request. */
export type ThresholdArgs =
  | { kind: 'ecdsa'; messageHash: Uint8Array; derivationPath: Uint8Array[] }
  | { kind: 'schnorr'; message: Uint8Array; derivationPath: Uint8Array[]; taprootMerkleRoot?: Uint8Array }
  | { kind: 'vetkd'; input: Uint8Array; context: Uint8Array; transportPublicKey: Uint8Array };


/** A request waiting for its signature / encrypted key. */
export interface SignWithThresholdContext {
  /** Unique while the context lives; increasing in arrival order. */
  callbackId: number;
  method: ThresholdMethod;
  /** Key id text, e.g. `ecdsa:Secp256k1:test_key_1`. */
  keyId: string;
  args: ThresholdArgs;
  origin: ThresholdRequestOrigin;
  /** Cycles left after the fee, refunded with the answer. */
  refundCycles: bigint;
  /** The fee charged at acceptance (absent in contexts stored before it was recorded). */
  feeCycles?: bigint;
  /** Time of the round that accepted it, nanoseconds. */
  batchTimeNanos: bigint;
  /** 32 bytes of randomness fixed at acceptance (the replica's pseudo-random id). */
  pseudoRandomId: Uint8Array;
}

/** The answer to one request: the raw signature / encrypted key, or a reject (canisters only). */
export type ChainKeyResult = { kind: 'signature'; bytes: Uint8Array } | { kind: 'reject'; reject: RejectContext };

/** One answered request (built by consensus/, delivered by execution/). */
export interface ChainKeyResponse {
  context: SignWithThresholdContext;
  result: ChainKeyResult;
}

/** The contexts of the replica's subnets (a key lives on one subnet, so keying by key id suffices). */
export class SubnetCallContextManager {
  readonly #contexts = new Map<number, SignWithThresholdContext>();
  #nextCallbackId = 0;
  readonly #dirty = new Set<number>();
  /** Contexts accepted in the current round (answered from the next round on). */
  readonly #acceptedThisRound = new Set<number>();

  /** Loads the stored contexts. */
  static load(store: StateStore): SubnetCallContextManager {
    const m = new SubnetCallContextManager();
    for (const c of store.subnetCallContexts.loadAll() as SignWithThresholdContext[]) {
      // State dirs written before principals were kept in memory hold the caller as text.
      const caller = c.origin.caller as Principal | string;
      if (typeof caller === 'string') c.origin = { ...c.origin, caller: Principal.fromText(caller) };
      m.#contexts.set(c.callbackId, c);
      m.#nextCallbackId = Math.max(m.#nextCallbackId, c.callbackId + 1);
    }
    return m;
  }

  /** Requests in flight for a key (what the queue limit counts). */
  countForKey(keyId: string): number {
    let n = 0;
    for (const c of this.#contexts.values()) if (c.keyId === keyId) n++;
    return n;
  }

  /** Number of requests in flight. */
  get size(): number {
    return this.#contexts.size;
  }

  /** Adds a context; returns it with its callback id. */
  push(c: Omit<SignWithThresholdContext, 'callbackId'>): SignWithThresholdContext {
    const ctx = { ...c, callbackId: this.#nextCallbackId++ };
    this.#contexts.set(ctx.callbackId, ctx);
    this.#dirty.add(ctx.callbackId);
    this.#acceptedThisRound.add(ctx.callbackId);
    return ctx;
  }

  /**
   * Contexts accepted in earlier rounds (of this process, or stored before a restart), oldest
   * first: what the next block answers. Independent of the clock, so a clock step cannot stall them.
   */
  answerable(): SignWithThresholdContext[] {
    return [...this.#contexts.values()].filter((c) => !this.#acceptedThisRound.has(c.callbackId));
  }

  /** Marks the end of a round: what it accepted becomes answerable. */
  endRound(): void {
    this.#acceptedThisRound.clear();
  }

  /** Removes an answered context. */
  remove(callbackId: number): void {
    if (this.#contexts.delete(callbackId)) this.#dirty.add(callbackId);
  }

  /** Writes the changed contexts (inside the round's transaction). */
  writeChanges(store: StateStore): void {
    for (const id of this.#dirty) {
      const c = this.#contexts.get(id);
      if (c) store.subnetCallContexts.put(id, c.keyId, c);
      else store.subnetCallContexts.remove(id);
    }
  }

  /** Forgets the dirty marks after a successful commit. */
  clearChanges(): void {
    this.#dirty.clear();
  }
}
