/**
 * The chain-key payload step: answers the chain-key requests in flight (signatures and vetKD
 * encrypted keys), as the replica's consensus does when it builds the IDKG / vetKD part of a
 * block (rs/consensus/idkg/src/payload_builder/signatures.rs, rs/consensus/vetkd): each request is
 * matched with a pre-signature, every receiving node of the key transcript makes its share, t
 * shares are combined and the result verified, and the response goes back to the caller in the
 * next round's execution. Nothing here ever reconstructs a master secret: nodes only use their
 * own shares, and combination works on signature shares.
 *
 * The single-replica default has one node (n = 1, t = 1), so every step is the degenerate case
 * of the same code.
 */
import { deriveVetKdPublicKey, fullDerivationPath } from '../crypto/derivation/index.ts';
import { combineEcdsaSignatureShares, createEcdsaSignatureShare } from '../crypto/threshold/ecdsa-signing.ts';
import type { SecretShare } from '../crypto/threshold/key-transcript.ts';
import { combineSchnorrSignatureShares, createSchnorrSignatureShare } from '../crypto/threshold/schnorr-signing.ts';
import { combineEncryptedKeyShares, createEncryptedKeyShare } from '../crypto/threshold/vetkd-encrypted-key.ts';
import { randomBytes } from 'node:crypto';
import { derivePathKey, type MasterKey } from '../state/master-keys.ts';
import type { ChainKeyResponse, ChainKeyResult, SignWithThresholdContext } from '../state/subnet-call-context-manager.ts';
import { invalidKeyIdInSignatureRequest, signatureRequestExpired, thresholdSigningFailed } from '../types/ic-error.ts';
import { PreSignatureStash } from './pre-signature-stash.ts';

/** Derived public keys kept per builder (oldest dropped first). */
const DERIVED_KEY_CACHE_ENTRIES = 10_000;

/** Builds answers for chain-key requests from the master keys' shares and the pre-signature stash. */
export class ChainKeyPayloadBuilder {
  readonly #keys: ReadonlyMap<string, MasterKey>;
  readonly #shares: (key: MasterKey) => SecretShare[];
  readonly stash: PreSignatureStash;
  /** Derived keys by (key, caller, path): canisters sign with the same few paths again and again. */
  readonly #derived = new Map<string, { publicKey: Uint8Array; tweak: bigint }>();

  /**
   * @param keys master keys by key id text
   * @param shares every receiving node's share of a key's transcript (one per node)
   */
  constructor(keys: ReadonlyMap<string, MasterKey>, shares: (key: MasterKey) => SecretShare[]) {
    this.#keys = keys;
    this.#shares = shares;
    this.stash = new PreSignatureStash(shares);
  }

  /**
   * Answers each context (never throws; a failure becomes a reject for that request).
   * @param nowNanos the block time: a best-effort call whose deadline passed gets no signature
   *   (its caller already saw the timeout; the answer is dropped like any late response)
   * @param budgetMillis wall-clock budget: at least one context is answered, then no more once
   *   it is spent (the rest stay in flight for the next round)
   */
  build(contexts: readonly SignWithThresholdContext[], nowNanos: bigint, budgetMillis = Infinity): ChainKeyResponse[] {
    const until = performance.now() + budgetMillis;
    const out: ChainKeyResponse[] = [];
    for (const context of contexts) {
      // Like a block's limit on signatures: what does not fit waits for the next round.
      if (out.length > 0 && performance.now() >= until) break;
      const d = context.origin.deadlineNanos;
      if (d !== 0n && d <= nowNanos) out.push({ context, result: { kind: 'reject', reject: signatureRequestExpired() } });
      else out.push({ context, result: this.#answer(context) });
    }
    return out;
  }

  /** Refills the pre-signature stash (run between rounds). @returns pre-signatures made */
  topUpPreSignatures(): number {
    return this.stash.topUp(this.#keys);
  }

  #answer(ctx: SignWithThresholdContext): ChainKeyResult {
    const key = this.#keys.get(ctx.keyId);
    // The key left the topology after the request was accepted (payload_builder: reject 4).
    if (!key) return { kind: 'reject', reject: invalidKeyIdInSignatureRequest(ctx.keyId) };
    try {
      return { kind: 'signature', bytes: this.#sign(ctx, key) };
    } catch (e) {
      return { kind: 'reject', reject: thresholdSigningFailed(ctx.method, (e as Error).message) };
    }
  }

  #sign(ctx: SignWithThresholdContext, key: MasterKey): Uint8Array {
    const caller = ctx.origin.caller.toUint8Array();
    const shares = this.#shares(key);
    const args = ctx.args;
    if (args.kind === 'vetkd') {
      const d = deriveVetKdPublicKey(key.publicKey, caller, args.context);
      const inputs = { derivedPublicKey: d.publicKey, derivationTweak: d.tweak, input: args.input, transportPublicKey: args.transportPublicKey };
      // Step 1: each node encrypts its share of the derived key; step 2: t shares combine.
      const keyShares = shares.map((s) => createEncryptedKeyShare(inputs, s, new Uint8Array(randomBytes(64))));
      return combineEncryptedKeyShares(inputs, keyShares.slice(0, key.transcript.threshold));
    }
    const path = fullDerivationPath(caller, args.derivationPath);
    const derive = (): { publicKey: Uint8Array; tweak: bigint } => {
      const id = `${ctx.keyId}|${path.map((e) => `${e.length}:${Buffer.from(e).toString('hex')}`).join('|')}`;
      let d = this.#derived.get(id);
      if (!d) {
        const full = derivePathKey(key, path);
        d = { publicKey: full.publicKey, tweak: full.tweak };
        if (this.#derived.size >= DERIVED_KEY_CACHE_ENTRIES) this.#derived.delete(this.#derived.keys().next().value!);
        this.#derived.set(id, d);
      }
      return d;
    };
    const pre = this.stash.take(key);
    if (pre.keyTranscriptId !== key.transcript.transcriptId) throw new Error(`pre-signature ${pre.preSignatureId} is for another key transcript`);
    if (args.kind === 'ecdsa') {
      if (pre.kind !== 'ecdsa') throw new Error('ECDSA request matched to a Schnorr pre-signature');
      const d = derive();
      const inputs = { preSignature: pre, derivationTweak: d.tweak, derivedPublicKey: d.publicKey, messageHash: args.messageHash, randomness: ctx.pseudoRandomId };
      // Step 1: every node's signature share from its quadruple shares; step 2: combine t of them.
      const sigShares = pre.shares.map((s) => createEcdsaSignatureShare(inputs, s));
      return combineEcdsaSignatureShares(inputs, sigShares.slice(0, key.transcript.threshold));
    }
    if (pre.kind !== 'schnorr') throw new Error('Schnorr request matched to an ECDSA pre-signature');
    const d = derive();
    const inputs = {
      preSignature: pre,
      derivationTweak: d.tweak,
      derivedPublicKey: d.publicKey,
      message: args.message,
      randomness: ctx.pseudoRandomId,
      ...(args.taprootMerkleRoot ? { taprootMerkleRoot: args.taprootMerkleRoot } : {}),
    };
    const sigShares = pre.shares.map((b) => {
      const keyShare = shares.find((s) => s.receiver === b.receiver);
      if (!keyShare) throw new Error(`no key share of node ${b.receiver}`);
      return createSchnorrSignatureShare(inputs, keyShare, b);
    });
    return combineSchnorrSignatureShares(inputs, sigShares.slice(0, key.transcript.threshold));
  }
}
