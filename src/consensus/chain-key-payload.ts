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
 * With a signing worker (consensus/signing-worker.ts), a signature request of a single-node key
 * is handed over when first seen — its pre-signature taken then, and erased only in the round
 * that answers it — and answered in the first round after its signature arrived, like vetKD
 * requests with the vetKD worker. Without one (manual rounds, n > 1) it is signed inline.
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
import type { EcdsaSigningInputs } from '../crypto/threshold/ecdsa-signing.ts';
import type { SchnorrSigningInputs } from '../crypto/threshold/schnorr-signing.ts';
import { publicPreSignature, type PreSignatureEntry } from './idkg/pre-signature-record.ts';
import type { SingleNodeSigningJob } from './idkg/single-node-signing.ts';
import type { ThresholdNetwork } from './idkg/threshold-network.ts';
import type { VetKdWorker } from './vetkd-worker.ts';

/** Signs single-node jobs elsewhere (consensus/signing-worker.ts). */
export interface ThresholdSigner {
  /** Whether it takes jobs now. */
  available(): boolean;
  /** Starts a job; `done` gets the 64-byte signature or the error text (later, never inside this call). */
  sign(job: SingleNodeSigningJob, done: (r: { ok: true; bytes: Uint8Array } | { ok: false; message: string }) => void): void;
  /** Takes the results that have arrived, now (their `done` callbacks run). */
  collect(): void;
}

/** A request handed to a worker: computing, or answered; with the pre-signature it took. */
type Job = ({ done: false } | { done: true; result: ChainKeyResult }) & { pre?: PreSignatureEntry };

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
  readonly #signer: ThresholdSigner | undefined;
  /** Requests handed to a worker (vetKD, or signatures of single-node keys), by callback id. */
  readonly #jobs = new Map<number, Job>();
  #handedOver = 0;
  #computing = 0;
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
   * @param signer signs requests of single-node keys off the main thread, the same way (absent:
   *   inline)
   */
  constructor(
    keys: ReadonlyMap<string, MasterKey>,
    vetKdShares: (key: MasterKey) => SecretShare[],
    network: ThresholdNetwork,
    stalledTimeoutNanos: bigint,
    vetKdWorker?: VetKdWorker,
    signer?: ThresholdSigner,
  ) {
    this.#vetKdWorker = vetKdWorker;
    this.#signer = signer;
    this.#keys = keys;
    this.#vetKdShares = vetKdShares;
    this.#network = network;
    this.#stalledTimeoutNanos = stalledTimeoutNanos;
  }

  /** Signature requests handed to the signer so far, and how many of them it is still computing. */
  get offThread(): { handedOver: number; computing: number } {
    return { handedOver: this.#handedOver, computing: this.#computing };
  }

  /**
   * Answers the requests whose signatures the signer has finished (taken from it now), and
   * nothing else: a round calls this after executing its messages, so signatures made meanwhile
   * are answered in it.
   */
  buildFinished(contexts: readonly SignWithThresholdContext[]): ChainKeyResponse[] {
    if (this.#computing === 0 || !this.#signer) return [];
    this.#signer.collect();
    const out: ChainKeyResponse[] = [];
    for (const context of contexts) if (this.#jobs.get(context.callbackId)?.done) out.push({ context, result: this.#answer(context) });
    return out;
  }

  /**
   * Whether {@link build} would answer at least one of these contexts now; tells the protocol
   * suite how many requests wait for each key's pre-signatures, and hands requests the signer
   * can take over to it.
   */
  canAnswer(contexts: readonly SignWithThresholdContext[], nowNanos: bigint): boolean {
    return this.#survey(contexts, nowNanos).answerable > 0;
  }

  /** Whether {@link build} would answer every one of these contexts now (notes demand and hands over too). */
  canAnswerAll(contexts: readonly SignWithThresholdContext[], nowNanos: bigint): boolean {
    return this.#survey(contexts, nowNanos).pending === 0;
  }

  /**
   * Hands the requests the signer can take over to it now (a round's new requests, at its end,
   * so their signatures are made while the round commits); notes demand as {@link canAnswer}.
   */
  handOver(contexts: readonly SignWithThresholdContext[], nowNanos: bigint): void {
    this.#survey(contexts, nowNanos);
  }

  /**
   * Decides every context (handing over what the signer can take) and notes each key's waiting
   * requests with the protocol suite.
   * @returns how many a round would answer or expire now, and how many wait or are being signed
   */
  #survey(contexts: readonly SignWithThresholdContext[], nowNanos: bigint): { answerable: number; pending: number } {
    const available = new Map<string, number>();
    const waiting = new Map<string, number>();
    const handOver = this.#mayHandOver(contexts);
    let answerable = 0;
    for (const c of contexts) {
      const d = this.#decision(c, nowNanos, available, handOver);
      if (d === 'wait') waiting.set(c.keyId, (waiting.get(c.keyId) ?? 0) + 1);
      if (d === 'answer' || d === 'expire') answerable++;
    }
    for (const keyId of this.#keys.keys()) this.#network.noteDemand(keyId, waiting.get(keyId) ?? 0);
    return { answerable, pending: contexts.length - answerable };
  }

  /**
   * What a round does with a request: answer it, expire it, let it wait for a pre-signature, or
   * leave it with the worker computing it ('working', handed over now if new).
   */
  #decision(c: SignWithThresholdContext, nowNanos: bigint, available: Map<string, number>, handOver: boolean): 'answer' | 'expire' | 'wait' | 'working' {
    const d = c.origin.deadlineNanos;
    if (d !== 0n && d <= nowNanos) return 'expire';
    if (!this.#keys.has(c.keyId)) return 'answer';
    if (c.args.kind === 'vetkd') return this.#vetKdWorker ? this.#vetKdProgress(c) : 'answer';
    const job = this.#jobs.get(c.callbackId);
    if (job) return job.done ? 'answer' : 'working';
    const left = available.get(c.keyId) ?? this.#network.preSignatureCount(c.keyId);
    if (left > 0) {
      available.set(c.keyId, left - 1);
      const signer = this.#signer;
      if (handOver && signer && this.#network.signsAlone(c.keyId) && signer.available()) {
        this.#handOver(c, signer);
        return 'working';
      }
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
    this.#signer?.collect();
    const until = performance.now() + budgetMillis;
    const handOver = this.#mayHandOver(contexts);
    const out: ChainKeyResponse[] = [];
    const waiting = new Map<string, number>();
    for (const context of contexts) {
      // Like a block's limit on signatures: what does not fit waits for the next round.
      if (out.length > 0 && performance.now() >= until) break;
      const decision = this.#decision(context, nowNanos, new Map(), handOver);
      if (decision === 'working') continue;
      if (decision === 'wait') {
        waiting.set(context.keyId, (waiting.get(context.keyId) ?? 0) + 1);
        continue;
      }
      if (decision === 'expire') {
        this.#endJob(context.callbackId);
        out.push({ context, result: { kind: 'reject', reject: signatureRequestExpired() } });
      }
      else out.push({ context, result: this.#answer(context) });
    }
    for (const keyId of this.#keys.keys()) this.#network.noteDemand(keyId, waiting.get(keyId) ?? 0);
    return out;
  }

  /**
   * Whether new signature requests go to the signer now: while it is computing, or when at
   * least two wait to be handed over. A lone request with the signer idle is signed in the
   * answering round instead (~0.3 ms here, less than the two thread hand-offs it would wait
   * for: the c1 latency).
   */
  #mayHandOver(contexts: readonly SignWithThresholdContext[]): boolean {
    if (!this.#signer) return false;
    if (this.#computing > 0) return true;
    let fresh = 0;
    for (const c of contexts) {
      if (c.args.kind !== 'vetkd' && !this.#jobs.has(c.callbackId) && this.#network.signsAlone(c.keyId) && ++fresh >= 2) return true;
    }
    return false;
  }

  /** Forgets a request's job; the pre-signature it took is erased with this round's commit. */
  #endJob(callbackId: number): Job | undefined {
    const job = this.#jobs.get(callbackId);
    if (!job) return undefined;
    this.#jobs.delete(callbackId);
    if (job.pre) this.#network.erasePreSignature(job.pre);
    return job;
  }

  /**
   * Hands a signature request of a single-node key to the signer: takes its pre-signature now
   * (erased only when the answer is committed) and records the answer when it arrives.
   */
  #handOver(c: SignWithThresholdContext, signer: ThresholdSigner): void {
    const id = c.callbackId;
    const job: Job = { done: false };
    this.#jobs.set(id, job);
    this.#handedOver++;
    this.#computing++;
    const settle = (result: ChainKeyResult) => {
      this.#computing--;
      if (this.#jobs.get(id) === job) this.#jobs.set(id, { done: true, result, ...(job.pre ? { pre: job.pre } : {}) });
    };
    try {
      const { pre, inputs } = this.#signingInputs(c, this.#keys.get(c.keyId)!, true);
      job.pre = pre;
      signer.sign(this.#network.singleNodeSigningJob(pre, inputs), (r) =>
        settle(r.ok ? { kind: 'signature', bytes: r.bytes } : { kind: 'reject', reject: thresholdSigningFailed(c.method, r.message) }),
      );
    } catch (e) {
      settle({ kind: 'reject', reject: thresholdSigningFailed(c.method, (e as Error).message) });
    }
  }

  /** A vetKD request's state with the worker: handed over now if new; 'answer' once its result is in. */
  #vetKdProgress(c: SignWithThresholdContext): 'answer' | 'working' {
    const job = this.#jobs.get(c.callbackId);
    if (job) return job.done ? 'answer' : 'working';
    const key = this.#keys.get(c.keyId)!;
    const id = c.callbackId;
    this.#jobs.set(id, { done: false });
    const settle = (result: ChainKeyResult) => {
      if (this.#jobs.has(id)) this.#jobs.set(id, { done: true, result });
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
    return 'working';
  }

  #vetKdInputs(keyId: string, key: MasterKey, caller: Uint8Array, args: Extract<SignWithThresholdContext['args'], { kind: 'vetkd' }>) {
    const d = this.#cachedDerivation(`${keyId}|vetkd|${Buffer.from(caller).toString('hex')}|${Buffer.from(args.context).toString('hex')}`, () =>
      deriveVetKdPublicKey(key.publicKey, caller, args.context),
    );
    return { derivedPublicKey: d.publicKey, derivationTweak: d.tweak, input: args.input, transportPublicKey: args.transportPublicKey };
  }

  #answer(ctx: SignWithThresholdContext): ChainKeyResult {
    if (this.#jobs.get(ctx.callbackId)?.done) {
      const job = this.#endJob(ctx.callbackId)!;
      if (job.done) return job.result;
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
    // Step 2: every live node's signature share; step 3: combine t of them and verify.
    const { pre, inputs } = this.#signingInputs(ctx, key, false);
    return this.#network.sign(pre, inputs, inputs.preSignature);
  }

  /**
   * Step 1 of signing: the derived key, and a pre-signature matched with the request (taken from
   * its pool; erased with this round's commit, or with the answer's if `eraseLater`).
   * @throws Error if no pre-signature is ready or it does not fit the request
   */
  #signingInputs(ctx: SignWithThresholdContext, key: MasterKey, eraseLater: boolean): { pre: PreSignatureEntry; inputs: EcdsaSigningInputs | SchnorrSigningInputs } {
    const args = ctx.args;
    if (args.kind === 'vetkd') throw new Error('vetKD requests take no pre-signature');
    const path = fullDerivationPath(ctx.origin.caller.toUint8Array(), args.derivationPath);
    const id = `${ctx.keyId}|${path.map((e) => `${e.length}:${Buffer.from(e).toString('hex')}`).join('|')}`;
    const d = this.#cachedDerivation(id, () => derivePathKey(key, path));
    const pre = this.#network.takePreSignature(ctx.keyId, { eraseLater });
    if (!pre) throw new Error('no pre-signature available');
    try {
      return { pre, inputs: this.#inputsFor(ctx, key, pre, d) };
    } catch (e) {
      if (eraseLater) this.#network.erasePreSignature(pre);
      throw e;
    }
  }

  #inputsFor(ctx: SignWithThresholdContext, key: MasterKey, pre: PreSignatureEntry, d: { publicKey: Uint8Array; tweak: bigint }): EcdsaSigningInputs | SchnorrSigningInputs {
    const args = ctx.args;
    if (args.kind === 'vetkd') throw new Error('vetKD requests take no pre-signature');
    if (pre.keyTranscriptId !== key.transcript.transcriptId) throw new Error(`pre-signature ${pre.preSignatureId} is for another key transcript`);
    const preSignature = publicPreSignature(pre);
    if (args.kind === 'ecdsa') {
      if (pre.kind !== 'ecdsa' || preSignature.kind !== 'ecdsa') throw new Error('ECDSA request matched to a Schnorr pre-signature');
      return { preSignature, derivationTweak: d.tweak, derivedPublicKey: d.publicKey, messageHash: args.messageHash, randomness: ctx.pseudoRandomId };
    }
    if (pre.kind !== 'schnorr' || preSignature.kind !== 'schnorr') throw new Error('Schnorr request matched to an ECDSA pre-signature');
    return {
      preSignature,
      derivationTweak: d.tweak,
      derivedPublicKey: d.publicKey,
      message: args.message,
      randomness: ctx.pseudoRandomId,
      ...(args.taprootMerkleRoot ? { taprootMerkleRoot: args.taprootMerkleRoot } : {}),
    };
  }
}
