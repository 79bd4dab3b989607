/**
 * Signing and pre-signature dealing of a single-node key (n = 1, t = 1: the replica's default
 * topology) as plain data, so another thread can do the work (consensus/signing-worker.ts): a
 * signing job carries the public inputs and the one node's shares of the pre-signature (bigints
 * and bytes only: structured clone copies them exactly, and no lazy transcript travels), and a
 * dealt pre-signature carries its public record and the node's openings. The formulas are the
 * ones the n-node path uses (crypto/threshold ecdsa-signing.ts, schnorr-signing.ts: one share,
 * combined and verified), so a worker's signature is the one the main thread would make.
 */
import { combineEcdsaSignatureShares, createEcdsaSignatureShare, type EcdsaSigningInputs } from '../../crypto/threshold/ecdsa-signing.ts';
import type { IdkgCurve } from '../../crypto/threshold/idkg/group.ts';
import type { Opening } from '../../crypto/threshold/idkg/polynomial.ts';
import type { KeyTranscript, SecretShare } from '../../crypto/threshold/key-transcript.ts';
import type { EcdsaQuadrupleShare, SchnorrBlinderShare } from '../../crypto/threshold/pre-signature.ts';
import { combineSchnorrSignatureShares, createSchnorrSignatureShare, type SchnorrSigningInputs } from '../../crypto/threshold/schnorr-signing.ts';
import type { Transcript } from '../../crypto/threshold/idkg/transcript.ts';
import type { KeyKind } from './key-lifecycle.ts';
import type { IdkgNode } from './node.ts';
import { signingTranscripts, type PreSignatureEntry, type PreSignatureRecord } from './pre-signature-record.ts';

/** One signature's work: the public inputs and the single node's shares. */
export type SingleNodeSigningJob =
  | { kind: 'ecdsa'; inputs: EcdsaSigningInputs; share: EcdsaQuadrupleShare }
  | { kind: 'schnorr'; inputs: SchnorrSigningInputs; keyShare: SecretShare; blinderShare: SchnorrBlinderShare };

/**
 * The signature of a job: the node's signature share, "combined" (t = 1) and verified under the
 * derived key. ECDSA: r ‖ s (64 bytes, low-s); BIP340: R.x ‖ s; Ed25519: R ‖ s (64 bytes).
 * @throws Error if the signature does not verify (wrong shares for the pre-signature) or the
 *   inputs are malformed (hash length, r = 0)
 */
export function signSingleNode(job: SingleNodeSigningJob): Uint8Array {
  if (job.kind === 'ecdsa') return combineEcdsaSignatureShares(job.inputs, [createEcdsaSignatureShare(job.inputs, job.share)]);
  return combineSchnorrSignatureShares(job.inputs, [createSchnorrSignatureShare(job.inputs, job.keyShare, job.blinderShare)]);
}

/** What a dealer needs to make pre-signatures of a single-node key: its transcript and the node's share. */
export interface SingleNodeKeyMaterial {
  keyId: string;
  kind: KeyKind;
  curve: IdkgCurve;
  /** The holding subnet's name (node ids are `<subnet>/0`). */
  subnet: string;
  transcript: KeyTranscript;
  /** The node's share of the key transcript. */
  share: Opening;
}

/**
 * A pre-signature dealt elsewhere: its public record and the node's openings of its signing
 * transcripts, in {@link signingTranscripts} order (ECDSA λ, κ·λ, x·λ; Schnorr the blinder).
 */
export interface DealtPreSignature {
  record: PreSignatureRecord;
  openings: Opening[];
}

/** Makes pre-signatures of single-node keys somewhere else than the calling thread. */
export interface PreSignatureDealer {
  /** Whether it takes orders now (e.g. its thread is up); may start it (then false until ready). */
  available(): boolean;
  /** Asks for `count` more pre-signatures of a key; they arrive through the replica's wiring. */
  order(key: SingleNodeKeyMaterial, count: number): void;
}

/** Copies a byte array that may be a view into a larger buffer (structured clone copies the whole buffer). */
export const ownBytes = (b: Uint8Array): Uint8Array => (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : b.slice());

/**
 * The signing job of a taken pre-signature of a single-node key: the node's shares, read from
 * the node (which then forgets them, as after signing on this thread).
 * @param node the subnet's one node
 * @param key the key's current transcript (Schnorr signs with the node's key share)
 * @throws Error if the node lacks a share or the pre-signature is for another key transcript
 */
export function singleNodeSigningJob(
  node: IdkgNode,
  key: Transcript | undefined,
  e: PreSignatureEntry,
  inputs: EcdsaSigningInputs | SchnorrSigningInputs,
): SingleNodeSigningJob {
  const need = (t: Transcript): Opening => {
    const o = node.share(t);
    if (!o) throw new Error(`${node.id} has no share of ${t.transcriptId}`);
    return o;
  };
  try {
    if (!key || key.transcriptId !== e.keyTranscriptId) throw new Error(`pre-signature ${e.preSignatureId} is for another key transcript`);
    if (e.kind === 'ecdsa') {
      const [l, kk, kx] = [need(e.transcripts.lambda), need(e.transcripts.kappaTimesLambda), need(e.transcripts.keyTimesLambda)];
      const share: EcdsaQuadrupleShare = { receiver: 0, lambda: l.value, kappaTimesLambda: kk.value, keyTimesLambda: kx.value };
      if (l.mask !== undefined && kk.mask !== undefined && kx.mask !== undefined) share.masks = { lambda: l.mask, kappaTimesLambda: kk.mask, keyTimesLambda: kx.mask };
      return { kind: 'ecdsa', inputs: plainEcdsaInputs(inputs as EcdsaSigningInputs), share };
    }
    const k = need(key);
    const b = need(e.transcripts.blinder);
    return { kind: 'schnorr', inputs: plainSchnorrInputs(inputs as SchnorrSigningInputs), keyShare: { transcriptId: key.transcriptId, receiver: 0, value: k.value }, blinderShare: { receiver: 0, blinder: b.value } };
  } finally {
    for (const t of signingTranscripts(e)) node.forget(t, false);
  }
}

function plainEcdsaInputs(i: EcdsaSigningInputs): EcdsaSigningInputs {
  const p = i.preSignature;
  return {
    preSignature: { kind: 'ecdsa', preSignatureId: p.preSignatureId, keyTranscriptId: p.keyTranscriptId, kappaCommitment: ownBytes(p.kappaCommitment) },
    derivationTweak: i.derivationTweak,
    derivedPublicKey: ownBytes(i.derivedPublicKey),
    messageHash: ownBytes(i.messageHash),
    randomness: ownBytes(i.randomness),
  };
}

function plainSchnorrInputs(i: SchnorrSigningInputs): SchnorrSigningInputs {
  const p = i.preSignature;
  return {
    preSignature: { kind: 'schnorr', curve: p.curve, preSignatureId: p.preSignatureId, keyTranscriptId: p.keyTranscriptId, blinderCommitment: ownBytes(p.blinderCommitment) },
    derivationTweak: i.derivationTweak,
    derivedPublicKey: ownBytes(i.derivedPublicKey),
    message: ownBytes(i.message),
    randomness: ownBytes(i.randomness),
    ...(i.taprootMerkleRoot ? { taprootMerkleRoot: ownBytes(i.taprootMerkleRoot) } : {}),
  };
}
