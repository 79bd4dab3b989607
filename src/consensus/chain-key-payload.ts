/**
 * The chain-key payload step: answers the chain-key requests in flight (signatures and vetKD
 * encrypted keys), as the replica's consensus does when it builds the IDKG / vetKD part of a
 * block (rs/consensus/idkg/src/payload_builder/signatures.rs, rs/consensus/vetkd): each
 * signature request is matched with a pre-signature from its key's pool (made in the background
 * by the n-node protocol, consensus/idkg), every live node of the key's subnet makes its share,
 * t shares are combined and the result verified, and the response goes back to the caller in
 * the next round's execution. A request whose key has no pre-signature ready stays in flight.
 * Nothing here ever reconstructs a master secret: nodes only use their own shares, and
 * combination works on signature shares.
 *
 * vetKD keys stay on the single-replica path (n = 1: one node's share, t = 1): the n-node
 * protocol here is IDKG (secp256k1 / Ed25519); vetKD's NiDKG over BLS12-381 is not simulated.
 */
import { deriveVetKdPublicKey, fullDerivationPath } from '../crypto/derivation/index.ts';
import type { SecretShare } from '../crypto/threshold/key-transcript.ts';
import { combineEncryptedKeyShares, createEncryptedKeyShare } from '../crypto/threshold/vetkd-encrypted-key.ts';
import { deriveEncryptedKeysMcl } from '../crypto/threshold/vetkd-encrypted-key-mcl.ts';
import { readyMcl } from '../crypto/mcl.ts';
import { randomBytes } from 'node:crypto';
import { derivePathKey, type MasterKey } from '../state/master-keys.ts';
import type { ChainKeyResponse, ChainKeyResult, SignWithThresholdContext } from '../state/subnet-call-context-manager.ts';
import { invalidKeyIdInSignatureRequest, signatureRequestExpired, thresholdSigningFailed } from '../types/ic-error.ts';
import { publicPreSignature } from './idkg/pre-signature-record.ts';
import type { ThresholdNetwork } from './idkg/threshold-network.ts';
import type { VetKdWorker } from './vetkd-worker.ts';

/** Derived public keys kept per builder (oldest dropped first). */
const DERIVED_KEY_CACHE_ENTRIES = 10_000;

/** Builds answers for chain-key requests from the pre-signature pools and the vetKD shares. */
export class ChainKeyPayloadBuilder {
  readonly #keys: ReadonlyMap<string, MasterKey>;
  readonly #vetKdShares: (key: MasterKey) => SecretShare[];
  readonly #network: ThresholdNetwork;
  readonly #stalledTimeoutNanos: bigint;
  /** With a worker: vetKD requests by callback id, computing or answered (see {@link build}). */
  readonly #vetKdWorker: VetKdWorker | undefined;
  readonly #vetKdJobs = new Map<number, { done: false } | { done: true; result: ChainKeyResult }>();
  /** Derived keys by (key, caller, path or vetKD context): canisters use the same few again and again. */
  readonly #derived = new Map<string, { publicKey: Uint8Array; tweak: bigint }>();

  /**
   * @param keys master keys by key id text
   * @param vetKdShares every receiving node's share of a vetKD key's transcript (one node)
   * @param network the n-node protocol suite holding the ECDSA / Schnorr keys and their pools
   * @param stalledTimeoutNanos how long a signature request waits for a pre-signature while its
   *   subnet is stalled (f + 1 nodes down) before it is rejected
   * @param vetKdWorker computes vetKD answers off the main thread: a request is handed over when
   *   first seen and answered in the first round after its result arrived (absent: computed
   *   inline in the round that answers it, as with manual rounds)
   */
  constructor(keys: ReadonlyMap<string, MasterKey>, vetKdShares: (key: MasterKey) => SecretShare[], network: ThresholdNetwork, stalledTimeoutNanos: bigint, vetKdWorker?: VetKdWorker) {
    this.#vetKdWorker = vetKdWorker;
    this.#keys = keys;
    this.#vetKdShares = vetKdShares;
    this.#network = network;
    this.#stalledTimeoutNanos = stalledTimeoutNanos;
  }

  /**
   * Whether {@link build} would answer at least one of these contexts now; tells the protocol
   * suite how many requests wait for each key's pre-signatures.
   */
  canAnswer(contexts: readonly SignWithThresholdContext[], nowNanos: bigint): boolean {
    const available = new Map<string, number>();
    const waiting = new Map<string, number>();
    let any = false;
    for (const c of contexts) {
      if (this.#decision(c, nowNanos, available) !== 'wait') any = true;
      else waiting.set(c.keyId, (waiting.get(c.keyId) ?? 0) + 1);
    }
    for (const keyId of this.#keys.keys()) this.#network.noteDemand(keyId, waiting.get(keyId) ?? 0);
    return any;
  }

  /** Whether {@link build} would answer every one of these contexts now (notes demand too). */
  canAnswerAll(contexts: readonly SignWithThresholdContext[], nowNanos: bigint): boolean {
    const available = new Map<string, number>();
    const waiting = new Map<string, number>();
    for (const c of contexts) if (this.#decision(c, nowNanos, available) === 'wait') waiting.set(c.keyId, (waiting.get(c.keyId) ?? 0) + 1);
    for (const keyId of this.#keys.keys()) this.#network.noteDemand(keyId, waiting.get(keyId) ?? 0);
    return waiting.size === 0;
  }

  #decision(c: SignWithThresholdContext, nowNanos: bigint, available: Map<string, number>): 'answer' | 'expire' | 'wait' {
    const d = c.origin.deadlineNanos;
    if (d !== 0n && d <= nowNanos) return 'expire';
    if (!this.#keys.has(c.keyId)) return 'answer';
    if (c.args.kind === 'vetkd') return this.#vetKdWorker ? this.#vetKdProgress(c) : 'answer';
    const left = available.get(c.keyId) ?? this.#network.preSignatureCount(c.keyId);
    if (left > 0) {
      available.set(c.keyId, left - 1);
      return 'answer';
    }
    if (this.#network.stalled(c.keyId) && nowNanos - c.batchTimeNanos >= this.#stalledTimeoutNanos) return 'expire';
    return 'wait';
  }

  /**
   * Answers the contexts that can be answered (never throws; a failure becomes a reject for
   * that request); the others stay in flight.
   * @param nowNanos the block time: a best-effort call whose deadline passed gets no signature
   *   (its caller already saw the timeout; the answer is dropped like any late response)
   * @param budgetMillis wall-clock budget: at least one context is answered, then no more once
   *   it is spent (the rest stay in flight for the next round)
   */
  build(contexts: readonly SignWithThresholdContext[], nowNanos: bigint, budgetMillis = Infinity): ChainKeyResponse[] {
    const until = performance.now() + budgetMillis;
    const out: ChainKeyResponse[] = [];
    const waiting = new Map<string, number>();
    for (const context of contexts) {
      // Like a block's limit on signatures: what does not fit waits for the next round.
      if (out.length > 0 && performance.now() >= until) break;
      const decision = this.#decision(context, nowNanos, new Map());
      if (decision === 'wait') {
        waiting.set(context.keyId, (waiting.get(context.keyId) ?? 0) + 1);
        continue;
      }
      if (decision === 'expire') {
        this.#vetKdJobs.delete(context.callbackId);
        out.push({ context, result: { kind: 'reject', reject: signatureRequestExpired() } });
      }
      else out.push({ context, result: this.#answer(context) });
    }
    for (const keyId of this.#keys.keys()) this.#network.noteDemand(keyId, waiting.get(keyId) ?? 0);
    return out;
  }

  /** A vetKD request's state with the worker: handed over now if new; 'answer' once its result is in. */
  #vetKdProgress(c: SignWithThresholdContext): 'answer' | 'wait' {
    const job = this.#vetKdJobs.get(c.callbackId);
    if (job) return job.done ? 'answer' : 'wait';
    const key = this.#keys.get(c.keyId)!;
    const id = c.callbackId;
    this.#vetKdJobs.set(id, { done: false });
    const settle = (result: ChainKeyResult) => {
      if (this.#vetKdJobs.has(id)) this.#vetKdJobs.set(id, { done: true, result });
    };
    try {
      const args = c.args as Extract<SignWithThresholdContext['args'], { kind: 'vetkd' }>;
      const inputs = this.#vetKdInputs(c.keyId, key, c.origin.caller.toUint8Array(), args);
      this.#vetKdWorker!.encryptedKey(inputs, this.#vetKdShares(key), key.transcript.threshold).then(
        (bytes) => settle({ kind: 'signature', bytes }),
        (e: Error) => settle({ kind: 'reject', reject: thresholdSigningFailed(c.method, e.message) }),
      );
    } catch (e) {
      settle({ kind: 'reject', reject: thresholdSigningFailed(c.method, (e as Error).message) });
    }
    return 'wait';
  }

  #vetKdInputs(keyId: string, key: MasterKey, caller: Uint8Array, args: Extract<SignWithThresholdContext['args'], { kind: 'vetkd' }>) {
    const d = this.#cachedDerivation(`${keyId}|vetkd|${Buffer.from(caller).toString('hex')}|${Buffer.from(args.context).toString('hex')}`, () =>
      deriveVetKdPublicKey(key.publicKey, caller, args.context),
    );
    return { derivedPublicKey: d.publicKey, derivationTweak: d.tweak, input: args.input, transportPublicKey: args.transportPublicKey };
  }

  #answer(ctx: SignWithThresholdContext): ChainKeyResult {
    const job = this.#vetKdJobs.get(ctx.callbackId);
    if (job?.done) {
      this.#vetKdJobs.delete(ctx.callbackId);
      return job.result;
    }
    const key = this.#keys.get(ctx.keyId);
    // The key left the topology after the request was accepted (payload_builder: reject 4).
    if (!key) return { kind: 'reject', reject: invalidKeyIdInSignatureRequest(ctx.keyId) };
    try {
      return { kind: 'signature', bytes: this.#sign(ctx, key) };
    } catch (e) {
      return { kind: 'reject', reject: thresholdSigningFailed(ctx.method, (e as Error).message) };
    }
  }

  /** A derived key from the cache, or derived now and cached (oldest entry dropped when full). */
  #cachedDerivation(id: string, derive: () => { publicKey: Uint8Array; tweak: bigint }): { publicKey: Uint8Array; tweak: bigint } {
    let d = this.#derived.get(id);
    if (!d) {
      const full = derive();
      d = { publicKey: full.publicKey, tweak: full.tweak };
      if (this.#derived.size >= DERIVED_KEY_CACHE_ENTRIES) this.#derived.delete(this.#derived.keys().next().value!);
      this.#derived.set(id, d);
    }
    return d;
  }

  #sign(ctx: SignWithThresholdContext, key: MasterKey): Uint8Array {
    const caller = ctx.origin.caller.toUint8Array();
    const args = ctx.args;
    if (args.kind === 'vetkd') {
      const shares = this.#vetKdShares(key);
      const inputs = this.#vetKdInputs(ctx.keyId, key, caller, args);
      const t = key.transcript.threshold;
      // Step 1: each node encrypts its share of the derived key; step 2: t shares combine
      // (on mcl-wasm once it is loaded: the same bytes, ~10× faster; noble until then).
      const mcl = readyMcl();
      if (mcl) {
        const key = deriveEncryptedKeysMcl(mcl, [{ inputs, shares, threshold: t }])[0]!;
        if (key instanceof Error) throw key;
        return key;
      }
      const keyShares = shares.map((s) => createEncryptedKeyShare(inputs, s, new Uint8Array(randomBytes(64))));
      return combineEncryptedKeyShares(inputs, keyShares.slice(0, t));
    }
    const path = fullDerivationPath(caller, args.derivationPath);
    const id = `${ctx.keyId}|${path.map((e) => `${e.length}:${Buffer.from(e).toString('hex')}`).join('|')}`;
    const d = this.#cachedDerivation(id, () => derivePathKey(key, path));
    // Step 1: match the request with a pre-signature (erased from the store before use).
    const pre = this.#network.takePreSignature(ctx.keyId);
    if (!pre) throw new Error('no pre-signature available');
    if (pre.keyTranscriptId !== key.transcript.transcriptId) throw new Error(`pre-signature ${pre.preSignatureId} is for another key transcript`);
    const preSignature = publicPreSignature(pre);
    // Step 2: every live node's signature share; step 3: combine t of them and verify.
    if (args.kind === 'ecdsa') {
      if (pre.kind !== 'ecdsa') throw new Error('ECDSA request matched to a Schnorr pre-signature');
      return this.#network.sign(pre, { derivationTweak: d.tweak, derivedPublicKey: d.publicKey, messageHash: args.messageHash, randomness: ctx.pseudoRandomId }, preSignature);
    }
    if (pre.kind !== 'schnorr') throw new Error('Schnorr request matched to an ECDSA pre-signature');
    return this.#network.sign(
      pre,
      {
        derivationTweak: d.tweak,
        derivedPublicKey: d.publicKey,
        message: args.message,
        randomness: ctx.pseudoRandomId,
        ...(args.taprootMerkleRoot ? { taprootMerkleRoot: args.taprootMerkleRoot } : {}),
      },
      preSignature,
    );
  }
}
