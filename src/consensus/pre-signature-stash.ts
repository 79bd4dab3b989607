/**
 * The pre-signature stash: pre-signatures made ahead of requests, per key id (the replica's IDKG
 * "available pre-signatures", rs/consensus/idkg). Signing takes one per request; after each round
 * the replica tops the stash up in the background, so a signature does not wait for one to be
 * made. Only ECDSA and Schnorr keys use pre-signatures (vetKD needs none).
 *
 * The single-replica default deals the degenerate 1-of-1 pre-signatures
 * (crypto/threshold/pre-signature.ts). The stash lives in memory: after a restart it refills,
 * which loses nothing (unused pre-signatures carry no commitments to anyone).
 */
import { randomBytes } from 'node:crypto';
import type { SecretShare } from '../crypto/threshold/key-transcript.ts';
import { dealSingleNodeEcdsaPreSignature, dealSingleNodeSchnorrPreSignature, type PreSignature } from '../crypto/threshold/pre-signature.ts';
import { KeyAlgorithm } from '../types/key-id.ts';
import type { MasterKey } from '../state/master-keys.ts';

/** Pre-signatures kept ready per key once the key has been used. */
export const PRE_SIGNATURE_STASH_TARGET = 5;

/** In-memory pre-signatures by key transcript id. */
export class PreSignatureStash {
  readonly #stash = new Map<string, PreSignature[]>();
  readonly #shares: (key: MasterKey) => SecretShare[];
  #nextId = 0;

  /** @param shares the nodes' shares of a key's transcript */
  constructor(shares: (key: MasterKey) => SecretShare[]) {
    this.#shares = shares;
  }

  /** Pre-signatures ready for a key's current transcript. */
  size(key: MasterKey): number {
    return this.#stash.get(key.transcript.transcriptId)?.length ?? 0;
  }

  /**
   * Takes a pre-signature for the key's current transcript: from the stash, or made now if it is
   * empty; from then on the stash keeps that transcript topped up.
   * @throws Error if none can be made (no share of the transcript)
   */
  take(key: MasterKey): PreSignature {
    const id = key.transcript.transcriptId;
    const ready = this.#stash.get(id)?.shift();
    if (ready) return ready;
    const made = this.#deal(key);
    if (!this.#stash.has(id)) this.#stash.set(id, []);
    return made;
  }

  /**
   * Tops up the stash of every key used so far to {@link PRE_SIGNATURE_STASH_TARGET}.
   * @returns the number of pre-signatures made
   */
  topUp(keys: ReadonlyMap<string, MasterKey>): number {
    let made = 0;
    const byTranscript = new Map([...keys.values()].map((k) => [k.transcript.transcriptId, k]));
    for (const [transcriptId, list] of this.#stash) {
      const key = byTranscript.get(transcriptId);
      if (!key) continue;
      while (list.length < PRE_SIGNATURE_STASH_TARGET) {
        list.push(this.#deal(key));
        made++;
      }
    }
    return made;
  }

  #deal(key: MasterKey): PreSignature {
    const id = `${key.transcript.transcriptId}/pre-signature/${this.#nextId++}`;
    const shares = this.#shares(key);
    if (key.keyId.algorithm === KeyAlgorithm.ecdsaSecp256k1) {
      return dealSingleNodeEcdsaPreSignature(id, key.transcript, shares, new Uint8Array(randomBytes(128)));
    }
    if (key.keyId.algorithm === KeyAlgorithm.vetkdBls12381G2) throw new Error('vetKD keys take no pre-signatures');
    return dealSingleNodeSchnorrPreSignature(id, key.transcript, shares, new Uint8Array(randomBytes(64)));
  }
}
